import { afterAll } from 'vitest';
import { createLogger, type RunningServer, startServer } from '../../src/app/serve.ts';
import { loadConfig, type VigilConfig } from '../../src/config/config.ts';
import type { Clock } from '../../src/lib/clock.ts';
import { loadNotificationsConfig, type NotificationsFileSection } from '../../src/notify/config.ts';
import { applyBouncerActivity } from '../../src/store/bouncers.ts';
import { freshDbUrl, type TestDialect } from './databases.ts';
import { useInProcessServer } from './in-process-server.ts';

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

/**
 * useInProcessServer notifying a receiver the describe starts first (an HTTP receiver, an
 * Alertmanager): `notifications` is vigil.yaml's section pointing at it, `env` the `${VAR}`s that
 * section reads. The receiver is stopped after the server; error logs are formatted, then dropped.
 *
 *   const { server, receiver: hook } = useNotifyingServer(dialect, clock, {
 *     start: () => startHttpReceiver(), stop: (r) => r.close(),
 *     notifications: (r) => ({ channels: { hook: { type: 'webhook', url: r.url } } }),
 *   });
 */
export function useNotifyingServer<R>(
  dialect: TestDialect,
  clock: Clock,
  opts: {
    start: () => Promise<R>;
    stop: (receiver: R) => Promise<void>;
    notifications: (receiver: R) => NotificationsFileSection;
    env?: (receiver: R) => Record<string, string>;
    /** Anything else the test sets on the server's configuration. */
    configure?: (config: VigilConfig) => void;
  },
): { server: () => RunningServer; receiver: () => R } {
  let started: R | undefined;
  const receiver = () => {
    if (started === undefined) throw new Error('the receiver is not started: call useNotifyingServer inside describe()');
    return started;
  };
  afterAll(async () => {
    if (started !== undefined) await opts.stop(started);
  });
  const server = useInProcessServer(
    dialect,
    clock,
    async (config) => {
      started = await opts.start();
      config.notifications = loadNotificationsConfig(opts.notifications(started), null);
      opts.configure?.(config);
    },
    () => ({ log: createLogger('error', () => {}), env: opts.env?.(receiver()) ?? {} }),
  );
  return { server, receiver };
}

/**
 * An in-process `vigil serve` on a fresh database of `dialect`, health evaluated by hand, notifying
 * as vigil.yaml's `section` says (its `${VAR}`s read from `env`); its log lines kept in `logs`.
 * The caller closes the server, then calls `cleanup` (the database); `dbUrl` is for the CLI.
 */
export async function startNotifyingServer(dialect: TestDialect, clock: Clock, section: NotificationsFileSection, env: NodeJS.ProcessEnv = {}) {
  const db = await freshDbUrl(dialect);
  const config = loadConfig({ flags: { listen: '127.0.0.1:0', db: db.url, metricsListen: 'off' }, env: {}, cwd: '/nonexistent' });
  config.health.evaluateEveryMs = 0;
  config.notifications = loadNotificationsConfig(section, null);
  const logs: string[] = [];
  const server = await startServer(config, { clock, log: createLogger('info', (s) => logs.push(s)), env });
  return { server, logs, dbUrl: db.url, cleanup: db.cleanup };
}
