import { describe, expect, it } from 'vitest';
import { DIALECTS, useFreshStore } from '../../test/support/databases.ts';
import {
  AGENTS_PER_PEER,
  OTHER_AGENTS,
  REFUSED_SUMMARIES_KEPT,
  RefusedSummaryCounts,
  recordRefusedSummaries,
  refusedSummaries,
  type RefusedSummary,
} from './refused-summaries.ts';

const T0 = Date.UTC(2026, 10, 2);
const req = (over: Partial<{ at: number; peerIp: string; userAgent: string; reason: string; keyFingerprint: string; path: string }> = {}) => ({
  at: T0,
  peerIp: '127.0.0.1',
  userAgent: 'go-cs-bouncer/v0.0.15',
  method: 'GET',
  path: '/v1/decisions/stream',
  reason: 'unknown',
  keyFingerprint: 'aaaa',
  bouncerName: '',
  ...over,
});

describe('RefusedSummaryCounts (in memory, between flushes)', () => {
  it('sums per (address, agent, reason), notes several keys, and folds a scan of agents from one address', () => {
    const c = new RefusedSummaryCounts();
    c.add(req());
    c.add(req({ at: T0 + 10_000 }));
    c.add(req({ peerIp: '127.0.0.2', keyFingerprint: 'k1' }));
    c.add(req({ peerIp: '127.0.0.2', keyFingerprint: 'k2' }));
    for (let i = 0; i < 20; i++) c.add(req({ peerIp: '127.0.0.3', userAgent: `scan/${i}` }));
    const rows = c.take();
    expect(rows.find((r) => r.peerIp === '127.0.0.1')).toMatchObject({ count: 2, firstAt: T0, lastAt: T0 + 10_000, severalKeys: false });
    expect(rows.find((r) => r.peerIp === '127.0.0.2')).toMatchObject({ count: 2, severalKeys: true });
    const scan = rows.filter((r) => r.peerIp === '127.0.0.3');
    expect(scan.length).toBe(AGENTS_PER_PEER + 1);
    expect(scan.find((r) => r.userAgent === OTHER_AGENTS)!.count).toBe(20 - AGENTS_PER_PEER);
    expect(c.take()).toEqual([]);
  });
});

for (const dialect of DIALECTS) {
  describe(`${dialect}: stored refused summaries`, () => {
    const store = useFreshStore(dialect);
    const row = (over: Partial<RefusedSummary>): RefusedSummary => ({
      peerIp: '127.0.0.1',
      userAgent: 'go-cs-bouncer/v0.0.15',
      reason: 'unknown',
      keyFingerprint: 'aaaa',
      severalKeys: false,
      bouncerName: '',
      method: 'GET',
      path: '/v1/decisions/stream',
      firstAt: T0,
      lastAt: T0,
      count: 1,
      ...over,
    });

    it('adds to a stored row: counts sum, times widen, a different key marks several keys', async () => {
      await recordRefusedSummaries(store(), [row({ count: 3, firstAt: T0, lastAt: T0 + 1000 })]);
      await recordRefusedSummaries(store(), [row({ count: 2, firstAt: T0 - 5000, lastAt: T0 + 9000, path: '/v1/decisions' })]);
      expect(await refusedSummaries(store(), { since: 0 })).toMatchObject([
        { count: 5, firstAt: T0 - 5000, lastAt: T0 + 9000, path: '/v1/decisions', severalKeys: false },
      ]);
      await recordRefusedSummaries(store(), [row({ keyFingerprint: 'bbbb', lastAt: T0 + 100 })]);
      expect(await refusedSummaries(store(), { since: 0 })).toMatchObject([
        { count: 6, lastAt: T0 + 9000, path: '/v1/decisions', severalKeys: true, keyFingerprint: 'aaaa' },
      ]);
    });

    it(`keeps ${REFUSED_SUMMARIES_KEPT.toLocaleString('en')} rows, evicting one-shot rows before a bouncer that retries`, async () => {
      // The victim is the oldest row, but it has many requests: the flood's one-shot rows go first.
      await recordRefusedSummaries(store(), [row({ count: 8640, firstAt: T0 - 1000, lastAt: T0 - 1000 })]);
      const flood = Array.from({ length: REFUSED_SUMMARIES_KEPT + 500 }, (_, i) =>
        row({ peerIp: `fd00::${i.toString(16)}`, userAgent: 'scan', lastAt: T0 + i, firstAt: T0 + i }),
      );
      await recordRefusedSummaries(store(), flood);
      const kept = await refusedSummaries(store(), { since: 0, limit: REFUSED_SUMMARIES_KEPT + 1000 });
      expect(kept.length).toBe(REFUSED_SUMMARIES_KEPT);
      expect(kept.find((r) => r.peerIp === '127.0.0.1')).toMatchObject({ count: 8640 });
      // The oldest one-shot rows were the ones evicted.
      expect(kept.some((r) => r.peerIp === 'fd00::0')).toBe(false);
      expect(kept.some((r) => r.peerIp === `fd00::${(REFUSED_SUMMARIES_KEPT + 499).toString(16)}`)).toBe(true);
    }, 60_000);
  });
}
