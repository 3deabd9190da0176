import { describe, expect, it, vi } from 'vitest';
import type { Decision } from '../model/records.ts';
import { parseIp, parseRange } from '../../lib/ip.ts';
import { DecisionIndex } from './decision-index.ts';
import { RowList } from './decision-rows.ts';
import { indexedDecision } from '../../../test/support/decision-builders.ts';

const NOW = Date.UTC(2026, 10, 24, 4, 18, 35);
const MIN = 60_000;

function dec(id: number, scope: string, value: string, over: Partial<Decision> = {}): Decision {
  return indexedDecision(NOW, id, scope, value, over);
}

const ids = (ds: Decision[]): number[] => ds.map((d) => d.id);

/** The decisions of crowdsec-wire-protocol.md §4. */
function wireTable(): DecisionIndex {
  const index = new DecisionIndex();
  index.upsert(dec(1, 'Ip', '192.0.2.1', { until: NOW + 5 * MIN }));
  index.upsert(dec(2, 'Range', '198.51.100.0/24', { scenario: 'rangetest' }));
  index.upsert(dec(3, 'Ip', '192.0.2.2', { type: 'captcha' }));
  index.upsert(dec(4, 'username', 'foobar', { scenario: 'usertest' }));
  index.upsert(dec(5, 'Ip', '2001:db8::1'));
  index.upsert(dec(6, 'Range', '2001:db8:1::/48'));
  index.upsert(dec(7, 'Country', 'FR'));
  return index;
}

