import { describe, expect, it, vi } from 'vitest';
import type { Decision } from '../model/records.ts';
import type { IpAddress, IpRange } from '../../lib/ip.ts';
import { intervalContains, parseIp, parseRange, tryParseIpOrRange } from '../../lib/ip.ts';
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

// ---------------------------------------------------------------------------------------------
// Property test: the index agrees with a linear scan.

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('DecisionIndex: agrees with a naive scan', () => {
  const random = rng(20261124);
  const int = (n: number): number => Math.floor(random() * n);
  // A small address space so that containment happens often.
  const v4 = (): string => `10.${int(4)}.${int(4)}.${int(8)}`;
  const v6 = (): string => `2001:db8:${int(3).toString(16)}:${int(3).toString(16)}::${int(8).toString(16)}`;
  const value = (): { scope: string; value: string } => {
    const roll = int(20);
    if (roll < 6) return { scope: 'Ip', value: v4() };
    if (roll < 10) return { scope: 'Range', value: `${v4()}/${16 + int(17)}` };
    if (roll < 13) return { scope: 'Ip', value: v6() };
    if (roll < 17) return { scope: 'Range', value: `${v6()}/${[16, 32, 40, 48, 56, 64, 96, 120, 125, 128][int(10)]}` };
    if (roll < 18) return { scope: 'Range', value: int(2) === 0 ? '0.0.0.0/0' : '::/0' };
    if (roll < 19) return { scope: 'Ip', value: `::ffff:${v4()}` };
    return { scope: ['username', 'Country', 'ip'][int(3)], value: ['foobar', 'FR', 'bogus'][int(3)] };
  };
  const randomDecision = (id: number): Decision => dec(id, '', '', { ...value(), until: NOW + (int(40) - 10) * MIN });

  const parsedOf = new WeakMap<Decision, IpAddress | IpRange | null>();
  const parsed = (d: Decision): IpAddress | IpRange | null => {
    if (!parsedOf.has(d)) {
      const ipScoped = ['ip', 'range'].includes(d.scope.toLowerCase());
      parsedOf.set(d, ipScoped ? tryParseIpOrRange(d.value) : null);
    }
    return parsedOf.get(d)!;
  };
  const naive = (all: Map<number, Decision>, now: number, keep: (d: IpAddress | IpRange) => boolean): number[] =>
    [...all.values()]
      .filter((d) => {
        if (d.until <= now) return false;
        const p = parsed(d);
        return p !== null && keep(p);
      })
      .sort((a, b) => a.until - b.until || a.id - b.id)
      .map((d) => d.id);

  it('for matchIp, containingRange, insideRange and active over ~2000 decisions with churn', () => {
    const index = new DecisionIndex();
    const all = new Map<number, Decision>();
    let nextId = 1;
    for (let i = 0; i < 2000; i++) {
      const d = randomDecision(nextId++);
      index.upsert(d);
      all.set(d.id, d);
    }
    let checks = 0;
    let nonEmpty = 0;
    for (let round = 0; round < 6; round++) {
      const now = NOW + round * 3 * MIN;
      for (let q = 0; q < 300; q++) {
        const ip = parseIp(int(2) === 0 ? v4() : v6());
        const got = ids(index.matchIp(ip, now));
        expect(got).toEqual(naive(all, now, (x) => intervalContains(x, ip)));
        const range = int(2) === 0 ? parseRange(`${v4()}/${8 + int(25)}`) : parseRange(`${v6()}/${int(129)}`);
        const containing = ids(index.containingRange(range, now));
        expect(containing).toEqual(naive(all, now, (x) => intervalContains(x, range)));
        const inside = ids(index.insideRange(range, now));
        expect(inside).toEqual(naive(all, now, (x) => intervalContains(range, x)));
        checks += 3;
        if (got.length > 0) nonEmpty++;
        if (inside.length > 0) nonEmpty++;
      }
      expect(ids(index.active(now))).toEqual(
        [...all.values()]
          .filter((d) => d.until > now)
          .sort((a, b) => a.until - b.until || a.id - b.id)
          .map((d) => d.id),
      );
      // Churn: removals, until moves (soft deletes and extensions), value changes, new decisions.
      for (let c = 0; c < 300; c++) {
        const roll = int(4);
        const existing = [...all.keys()];
        const id = existing[int(existing.length)];
        if (roll === 0) {
          index.remove(id);
          all.delete(id);
        } else if (roll === 1) {
          const d = { ...all.get(id)!, until: now + (int(20) - 10) * MIN };
          index.upsert(d);
          all.set(id, d);
        } else if (roll === 2) {
          const d = { ...randomDecision(id), id };
          index.upsert(d);
          all.set(id, d);
        } else {
          const d = randomDecision(nextId++);
          index.upsert(d);
          all.set(d.id, d);
        }
      }
      if (round === 3) {
        const expired = [...all.values()].filter((d) => d.until <= now).map((d) => d.id);
        expect(index.pruneExpired(now)).toBe(expired.length);
        for (const id of expired) all.delete(id);
      }
      expect(index.size).toBe(all.size);
    }
    expect(checks).toBeGreaterThan(5000);
    expect(nonEmpty).toBeGreaterThan(500);
  });
});

