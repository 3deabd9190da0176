/**
 * How long one health evaluation of a large fleet takes (pure evaluator, no I/O).
 * Run: npm run bench:health   (prints a table)
 */
import { evaluate, DEFAULT_RULES } from '../src/core/health/evaluate.ts';
import type { BouncerHealthInput, FleetSnapshot } from '../src/core/health/types.ts';
import type { RefusedRequest } from '../src/core/model/records.ts';

const now = Date.UTC(2026, 10, 24);
function fleet(n: number): FleetSnapshot {
  const bouncers: BouncerHealthInput[] = [];
  for (let i = 0; i < n; i++) {
    // A tenth offline, a tenth late, the rest healthy: evidence lookups run for a fifth of them.
    const silence = i % 10 === 0 ? 30 * 3600_000 : i % 10 === 1 ? 20 * 60_000 : 5_000;
    bouncers.push({
      id: i,
      name: `b${i}`,
      type: i % 3 === 0 ? 'crowdsec-firewall-bouncer' : 'crowdsec-nginx-bouncer',
      version: 'v1',
      ipAddress: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
      kind: i % 3 === 0 ? 'firewall' : 'remediation',
      revoked: false,
      createdAt: now - 40 * 3600_000,
      lastPullAt: now - silence,
      lastRequestAt: now - silence,
      pullCadenceMs: 10_000,
      lastUsageMetricsAt: null,
    });
  }
  const refused: RefusedRequest[] = [];
  for (let i = 0; i < 10_000; i++) {
    refused.push({
      id: i,
      at: now - 3600_000,
      peerIp: `10.0.${(i >> 8) & 255}.${i & 255}`,
      userAgent: 'crowdsec-nginx-bouncer/v1',
      method: 'GET',
      path: '/v1/decisions/stream',
      reason: 'unknown',
      keyFingerprint: 'x',
      bouncerName: '',
    });
  }
  return { bouncers, refused, lapiStarts: [now - 2 * 3600_000], bouncerChanges: [] };
}

/** Issue 27: one key shared by a DaemonSet of n pods (`ds` and n-1 auto-created `ds@IP` rows), a tenth stopped. */
function daemonSet(n: number, allPulling: boolean): FleetSnapshot {
  const s = fleet(n);
  s.bouncers = s.bouncers.map((b, i) => ({
    ...b,
    name: i === 0 ? 'ds' : `ds@${b.ipAddress}`,
    autoCreated: i > 0,
    ...(allPulling ? { lastPullAt: now - 5_000, lastRequestAt: now - 5_000 } : {}),
  }));
  return s;
}

const rows: string[][] = [];
const cases: Array<[string, FleetSnapshot]> = [
  ...[1_000, 10_000, 100_000].map((n): [string, FleetSnapshot] => [n.toLocaleString('en'), fleet(n)]),
  ['10,000 on one key, all pulling', daemonSet(10_000, true)],
  ['10,000 on one key, a fifth stopped', daemonSet(10_000, false)],
];
for (const [label, s] of cases) {
  evaluate(s, now, DEFAULT_RULES); // warm-up
  const runs = 5;
  const times: number[] = [];
  let findings = 0;
  for (let r = 0; r < runs; r++) {
    const t = performance.now();
    findings = evaluate(s, now, DEFAULT_RULES).length;
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  rows.push([label, String(findings), `${times[Math.floor(runs / 2)]!.toFixed(1)} ms`, `${times[runs - 1]!.toFixed(1)} ms`]);
}
const head = ['bouncers', 'findings', 'median', 'max'];
const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (r: string[]) => '| ' + r.map((c, i) => c.padEnd(w[i]!)).join(' | ') + ' |';
console.log(line(head));
console.log('|' + w.map((x) => '-'.repeat(x + 2)).join('|') + '|');
for (const r of rows) console.log(line(r));
