import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, freshDbUrl } from './support/databases.ts';
import { requestFrom } from './support/http-from.ts';
import { startServer, createLogger, type RunningServer } from '../src/app/serve.ts';
import { loadConfig } from '../src/config/config.ts';
import { ManualClock } from '../src/lib/clock.ts';
import { hashApiKey } from '../src/core/bouncers/api-key.ts';
import { buildDecision, manualAlert } from '../src/decisions/new-decisions.ts';
import { createBouncer } from '../src/store/bouncers.ts';
import { addDecisions } from '../src/store/decisions.ts';

/** 1.6/1.7 details of the decision routes (docs/reference/crowdsec-1.6-1.7.md §0, §4.1, §4.3) over real HTTP. */
const T0 = Date.UTC(2026, 10, 24, 4, 18, 0);
const KEY = '11112222333344445555666677778888';

for (const dialect of DIALECTS) {
  describe(`${dialect}: Local API 1.7 details`, () => {
    let server: RunningServer;
    let cleanup: () => Promise<void>;
    const clock = new ManualClock(T0);
    const add = async (value: string, duration: string, origin: string) => {
      const d = buildDecision({ scope: 'Ip', value, type: 'ban', duration, reason: 'r', origin }, clock.now());
      await addDecisions(server.store, manualAlert({ now: clock.now(), scenario: 'r', scope: d.scope, value: d.value, count: 1, machineId: 'm' }), [d]);
    };
    const stream = async (query: string) => {
      const r = await requestFrom(`${server.url}/v1/decisions/stream${query}`, {
        headers: { 'X-Api-Key': KEY, 'User-Agent': 'crowdsec-firewall-bouncer/v0.0.34' },
      });
      expect(r.status).toBe(200);
      const b = JSON.parse(r.text) as { new: Array<{ value: string; origin: string; duration: string }> | null; deleted: Array<{ value: string }> | null };
      return { new: (b.new ?? []).map((d) => `${d.value} ${d.origin} ${d.duration}`).sort(), deleted: (b.deleted ?? []).map((d) => d.value).sort() };
    };

    beforeAll(async () => {
      const db = await freshDbUrl(dialect);
      cleanup = db.cleanup;
      const config = loadConfig({ flags: { listen: '127.0.0.1:0', db: db.url, metricsListen: 'off', adminListen: 'off' }, env: {}, cwd: '/nonexistent' });
      server = await startServer(config, { clock, log: createLogger('silent') });
      await createBouncer(server.store, { name: 'fw', apiKeyHash: hashApiKey(KEY), now: T0 });
      await add('192.0.2.1', '1h', 'cscli');
      await add('192.0.2.1', '4h', 'CAPI');
      await add('192.0.2.2', '2h', 'crowdsec');
      await server.sync.refresh();
    });
    afterAll(async () => {
      await server?.close();
      await cleanup?.();
    });

    it('ignores the CAPI parameters newer Go bouncers send (community_pull, additional_pull)', async () => {
      const r = await requestFrom(
        `${server.url}/v1/decisions/stream?startup=true&community_pull=false&additional_pull=false&origins=crowdsec%2Ccscli&scopes=ip%2Crange%2Cas%2Ccountry`,
        { headers: { 'X-Api-Key': KEY } },
      );
      expect(r.status).toBe(200);
      // Dedup first, origins after: 192.0.2.1's longest is CAPI's, so an origins=crowdsec,cscli bouncer gets nothing for it (#2014).
      expect((JSON.parse(r.text).new as Array<{ value: string }>).map((d) => d.value)).toEqual(['192.0.2.2']);
      const live = await requestFrom(`${server.url}/v1/decisions?ip=192.0.2.2&community_pull=false&additional_pull=false`, { headers: { 'X-Api-Key': KEY } });
      expect(live.status).toBe(200);
      expect(JSON.parse(live.text)).toHaveLength(1);
    });

    it('sends only the longest decision per (value, type, scope) by default; dedup=false sends all', async () => {
      expect((await stream('?startup=true')).new).toEqual(['192.0.2.1 CAPI 4h0m0s', '192.0.2.2 crowdsec 2h0m0s']);
      expect((await stream('?startup=true&dedup=false')).new).toEqual(['192.0.2.1 CAPI 4h0m0s', '192.0.2.1 cscli 1h0m0s', '192.0.2.2 crowdsec 2h0m0s']);
      // A delta: a shorter decision for a value with a longer one is not sent, nor its expiry while the longer one lasts.
      clock.advance(1000);
      await add('192.0.2.2', '30m', 'cscli');
      expect((await stream('')).new).toEqual([]);
      clock.advance(31 * 60_000);
      expect(await stream('')).toEqual({ new: [], deleted: [] });
      // With dedup=false the same delta history is sent in full.
      clock.advance(1000);
      await add('192.0.2.2', '10m', 'cscli');
      expect((await stream('?dedup=false')).new).toEqual(['192.0.2.2 cscli 10m0s']);
    });

    it('GET /health answers {"status":"up"}', async () => {
      const r = await requestFrom(`${server.url}/health`);
      expect([r.status, r.text]).toEqual([200, '{"status":"up"}']);
    });
  });
}