describe('DecisionIndex: the per-/16 length filter', () => {
  // Addresses over many /16s and every prefix length, so lookups skip lengths their /16 never held,
  // and mass removals, so the filter is rebuilt while lookups go on.
  const random = rng(424242);
  const int = (n: number): number => Math.floor(random() * n);
  const slash16s = Array.from({ length: 40 }, () => [1 + int(223), int(256)]);
  const v4 = (): string => {
    const [a, b] = slash16s[int(slash16s.length)]!;
    return `${a}.${b}.${int(4)}.${int(256)}`;
  };
  const v6 = (): string => `2001:${(0xd00 + int(40)).toString(16)}:${int(4).toString(16)}::${int(64).toString(16)}`;
  const randomDecision = (id: number): Decision => {
    const roll = int(4);
    const value = roll === 0 ? v4() : roll === 1 ? `${v4()}/${4 + int(29)}` : roll === 2 ? v6() : `${v6()}/${8 + int(121)}`;
    return dec(id, roll % 2 === 0 ? 'Ip' : 'Range', value, { type: int(5) === 0 ? 'captcha' : 'ban', until: NOW + (1 + int(50)) * MIN });
  };
  const naiveIds = (all: Map<number, Decision>, ip: IpAddress): number[] =>
    [...all.values()]
      .filter((d) => d.until > NOW && intervalContains(tryParseIpOrRange(d.value)!, ip))
      .sort((a, b) => a.until - b.until || a.id - b.id)
      .map((d) => d.id);
  const rank = (type: string): number => (type === 'ban' ? 2 : 1);
  const naiveStrongest = (all: Map<number, Decision>, ip: IpAddress): Decision | undefined => {
    let best: Decision | undefined;
    for (const d of all.values()) {
      if (d.until <= NOW || !intervalContains(tryParseIpOrRange(d.value)!, ip)) continue;
      if (best === undefined || rank(d.type) > rank(best.type) || (rank(d.type) === rank(best.type) && d.until > best.until)) best = d;
    }
    return best;
  };

  it('finds exactly what a scan finds, before and after thousands of removals', () => {
    const index = new DecisionIndex({ lookupOnly: true });
    const all = new Map<number, Decision>();
    for (let id = 1; id <= 4000; id++) {
      const d = randomDecision(id);
      index.upsert(d);
      all.set(id, d);
    }
    let hits = 0;
    const check = () => {
      for (let q = 0; q < 400; q++) {
        const ip = parseIp(int(2) === 0 ? v4() : v6());
        const expected = naiveIds(all, ip);
        expect(ids(index.matchIp(ip, NOW))).toEqual(expected);
        const strongest = index.strongestMatch(ip.family, ip.words, NOW, rank);
        const want = naiveStrongest(all, ip);
        // Ties (same rank and until) may pick either: compare what decides.
        expect(strongest === undefined).toBe(want === undefined);
        if (want) expect([rank(strongest!.type), strongest!.until]).toEqual([rank(want.type), want.until]);
        if (expected.length > 0) hits++;
      }
    };
    check();
    // Remove 3,500 (past the rebuild threshold), then add new ones under other /16s' lengths.
    for (const id of [...all.keys()].slice(0, 3500)) {
      index.remove(id);
      all.delete(id);
    }
    check();
    for (let id = 5000; id < 6000; id++) {
      const d = randomDecision(id);
      index.upsert(d);
      all.set(id, d);
    }
    check();
    expect(hits).toBeGreaterThan(100);
    // The naive scan parses every decision per query (4.8M parses): seconds alone, more beside other suites.
  }, 120_000);
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
