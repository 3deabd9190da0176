import { describe, expect, it } from 'vitest';
import { indexedDecision } from '../../../test/support/decision-builders.ts';
import type { IpAddress, IpRange } from '../../lib/ip.ts';
import { intervalContains, parseIp, parseRange, tryParseIpOrRange } from '../../lib/ip.ts';
import type { Decision } from '../model/records.ts';
import { DecisionIndex } from './decision-index.ts';

// Property tests: the index's answers against a linear scan over random decisions (decision-index.test.ts
// has the worked examples).
const NOW = Date.UTC(2026, 10, 24, 4, 18, 35);
const MIN = 60_000;

const dec = (id: number, scope: string, value: string, over: Partial<Decision> = {}): Decision => indexedDecision(NOW, id, scope, value, over);
const ids = (ds: Decision[]): number[] => ds.map((d) => d.id);

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
