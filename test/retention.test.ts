import { beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from './support/databases.ts';
import { useInProcessServer } from './support/in-process-server.ts';
import { requestFrom } from './support/http-from.ts';
import { ManualClock } from '../src/lib/clock.ts';
import { hashApiKey } from '../src/core/bouncers/api-key.ts';
import { buildDecision, manualAlert } from '../src/decisions/new-decisions.ts';
import { createBouncer } from '../src/store/bouncers.ts';
import { addDecisions } from '../src/store/decisions.ts';
import { retentionRowCounts } from '../src/store/retention.ts';

/**
 * Retention in a running `vigil serve` over real HTTP, time moved by hand: an expiry reaches the
 * bouncers that pulled before it (delta) and startup streams within `flush.max_age`, and after
 * that the purge deletes the row (docs/retention.md).
 */
const T0 = Date.UTC(2026, 11, 1, 4, 0, 0);
const HOUR = 3600_000;
const DAY = 24 * HOUR;
const KEY = 'c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6';

for (const dialect of DIALECTS) {
  describe(`${dialect}: retention in vigil serve`, () => {
    const clock = new ManualClock(T0);
    const server = useInProcessServer(dialect, clock, (config) => {
      expect(config.flush).toMatchObject({ maxAgeMs: 7 * DAY, maxItems: 5000 });
    });
    const auth = { 'X-Api-Key': KEY, 'User-Agent': 'crowdsec-custom-bouncer/v0.0.15' };

    beforeAll(async () => {
      await createBouncer(server().store, { name: 'custom', apiKeyHash: hashApiKey(KEY), now: T0 });
      for (const [value, duration] of [
        ['192.0.2.4', '4h'],
        ['192.0.2.10', '10d'],
      ] as const) {
        const d = buildDecision({ scope: 'Ip', value, type: 'ban', duration, reason: 'test', origin: 'cscli' }, T0);
        await addDecisions(server().store, manualAlert({ now: T0, scenario: 'test', scope: 'Ip', value, count: 1, machineId: 'vigil' }), [d]);
      }
      await server().sync.refresh();
    });

    const stream = async (startup: boolean) => {
      const r = await requestFrom(`${server().url}/v1/decisions/stream?startup=${startup}`, { headers: auth });
      expect(r.status).toBe(200);
      const body = JSON.parse(r.text) as { new: Array<{ value: string }> | null; deleted: Array<{ value: string }> | null };
      return { new: (body.new ?? []).map((d) => d.value), deleted: (body.deleted ?? []).map((d) => d.value) };
    };

    it('a bouncer that pulled before an expiry gets it under deleted in its next delta', async () => {
      clock.set(T0 + 1000);
      expect(await stream(true)).toEqual({ new: ['192.0.2.4', '192.0.2.10'], deleted: [] });
      clock.set(T0 + 4 * HOUR + 10_000);
      expect(await stream(false)).toEqual({ new: [], deleted: ['192.0.2.4'] });
    });

    it('a startup stream sends the expiry while it is within flush.max_age, and not after, purged or not', async () => {
      clock.set(T0 + 4 * HOUR + 7 * DAY - 60_000);
      expect((await stream(true)).deleted).toEqual(['192.0.2.4']);
      // One minute past the window: not sent, even before the purge has run.
      clock.set(T0 + 4 * HOUR + 7 * DAY + 60_000);
      expect(await stream(true)).toEqual({ new: ['192.0.2.10'], deleted: [] });
    });

    it('the purge then deletes the expired decision and its alert, and keeps the active one', async () => {
      expect(await retentionRowCounts(server().store)).toMatchObject({ decisions: 2, alerts: 2 });
      const outcome = await server().retention.runOnce();
      expect(outcome?.deleted).toMatchObject({ decisions: 1, alerts: 1 });
      expect(await retentionRowCounts(server().store)).toMatchObject({ decisions: 1, alerts: 1 });
      expect(await stream(true)).toEqual({ new: ['192.0.2.10'], deleted: [] });
      // The live answer is unchanged: the active decision is still served.
      const live = await requestFrom(`${server().url}/v1/decisions?ip=192.0.2.10`, { headers: auth });
      expect(JSON.parse(live.text)).toHaveLength(1);
    });
  });
}
