import { Fleet } from './fleet.ts';
import { snapshotOf } from './snapshot.ts';
import { evaluate, DEFAULT_RULES } from '../../src/core/health/evaluate.ts';
const fleet = new Fleet({ bouncers: 200, days: 10, seed: 25 });
const b = fleet.bouncers.find((x) => x.name === 'stream-0039')!;
const f = b.failures.find((x) => x.kind === 'wrong_key')!;
for (const dt of [-60_000, 0, 120_000, 600_000, 3600_000]) {
  const t = Math.ceil((f.start + dt) / 10_000) * 10_000;
  fleet.advanceTo(t);
  const s = snapshotOf(fleet, [b], t, DEFAULT_RULES);
  console.log(dt, JSON.stringify(s.bouncers[0]), t - s.bouncers[0]!.lastPullAt!, evaluate(s, t, DEFAULT_RULES).map((x) => x.kind));
}
console.log(fleet.noise.lapiStarts.filter((s) => Math.abs(s - f.start) < 3600_000).map((s) => (s - f.start) / 1000));
