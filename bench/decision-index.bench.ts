/**
 * DecisionIndex at CrowdSec scale: 100k mixed IPv4/IPv6 addresses and ranges.
 * Run: node bench/decision-index.bench.ts   (Node 26; add --expose-gc for a steadier heap figure)
 */
import { performance } from 'node:perf_hooks';
import type { Decision } from '../src/core/model/records.ts';
import type { IpAddress, IpRange } from '../src/lib/ip.ts';
import { formatWords, parseIp, parseRange } from '../src/lib/ip.ts';
import { DecisionIndex } from '../src/core/decisions/decision-index.ts';
import { seededU32 } from './support.ts';

const TOTAL = 100_000;
const NOW = Date.UTC(2026, 10, 24);

const u32 = seededU32(0x5eed);
const pick = <T>(xs: readonly T[]): T => xs[u32() % xs.length];

const v4Text = (): string => formatWords(4, [u32()]);
/** Global unicast 2000::/3, like real attacker addresses. */
const v6Words = (): number[] => [((u32() & 0x1fffffff) | 0x20000000) >>> 0, u32(), u32(), u32()];
const v6Text = (): string => formatWords(6, v6Words());

// The mix: mostly single addresses, as CrowdSec's community blocklist and scenarios produce.
const MIX = { v4Ip: 0.6, v4Range: 0.1, v6Ip: 0.25, v6Range: 0.05 };
const V4_PREFIXES = [16, 20, 22, 24, 24, 24, 26, 28, 30];
const V6_PREFIXES = [32, 48, 48, 56, 64, 64, 64];

