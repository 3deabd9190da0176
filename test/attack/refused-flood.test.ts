import { describe, expect, it } from 'vitest';
import { DIALECTS } from '../support/databases.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import { hashApiKey } from '../../src/core/bouncers/api-key.ts';
import { REFUSED_REQUESTS_KEPT } from '../../src/store/refused-requests.ts';
import { refusedSummaries } from '../../src/store/refused-summaries.ts';
import { floodRandomKeys, get } from './flood.ts';
import { createBouncer } from '../../src/store/bouncers.ts';
import { openHealthIssues } from '../../src/store/health-issues.ts';
import { refusedRequests } from '../../src/store/refused-requests.ts';
import { useInProcessServer } from '../support/in-process-server.ts';

/**
 * Issue 15: a flood of 100k random wrong keys from other addresses fills the bounded raw record of
 * refused requests (10k rows) and, before the summaries, erased the evidence that a real bouncer
 * keeps sending its stale key: its issue's cause flipped from "authentication" to "stopped or
 * network". The victim's refusals are summed per (address, User-Agent, reason), which a flood of
 * new keys from other addresses cannot evict.
 */
const T0 = Date.UTC(2026, 10, 2, 0, 0, 0);
const H = 3600_000;
const VICTIM_UA = 'go-cs-bouncer/v0.0.15';
// PostgreSQL answers each new key's lookup over the network: half the flood keeps the file near 30 s,
// and 50k is still five times the raw record (20 flushes of 1,000 kept rows each).
const FLOOD = { sqlite: 100_000, postgres: 50_000 } as const;

for (const dialect of DIALECTS) {
  describe(`${dialect}: a refused-key flood cannot erase a bouncer's evidence`, () => {
    const clock = new ManualClock(T0);
    const server = useInProcessServer(dialect, clock);

    it(`keeps the victim's cause (fail-open: its stale key refused) after ${FLOOD[dialect].toLocaleString('en')} random keys from 249 other addresses`, async () => {
      await createBouncer(server().store, { name: 'victim', apiKeyHash: hashApiKey('right-key'), now: clock.now() });
      expect(await get(server().url, '/v1/decisions/stream?startup=true', { 'X-Api-Key': 'right-key', 'User-Agent': VICTIM_UA }, '127.0.0.1')).toBe(200);
      const lastPull = clock.now();
      // Its key is replaced by a wrong one: it retries every 10 s, the same wrong key each time.
      clock.advance(60_000);
      for (let i = 0; i < 30; i++) {
        expect(await get(server().url, '/v1/decisions/stream', { 'X-Api-Key': 'stale-key', 'User-Agent': VICTIM_UA }, '127.0.0.1')).toBe(403);
        clock.advance(10_000);
      }
      await server().activity.flush();

      const statuses = await floodRandomKeys(server().url, {
        total: FLOOD[dialect],
        userAgent: 'python-requests/2.31.0',
        chunk: FLOOD[dialect] / 20,
        // Each chunk is a flush period of the activity recorder, a second apart.
        between: async () => {
          clock.advance(1000);
          await server().activity.flush();
        },
      });
      expect(statuses).toEqual(new Map([[403, FLOOD[dialect]]]));

      // The raw record stays bounded and holds only the flood now…
      const raw = await refusedRequests(server().store, { limit: 20_000 });
      expect(raw.length).toBeLessThanOrEqual(REFUSED_REQUESTS_KEPT);
      expect(raw.some((r) => r.peerIp === '127.0.0.1')).toBe(false);
      // …while the summaries are one row per address: 249 for the flood, one for the victim.
      const summaries = await refusedSummaries(server().store, { since: 0 });
      expect(summaries.length).toBe(250);
      expect(summaries.find((s) => s.peerIp === '127.0.0.1')).toMatchObject({ userAgent: VICTIM_UA, count: 30, severalKeys: false, reason: 'unknown' });
      expect(summaries.filter((s) => s.peerIp !== '127.0.0.1').every((s) => s.severalKeys)).toBe(true);

      clock.set(lastPull + 24 * H + 1000);
      await server().activity.flush();
      await server().health.evaluateNow();
      const issue = (await openHealthIssues(server().store)).find((i) => i.subject === 'bouncer:victim')!;
      expect(issue.kind).toBe('rc_integration_offline');
      const top = issue.evidence.causes[0] as { cause: string; confidence: string; evidence: string[] };
      // Its own refusals (address and User-Agent), nothing succeeding since: failing open (fail-open.ts).
      expect(top).toMatchObject({ cause: 'fail_open', confidence: 'high' });
      expect(top.evidence[0]).toMatch(/^30 request\(s\) refused since /);
      expect(top.evidence.join('\n')).toContain('GET /v1/decisions/stream from 127.0.0.1 with User-Agent go-cs-bouncer/v0.0.15');
      expect(top.evidence.join('\n')).toMatch(/every refused request carried the same key, fingerprint [0-9a-f]+/);
    }, 60_000);
  });
}
