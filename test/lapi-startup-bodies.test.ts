import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, freshDbUrl } from './support/databases.ts';
import { requestFrom } from './support/http-from.ts';
import { startServer, createLogger, type RunningServer } from '../src/app/serve.ts';
import { loadConfig } from '../src/config/config.ts';
import { ManualClock } from '../src/lib/clock.ts';
import { hashApiKey } from '../src/core/bouncers/api-key.ts';
import { manualAlert } from '../src/decisions/new-decisions.ts';
import type { NewDecision } from '../src/store/decisions.ts';
import { createBouncer } from '../src/store/bouncers.ts';
import { addDecisions, softDeleteDecisions } from '../src/store/decisions.ts';

/**
 * Startup streams share one body per store revision and filters (src/decisions/startup-bodies.ts):
 * over real HTTP, concurrent startups get the same bytes, a new revision is seen at once, and time
 * moving on moves what expired from `new` to `deleted` as a fresh computation would.
 */
const T0 = Date.UTC(2026, 11, 7, 12, 0, 0);
/** Above the 2,000 decisions sent in one write: the chunked path. */
const COUNT = 5_000;
const KEYS = Array.from({ length: 6 }, (_, i) => `startup-bodies-key-${i}-0123456789abcdef`);

type Wire = { duration: string; id: number; value: string; scope: string };
type Body = { deleted: Wire[] | null; new: Wire[] | null };

for (const dialect of DIALECTS) {
  describe(`${dialect}: shared startup bodies over HTTP`, () => {
    let server: RunningServer;
    let cleanup: () => Promise<void>;
    const clock = new ManualClock(T0);
    const startup = (key: string, query = 'startup=true') =>
      requestFrom(`${server.url}/v1/decisions/stream?${query}`, {
        headers: { 'X-Api-Key': key, 'User-Agent': 'crowdsec-firewall-bouncer/v0.0.31' },
        timeoutMs: 60_000,
      });
    let firstIds: number[] = [];

    beforeAll(async () => {
      const db = await freshDbUrl(dialect);
      cleanup = db.cleanup;
      const config = loadConfig({ flags: { listen: '127.0.0.1:0', db: db.url, metricsListen: '127.0.0.1:0' }, env: {}, cwd: '/nonexistent' });
      server = await startServer(config, { clock, log: createLogger('silent') });
      for (const [i, key] of KEYS.entries()) await createBouncer(server.store, { name: `fw-${i}`, apiKeyHash: hashApiKey(key), now: T0 });
      const decisions: NewDecision[] = [];
      for (let i = 0; i < COUNT; i++) {
        // Two expiries (an import shares one); every tenth also has a shorter twin that dedup drops.
        const until = T0 + (i % 2 === 0 ? 60_000 : 3600_000);
        const value = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
        decisions.push({ origin: 'lists', type: 'ban', scope: 'Ip', value, scenario: 'blocklist', createdAt: T0, until, simulated: false });
        if (i % 10 === 0)
          decisions.push({ origin: 'lists', type: 'ban', scope: 'Ip', value, scenario: 'blocklist', createdAt: T0, until: T0 + 30_000, simulated: false });
      }
      const { decisionIds } = await addDecisions(
        server.store,
        manualAlert({ now: T0, scenario: 'blocklist', scope: 'Ip', value: '10.0.0.0', count: decisions.length, machineId: 'test' }),
        decisions,
      );
      firstIds = decisionIds;
      await server.sync.refresh();
    }, 120_000);
    afterAll(async () => {
      await server?.close();
      await cleanup?.();
    });

    it('sends the same bytes to bouncers starting at once, the longest decision per value only', async () => {
      const answers = await Promise.all(KEYS.map((k) => startup(k)));
      for (const a of answers) expect(a.status).toBe(200);
      expect(new Set(answers.map((a) => a.text)).size).toBe(1);
      const body = JSON.parse(answers[0]!.text) as Body;
      expect(body.deleted).toBeNull();
      expect(body.new).toHaveLength(COUNT);
      // Ordered by until, then id: the one-minute decisions first.
      expect(body.new![0]).toMatchObject({ duration: '1m0s', value: '10.0.0.0' });
      expect(body.new![COUNT - 1]!.duration).toBe('1h0m0s');
    }, 120_000);

    it('is rebuilt for a new revision: a deletion is seen by the next startup', async () => {
      clock.set(T0 + 1_000);
      // The first decision of value 10.0.0.1 (i = 1): soft-deleted, so it expires now.
      const target = firstIds[2]!;
      await softDeleteDecisions(server.store, [target], clock.now());
      const body = JSON.parse((await startup(KEYS[0]!)).text) as Body;
      expect(body.deleted?.map((d) => d.id)).toEqual([target]);
      expect(body.deleted![0]!.duration).toBe('0s');
      expect(body.new).toHaveLength(COUNT - 1);
      expect(body.new!.some((d) => d.id === target)).toBe(false);
    }, 120_000);

    it('moves what expired since it was built from new to deleted, at the same revision', async () => {
      // 40 s: the 30 s twins expired (dedup still drops them: a longer one of their value exists).
      clock.set(T0 + 40_000);
      const before = JSON.parse((await startup(KEYS[1]!)).text) as Body;
      expect(before.deleted).toHaveLength(1);
      expect(before.new).toHaveLength(COUNT - 1);
      // Past the one-minute decisions: half of them are deleted now, with negative durations.
      clock.set(T0 + 61_500);
      const after = JSON.parse((await startup(KEYS[2]!)).text) as Body;
      expect(after.deleted).toHaveLength(1 + COUNT / 2);
      expect(after.deleted![1]).toMatchObject({ duration: '-1.5s' });
      expect(after.new).toHaveLength(COUNT / 2 - 1);
      expect(after.new![0]!.duration).toBe('58m58.5s');
    }, 120_000);

    it('keeps filters apart: a bouncer asking for other scopes gets its own body', async () => {
      const none = await startup(KEYS[3]!, 'startup=true&scopes=range');
      expect(JSON.parse(none.text)).toEqual({ deleted: null, new: null });
      const all = JSON.parse((await startup(KEYS[4]!, 'startup=true&dedup=false')).text) as Body;
      // Without dedup the expired twins are sent too.
      expect(all.deleted!.length).toBeGreaterThan(COUNT / 2 + 1);
    }, 120_000);
  });
}