function makeDecisions(): Decision[] {
  const out: Decision[] = [];
  const counts = {
    v4Ip: TOTAL * MIX.v4Ip,
    v4Range: TOTAL * MIX.v4Range,
    v6Ip: TOTAL * MIX.v6Ip,
    v6Range: TOTAL * MIX.v6Range,
  };
  const push = (scope: string, value: string): void => {
    const id = out.length + 1;
    out.push({
      id,
      alertId: id,
      origin: 'crowdsec',
      type: 'ban',
      scope,
      value,
      scenario: 'crowdsecurity/ssh-bf',
      createdAt: NOW - 60_000,
      until: NOW + 3_600_000 + (u32() % 86_400_000),
      deletedAt: null,
      simulated: false,
    });
  };
  for (let i = 0; i < counts.v4Ip; i++) push('Ip', v4Text());
  for (let i = 0; i < counts.v4Range; i++) push('Range', `${v4Text()}/${pick(V4_PREFIXES)}`);
  for (let i = 0; i < counts.v6Ip; i++) push('Ip', v6Text());
  for (let i = 0; i < counts.v6Range; i++) push('Range', `${v6Text()}/${pick(V6_PREFIXES)}`);
  // Shuffle so insertion order is not grouped by kind.
  for (let i = out.length - 1; i > 0; i--) {
    const j = u32() % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** An address inside a decision's value (itself, or a random host of the range). */
function addressIn(d: Decision): string {
  const slash = d.value.indexOf('/');
  if (slash === -1) return d.value;
  const r = parseRange(d.value);
  const words = r.first.map((w, i) => (w | (u32() & ~maskBits(r.prefixLength - 32 * i))) >>> 0);
  return formatWords(r.family, words);
}
function maskBits(bits: number): number {
  if (bits <= 0) return 0;
  if (bits >= 32) return -1;
  return -1 << (32 - bits);
}

function time<T>(fn: () => T): { ms: number; result: T } {
  const start = performance.now();
  const result = fn();
  return { ms: performance.now() - start, result };
}

const gc = (globalThis as { gc?: () => void }).gc;
const heapMb = (): number => {
  gc?.();
  return process.memoryUsage().heapUsed / 1048576;
};

interface Row {
  case: string;
  ops: number;
  'ms total': string;
  'ops/s': string;
  'µs/op': string;
  'hit rate': string;
}
const rows: Row[] = [];

function measure(name: string, n: number, fn: (i: number) => number): void {
  for (let i = 0; i < Math.min(n, 20_000); i++) fn(i); // warm-up
  let hits = 0;
  const { ms } = time(() => {
    for (let i = 0; i < n; i++) if (fn(i) > 0) hits++;
  });
  rows.push({
    case: name,
    ops: n,
    'ms total': ms.toFixed(1),
    'ops/s': Math.round((n / ms) * 1000).toLocaleString('en-US'),
    'µs/op': ((ms * 1000) / n).toFixed(3),
    'hit rate': `${((100 * hits) / n).toFixed(1)}%`,
  });
}

// --- build -------------------------------------------------------------------------------
const decisions = makeDecisions();
const heapBefore = heapMb();
const index = new DecisionIndex();
const build = time(() => {
  for (const d of decisions) index.upsert(d);
});
const heapAfter = heapMb();

// --- queries -----------------------------------------------------------------------------
const QUERIES = 100_000;
const LOOKUPS = 1_000_000;
const byFamily = (v6: boolean): Decision[] => decisions.filter((d) => d.value.includes(':') === v6);
const v4Decisions = byFamily(false);
const v6Decisions = byFamily(true);
const hitsV4: IpAddress[] = Array.from({ length: QUERIES }, () => parseIp(addressIn(pick(v4Decisions))));
const hitsV6: IpAddress[] = Array.from({ length: QUERIES }, () => parseIp(addressIn(pick(v6Decisions))));
const missV4: IpAddress[] = Array.from({ length: QUERIES }, () => parseIp(v4Text()));
const missV6: IpAddress[] = Array.from({ length: QUERIES }, () => parseIp(v6Text()));
const mixedText: string[] = Array.from({ length: QUERIES }, (_, i) => [hitsV4, missV4, hitsV6, missV6][i & 3][i >> 2].text);
const ranges24: IpRange[] = Array.from({ length: QUERIES }, (_, i) => parseRange(`${hitsV4[i].text}/${pick([16, 24, 28])}`));

measure('matchIp IPv4, hits', LOOKUPS, (i) => index.matchIp(hitsV4[i % QUERIES], NOW).length);
measure('matchIp IPv4, random (misses)', LOOKUPS, (i) => index.matchIp(missV4[i % QUERIES], NOW).length);
measure('matchIp IPv6, hits', LOOKUPS, (i) => index.matchIp(hitsV6[i % QUERIES], NOW).length);
measure('matchIp IPv6, random (misses)', LOOKUPS, (i) => index.matchIp(missV6[i % QUERIES], NOW).length);
const v4Texts = mixedText.filter((t) => !t.includes(':'));
const v6Texts = mixedText.filter((t) => t.includes(':'));
measure('parseIp alone, IPv4 text', LOOKUPS, (i) => parseIp(v4Texts[i % v4Texts.length]).family);
measure('parseIp alone, IPv6 text', LOOKUPS, (i) => parseIp(v6Texts[i % v6Texts.length]).family);
measure('parseIp + matchIp, mixed text', LOOKUPS, (i) => index.matchIp(parseIp(mixedText[i % QUERIES]), NOW).length);
measure('containingRange IPv4 /16,/24,/28', LOOKUPS, (i) => index.containingRange(ranges24[i % QUERIES], NOW).length);
measure('insideRange IPv4 /16,/24,/28', LOOKUPS, (i) => index.insideRange(ranges24[i % QUERIES], NOW).length);
measure('active() (all 100k, sorted)', 20, () => index.active(NOW).length);

// Churn: an update that changes nothing but until (soft delete), then a full listing.
const churn = time(() => {
  for (let i = 0; i < 1000; i++) {
    const d = decisions[u32() % decisions.length];
    index.upsert({ ...d, until: NOW - 1, deletedAt: NOW - 1 });
  }
  return index.active(NOW).length;
});
// New intervals force the by-address order to be rebuilt on the next insideRange.
const insideAfterInsert = time(() => {
  index.upsert({ ...decisions[0], id: TOTAL + 1, value: '203.0.113.0/24', scope: 'Range' });
  return index.insideRange(ranges24[0], NOW).length;
});

console.log(
  `DecisionIndex, ${TOTAL.toLocaleString('en-US')} decisions ` +
    `(${v4Decisions.length} IPv4: ${MIX.v4Ip * 100}% /32, ${MIX.v4Range * 100}% ranges /16-/30; ` +
    `${v6Decisions.length} IPv6: ${MIX.v6Ip * 100}% /128, ${MIX.v6Range * 100}% ranges /32-/64), node ${process.version}`,
);
console.log(
  `build: ${build.ms.toFixed(0)} ms (${Math.round((TOTAL / build.ms) * 1000).toLocaleString('en-US')} upserts/s, parse included); ` +
    `heap +${(heapAfter - heapBefore).toFixed(1)} MB${gc ? '' : ' (approximate: run with --expose-gc)'}`,
);
console.table(rows);
console.log(
  `1000 soft-delete upserts + active(): ${churn.ms.toFixed(1)} ms; ` +
    `1 new interval + insideRange (re-sort by address): ${insideAfterInsert.ms.toFixed(1)} ms; ` +
    `pruneExpired: ${time(() => index.pruneExpired(NOW)).ms.toFixed(1)} ms`,
);
