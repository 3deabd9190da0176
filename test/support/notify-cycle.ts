import type { RunningServer } from '../../src/app/serve.ts';
import type { Clock } from '../../src/lib/clock.ts';
import { applyBouncerActivity } from '../../src/store/bouncers.ts';

// Driving an in-process `vigil serve` whose health is evaluated by hand (evaluate_every 0) on a manual clock.

/**
 * `pull('web', 'fw')`: each named bouncer pulled now, written straight to the store as the activity
 * recorder would. `ids` maps names to bouncer ids and is read at each call (tests fill it in beforeAll).
 */
export function bouncerPulls(server: () => RunningServer, ids: Record<string, number>, clock: Clock): (...names: string[]) => Promise<void> {
  return async (...names) => {
    await applyBouncerActivity(
      server().store,
      names.map((n) => ({ id: ids[n]!, lastPullAt: clock.now() })),
      clock.now(),
    );
  };
}

/**
 * One health evaluation, then the notifications it planned delivered; returns the evaluation.
 * `flushActivity` writes the pulls recorded over HTTP first, so the evaluation sees them.
 */
export async function evaluateAndNotify(server: RunningServer, opts: { flushActivity?: boolean } = {}) {
  if (opts.flushActivity) await server.activity.flush();
  const r = await server.health.evaluateNow();
  await server.notifications.flush();
  return r;
}