describe('DecisionIndex: the wire-protocol table (§4)', () => {
  const index = wireTable();

  it('holds all seven and lists them by until, then id', () => {
    expect(index.size).toBe(7);
    expect(ids(index.active(NOW))).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('ip= matches equal Ip decisions and containing Range decisions', () => {
    expect(ids(index.matchIp(parseIp('192.0.2.1'), NOW))).toEqual([1]);
    expect(ids(index.matchIp(parseIp('192.0.2.99'), NOW))).toEqual([]);
    expect(ids(index.matchIp(parseIp('198.51.100.7'), NOW))).toEqual([2]);
    expect(ids(index.matchIp(parseIp('2001:db8:1::5'), NOW))).toEqual([6]);
    expect(ids(index.matchIp(parseIp('2001:db8::1'), NOW))).toEqual([5]);
    expect(ids(index.matchIp(parseIp('2001:db8::2'), NOW))).toEqual([]);
  });

  it('an IPv4-mapped IPv6 query matches IPv4 decisions', () => {
    expect(ids(index.matchIp(parseIp('::ffff:198.51.100.7'), NOW))).toEqual([2]);
    expect(ids(index.matchIp(parseIp('::ffff:192.0.2.1'), NOW))).toEqual([1]);
  });

  it('range= with contains=true returns decisions containing the range', () => {
    expect(ids(index.containingRange(parseRange('198.51.100.0/24'), NOW))).toEqual([2]);
    expect(ids(index.containingRange(parseRange('198.51.100.0/28'), NOW))).toEqual([2]);
    expect(ids(index.containingRange(parseRange('198.51.100.0/16'), NOW))).toEqual([]);
    expect(ids(index.containingRange(parseRange('2001:db8:1:2::/64'), NOW))).toEqual([6]);
    expect(ids(index.containingRange(parseRange('2001:db8::/32'), NOW))).toEqual([]);
  });

  it('range= with contains=false returns decisions inside the range', () => {
    expect(ids(index.insideRange(parseRange('198.51.100.0/16'), NOW))).toEqual([2]);
    expect(ids(index.insideRange(parseRange('198.51.100.0/24'), NOW))).toEqual([2]);
    expect(ids(index.insideRange(parseRange('198.51.100.0/28'), NOW))).toEqual([]);
    expect(ids(index.insideRange(parseRange('192.0.2.0/24'), NOW))).toEqual([1, 3]);
    expect(ids(index.insideRange(parseRange('2001:db8::/32'), NOW))).toEqual([5, 6]);
    expect(ids(index.insideRange(parseRange('0.0.0.0/0'), NOW))).toEqual([1, 2, 3]);
  });

  it('an address given to the range queries behaves as a /32 or /128', () => {
    expect(ids(index.containingRange(parseIp('198.51.100.7'), NOW))).toEqual([2]);
    expect(ids(index.insideRange(parseIp('198.51.100.7'), NOW))).toEqual([]);
    expect(ids(index.insideRange(parseIp('192.0.2.1'), NOW))).toEqual([1]);
  });

  it('byValue is exact and case-sensitive, across scopes', () => {
    expect(ids(index.byValue('foobar', NOW))).toEqual([4]);
    expect(ids(index.byValue('192.0.2.1', NOW))).toEqual([1]);
    expect(ids(index.byValue('FR', NOW))).toEqual([7]);
    expect(ids(index.byValue('fr', NOW))).toEqual([]);
    expect(ids(index.byValue('198.51.100.7', NOW))).toEqual([]);
  });

  it('get returns the stored record', () => {
    expect(index.get(4)?.value).toBe('foobar');
    expect(index.get(99)).toBeUndefined();
  });
});

describe('DecisionIndex: scopes and values', () => {
  it('matches ip and range scopes case-insensitively, nothing else', () => {
    const index = new DecisionIndex();
    index.upsert(dec(1, 'ip', '10.0.0.1'));
    index.upsert(dec(2, 'IP', '10.0.0.1'));
    index.upsert(dec(3, 'RANGE', '10.0.0.0/8'));
    index.upsert(dec(4, 'Country', '10.0.0.1'));
    index.upsert(dec(5, 'as', '10.0.0.0/8'));
    expect(ids(index.matchIp(parseIp('10.0.0.1'), NOW))).toEqual([1, 2, 3]);
    expect(ids(index.byValue('10.0.0.1', NOW))).toEqual([1, 2, 4]);
  });

  it('an Ip decision holding a CIDR matches as a range; a Range holding an address as one address', () => {
    const index = new DecisionIndex();
    index.upsert(dec(1, 'Ip', '10.0.0.0/8'));
    index.upsert(dec(2, 'Range', '10.1.1.1'));
    expect(ids(index.matchIp(parseIp('10.1.1.1'), NOW))).toEqual([1, 2]);
    expect(ids(index.matchIp(parseIp('10.1.1.2'), NOW))).toEqual([1]);
  });

  it('mapped and non-canonical stored values are matched by their parsed form', () => {
    const index = new DecisionIndex();
    index.upsert(dec(1, 'Ip', '::ffff:10.0.0.1'));
    index.upsert(dec(2, 'Ip', '2001:DB8:0::1'));
    index.upsert(dec(3, 'Range', '10.0.0.77/24'));
    expect(ids(index.matchIp(parseIp('10.0.0.1'), NOW))).toEqual([1, 3]);
    expect(ids(index.matchIp(parseIp('2001:db8::1'), NOW))).toEqual([2]);
    expect(ids(index.byValue('10.0.0.77/24', NOW))).toEqual([3]);
  });

  it('unparsable values are not IP-indexed but stay listed', () => {
    const index = new DecisionIndex();
    index.upsert(dec(1, 'Ip', 'bogus'));
    index.upsert(dec(2, 'Ip', ' 10.0.0.1'));
    index.upsert(dec(3, 'Range', '10.0.0.0/33'));
    expect(index.matchIp(parseIp('10.0.0.1'), NOW)).toEqual([]);
    expect(index.insideRange(parseRange('0.0.0.0/0'), NOW)).toEqual([]);
    expect(ids(index.active(NOW))).toEqual([1, 2, 3]);
    expect(ids(index.byValue('bogus', NOW))).toEqual([1]);
  });

  it('IPv4 and IPv6 never match each other', () => {
    const index = new DecisionIndex();
    index.upsert(dec(1, 'Range', '0.0.0.0/0'));
    index.upsert(dec(2, 'Range', '::/0'));
    expect(ids(index.matchIp(parseIp('2001:db8::1'), NOW))).toEqual([2]);
    expect(ids(index.matchIp(parseIp('192.0.2.1'), NOW))).toEqual([1]);
    expect(ids(index.insideRange(parseRange('::/0'), NOW))).toEqual([2]);
  });
});

describe('DecisionIndex: time, updates and order', () => {
  it('never returns expired decisions (until <= now) but keeps them until pruned', () => {
    const index = new DecisionIndex();
    index.upsert(dec(1, 'Ip', '10.0.0.1', { until: NOW }));
    index.upsert(dec(2, 'Ip', '10.0.0.1', { until: NOW + 1 }));
    index.upsert(dec(3, 'Range', '10.0.0.0/24', { until: NOW - MIN }));
    index.upsert(dec(4, 'username', 'x', { until: NOW - 1 }));
    expect(ids(index.matchIp(parseIp('10.0.0.1'), NOW))).toEqual([2]);
    expect(ids(index.containingRange(parseRange('10.0.0.0/30'), NOW))).toEqual([]);
    expect(ids(index.insideRange(parseRange('10.0.0.0/8'), NOW))).toEqual([2]);
    expect(ids(index.active(NOW))).toEqual([2]);
    expect(ids(index.byValue('x', NOW))).toEqual([]);
    expect(index.size).toBe(4);
    // Earlier clock: all are active again (the index has no clock of its own).
    expect(ids(index.matchIp(parseIp('10.0.0.1'), NOW - 2 * MIN))).toEqual([3, 1, 2]);

    expect(index.pruneExpired(NOW)).toBe(3);
    expect(index.size).toBe(1);
    expect(index.get(1)).toBeUndefined();
    expect(ids(index.matchIp(parseIp('10.0.0.1'), NOW - 2 * MIN))).toEqual([2]);
    expect(ids(index.byValue('x', NOW - 2 * MIN))).toEqual([]);
    expect(ids(index.active(0))).toEqual([2]);
    expect(index.pruneExpired(NOW)).toBe(0);
  });

  it('an upsert moving until into the past hides the decision at once (soft delete)', () => {
    const index = wireTable();
    expect(ids(index.matchIp(parseIp('198.51.100.7'), NOW))).toEqual([2]);
    index.upsert(dec(2, 'Range', '198.51.100.0/24', { until: NOW - 1, deletedAt: NOW - 1 }));
    expect(index.matchIp(parseIp('198.51.100.7'), NOW)).toEqual([]);
    expect(index.insideRange(parseRange('198.51.0.0/16'), NOW)).toEqual([]);
    expect(ids(index.active(NOW))).toEqual([1, 3, 4, 5, 6, 7]);
    expect(index.get(2)?.deletedAt).toBe(NOW - 1);
    expect(index.size).toBe(7);
  });

  it('an upsert changing the value re-indexes the decision', () => {
    const index = new DecisionIndex();
    index.upsert(dec(1, 'Ip', '10.0.0.1'));
    index.upsert(dec(1, 'Ip', '10.0.0.2'));
    expect(index.matchIp(parseIp('10.0.0.1'), NOW)).toEqual([]);
    expect(ids(index.matchIp(parseIp('10.0.0.2'), NOW))).toEqual([1]);
    expect(index.byValue('10.0.0.1', NOW)).toEqual([]);
    index.upsert(dec(1, 'username', '10.0.0.2'));
    expect(index.matchIp(parseIp('10.0.0.2'), NOW)).toEqual([]);
    expect(ids(index.byValue('10.0.0.2', NOW))).toEqual([1]);
    expect(index.size).toBe(1);
    expect(ids(index.active(NOW))).toEqual([1]);
  });

  it('remove forgets a decision everywhere; removing an unknown id is a no-op', () => {
    const index = wireTable();
    index.remove(2);
    index.remove(5);
    index.remove(42);
    expect(index.size).toBe(5);
    expect(index.matchIp(parseIp('198.51.100.7'), NOW)).toEqual([]);
    expect(index.matchIp(parseIp('2001:db8::1'), NOW)).toEqual([]);
    expect(ids(index.insideRange(parseRange('::/0'), NOW))).toEqual([6]);
    expect(ids(index.active(NOW))).toEqual([1, 3, 4, 6, 7]);
    index.upsert(dec(2, 'Range', '198.51.100.0/24'));
    expect(ids(index.matchIp(parseIp('198.51.100.7'), NOW))).toEqual([2]);
  });

  it('orders every result by until, then id, and follows until changes', () => {
    const index = new DecisionIndex();
    index.upsert(dec(5, 'Ip', '10.0.0.1', { until: NOW + 3 * MIN }));
    index.upsert(dec(4, 'Range', '10.0.0.0/8', { until: NOW + 1 * MIN }));
    index.upsert(dec(3, 'Range', '10.0.0.0/16', { until: NOW + 3 * MIN }));
    index.upsert(dec(2, 'Ip', '10.0.0.1', { until: NOW + 2 * MIN }));
    index.upsert(dec(1, 'Range', '10.0.0.0/24', { until: NOW + 3 * MIN }));
    expect(ids(index.matchIp(parseIp('10.0.0.1'), NOW))).toEqual([4, 2, 1, 3, 5]);
    expect(ids(index.insideRange(parseRange('10.0.0.0/8'), NOW))).toEqual([4, 2, 1, 3, 5]);
    expect(ids(index.active(NOW))).toEqual([4, 2, 1, 3, 5]);
    index.upsert(dec(4, 'Range', '10.0.0.0/8', { until: NOW + 9 * MIN }));
    expect(ids(index.matchIp(parseIp('10.0.0.1'), NOW))).toEqual([2, 1, 3, 5, 4]);
    expect(ids(index.active(NOW))).toEqual([2, 1, 3, 5, 4]);
    expect(ids(index.containingRange(parseRange('10.0.0.0/24'), NOW))).toEqual([1, 3, 4]);
  });

  it('keeps working through many inserts and removals (table growth, shifts and sweeps)', () => {
    const index = new DecisionIndex();
    for (let i = 0; i < 5000; i++) index.upsert(dec(i, 'Ip', `10.${i >> 8}.${i & 255}.1`, { until: NOW + i }));
    for (let i = 0; i < 5000; i += 2) index.remove(i);
    expect(index.size).toBe(2500);
    for (let i = 0; i < 5000; i++) {
      const hit = index.matchIp(parseIp(`10.${i >> 8}.${i & 255}.1`), NOW);
      expect(ids(hit)).toEqual(i % 2 === 1 ? [i] : []);
    }
    expect(index.insideRange(parseRange('10.0.0.0/8'), NOW).length).toBe(2500);
    expect(index.pruneExpired(NOW + 2500)).toBe(1250);
    expect(index.active(NOW).length).toBe(1250);
    expect(index.insideRange(parseRange('10.0.0.0/8'), NOW).length).toBe(1250);
  });
});

describe('DecisionIndex: the active count (a gauge read at every /metrics scrape)', () => {
  it('counts active decisions out of order without sorting them (issue 27: a 250k sort per scrape)', () => {
    const index = new DecisionIndex();
    // An import whose decisions end before the ones already held: the by-until order is broken.
    for (let id = 1; id <= 50; id++) index.upsert(dec(id, 'Ip', `192.0.2.${id}`, { until: NOW + (60 + id) * MIN }));
    for (let id = 51; id <= 80; id++) index.upsert(dec(id, 'Ip', `198.51.100.${id}`, { until: NOW + (id - 50) * MIN }));
    index.upsert(dec(3, 'Ip', '192.0.2.3', { until: NOW })); // soft-deleted: no longer active
    index.remove(4);
    const sort = vi.spyOn(RowList.prototype, 'sort');
    try {
      expect(index.activeCount(NOW)).toBe(78);
      expect(index.activeCount(NOW + 10 * MIN)).toBe(68);
      expect(index.activeCount(NOW + 200 * MIN)).toBe(0);
      expect(sort).not.toHaveBeenCalled();
    } finally {
      sort.mockRestore();
    }
    // The same count once sorted (lookups sort it).
    expect(index.active(NOW).length).toBe(78);
    expect(index.activeCount(NOW + 10 * MIN)).toBe(68);
  });
});
