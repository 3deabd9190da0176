import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from './support/databases.ts';
import { useInProcessServer } from './support/in-process-server.ts';
import { usageReport } from './support/usage-report.ts';
import { ManualClock } from '../src/lib/clock.ts';
import { hashApiKey } from '../src/core/bouncers/api-key.ts';
import { createBouncer, deleteBouncers, getBouncer } from '../src/store/bouncers.ts';
import { latestUsageMetrics, usageMetricsReceivedAt } from '../src/store/usage-metrics.ts';

/**
 * POST /v1/usage-metrics (CrowdSec 1.6.3+, docs/reference/crowdsec-docs-notes.md §2.5) over real HTTP: validated, kept per
 * bouncer, counted by the health engine as a sign of life, never moving the last pull.
 */
const T0 = Date.UTC(2026, 10, 24, 6, 0, 0);
const KEY = '0f1e2d3c4b5a69788796a5b4c3d2e1f0';
const HOUR = 3600_000;

const report = (now: number, overrides: Record<string, unknown> = {}) => usageReport(T0, now, overrides);

for (const dialect of DIALECTS) {
  describe(`${dialect}: POST /v1/usage-metrics`, () => {
    const clock = new ManualClock(T0);
    const server = useInProcessServer(dialect, clock);
    const post = (body: string | Buffer<ArrayBuffer>, headers: Record<string, string> = {}) =>
      fetch(`${server().url}/v1/usage-metrics`, {
        method: 'POST',
        body,
        headers: { 'X-Api-Key': KEY, 'User-Agent': 'vigil-bouncer/v0.1.0', 'Content-Type': 'application/json', ...headers },
      });

    beforeAll(async () => {
      await createBouncer(server().store, { name: 'live-app', apiKeyHash: hashApiKey(KEY), now: T0 });
    });

    it('accepts a report with 201 and an empty body, keeps it, and leaves the last pull alone', async () => {
      // One live query: the bouncer has pulled once.
      await fetch(`${server().url}/v1/decisions?ip=192.0.2.9`, { headers: { 'X-Api-Key': KEY, 'User-Agent': 'vigil-bouncer/v0.1.0' } });
      await server().activity.flush();
      const pulledAt = (await getBouncer(server().store, 'live-app'))!.lastPullAt;
      expect(pulledAt).toBe(T0);

      clock.advance(HOUR);
      const r = await post(JSON.stringify(report(clock.now())));
      expect(r.status).toBe(201);
      expect(await r.text()).toBe('');
      await server().activity.flush();
      const b = (await getBouncer(server().store, 'live-app'))!;
      expect(b.lastPullAt).toBe(pulledAt);
      expect(b.lastRequestAt).toBe(clock.now());
      const kept = await latestUsageMetrics(server().store, b.id);
      expect(kept?.receivedAt).toBe(clock.now());
      expect(kept?.report).toMatchObject({ version: 'v0.1.0', os: { name: 'debian', version: '12' } });
    });

    it('keeps a live-mode bouncer that reports out of RC Integration Offline', async () => {
      // 29 h without a pull, but a report 20 min ago: alive, only no traffic needed a lookup. (Its
      // reports come every 15 min: two missed and a minute, 31 min, would raise it: live-rhythm.ts.)
      clock.set(T0 + 29 * HOUR);
      expect((await post(JSON.stringify(report(clock.now())))).status).toBe(201);
      clock.set(T0 + 29 * HOUR + 20 * 60_000);
      const { opened } = await server().health.evaluateNow();
      expect(opened.filter((i) => i.bouncerName === 'live-app')).toEqual([]);
      const admin = await usageMetricsReceivedAt(server().store);
      expect(admin.get((await getBouncer(server().store, 'live-app'))!.id)).toBe(T0 + 29 * HOUR);

      // Silence on both signals for more than 24 h: now it is offline.
      clock.set(T0 + 54 * HOUR);
      const later = await server().health.evaluateNow();
      expect(later.opened.map((i) => [i.kind, i.bouncerName])).toContainEqual(['rc_integration_offline', 'live-app']);
    });

    it('accepts a gzip-compressed body, as CrowdSec decompresses them', async () => {
      const r = await post(gzipSync(JSON.stringify(report(clock.now(), { version: 'v0.2.0' }))), { 'Content-Encoding': 'gzip' });
      expect(r.status).toBe(201);
      const b = (await getBouncer(server().store, 'live-app'))!;
      expect((await latestUsageMetrics(server().store, b.id))?.report).toMatchObject({ version: 'v0.2.0' });
    });

    it('refuses bad bodies with CrowdSec statuses and a message naming the field, keeping the stored report', async () => {
      const b = (await getBouncer(server().store, 'live-app'))!;
      const before = await latestUsageMetrics(server().store, b.id);
      // CrowdSec's statuses (docs/reference/crowdsec-1.6-1.7.md §6): 400 for a type error, 422 for a validation failure.
      const cases: Array<[string, number, RegExp]> = [
        ['{not json', 400, /^body: not valid JSON/],
        [
          JSON.stringify({ remediation_components: [{ utc_startup_timestamp: 1 }] }),
          422,
          /^validation failure list:\nremediation_components\.0\.version in body is required$/,
        ],
        [
          JSON.stringify(report(clock.now(), { utc_startup_timestamp: 'yesterday' })),
          400,
          /^json: cannot unmarshal string into Go struct field .*utc_startup_timestamp of type int64/,
        ],
        [
          JSON.stringify({
            remediation_components: [
              {
                version: 'v1',
                utc_startup_timestamp: 1,
                metrics: [{ meta: { window_size_seconds: 1, utc_now_timestamp: 1 }, items: [{ name: 'x', value: 'many', unit: 'ip' }] }],
              },
            ],
          }),
          400,
          /\(remediation_components\.0\.metrics\.0\.items\.0\.value\)$/,
        ],
        [JSON.stringify({ remediation_components: 'yes' }), 400, /AllMetrics\.remediation_components/],
        [JSON.stringify({ log_processors: [{ version: 'v1' }] }), 422, /log_processors\.0\.utc_startup_timestamp in body is required/],
        [JSON.stringify({}), 400, /^Missing remediation component data/],
        [JSON.stringify({ remediation_components: null, log_processors: null }), 400, /^Missing remediation component data/],
        [JSON.stringify({ remediation_components: [report(0).remediation_components[0], report(0).remediation_components[0]] }), 400, /2 items/],
      ];
      for (const [body, status, message] of cases) {
        const r = await post(body);
        expect(r.status, body).toBe(status);
        expect(JSON.parse(await r.text()).message, body).toMatch(message);
      }
      const huge = await post(JSON.stringify({ remediation_components: [{ version: 'x'.repeat(2 << 20) }] }));
      expect(huge.status).toBe(413);
      expect((await post(Buffer.from('not gzip'), { 'Content-Encoding': 'gzip' })).status).toBe(400);
      expect(await latestUsageMetrics(server().store, b.id)).toEqual(before);
    });

    it('refuses a report without a valid key with the same 403 as every bouncer route', async () => {
      const r = await post(JSON.stringify(report(clock.now())), { 'X-Api-Key': 'nope' });
      expect(r.status).toBe(403);
      expect(await r.text()).toBe('{"message":"access forbidden"}');
      const wrongMethod = await fetch(`${server().url}/v1/usage-metrics`, { headers: { 'X-Api-Key': KEY } });
      expect(wrongMethod.status).toBe(405);
    });

    it('forgets the report of a deleted bouncer', async () => {
      const id = (await getBouncer(server().store, 'live-app'))!.id;
      await deleteBouncers(server().store, ['live-app']);
      expect(await latestUsageMetrics(server().store, id)).toBeUndefined();
    });
  });
}
