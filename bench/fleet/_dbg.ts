import { simulate } from './simulate.ts';
const r = simulate({ bouncers: 200, days: 10, seed: 25, mode: process.argv[2] as 'sparse' });
for (const b of r.fleet.bouncers) for (const f of b.failures) {
  if (f.kind === 'wrong_key' && b.mode === 'stream' && (f.firstPageAt === null || f.firstPageAt - f.start > 3600_000)) {
    console.log(b.name, b.freqMs, b.cadenceMs, new Date(f.start).toISOString(), f.firstPageAt && (f.firstPageAt - f.start) / 1000);
    console.log(r.told.filter((t) => t.subject === `bouncer:${b.name}` && t.at >= f.start - 3600_000 && t.at < f.start + 90_000_000).map((t) => [new Date(t.at).toISOString(), t.channel, t.event, t.kind, t.cause]));
  }
}
