/** The LAPI comparison's table on stdout and its JSON in bench/results/. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type Row = {
  metric: string;
  vigil: number | null;
  crowdsec: number | null;
  unit: string;
  better: 'higher' | 'lower';
  hello?: number | null;
  note?: string;
};

export interface LapiRun {
  rows: Row[];
  failures: string[];
  memStages: Array<{ stage: string; [k: string]: unknown }>;
  /** Date.now() when the bench began */
  tStart: number;
  durationS: number;
  warmupS: number;
  crowdsec: boolean;
}

const fmt = (v: number | null | undefined, unit?: string) =>
  v == null ? '–' : unit === 'B' ? String(Math.round(v)) : Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2);
// ratio: always expressed so that "N× > 1" means Vigil is better.
function ratio(r: Row): string {
  if (r.vigil == null || r.crowdsec == null || r.vigil === 0 || r.crowdsec === 0) return '–';
  const x = r.better === 'higher' ? r.vigil / r.crowdsec : r.crowdsec / r.vigil;
  return `${x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2)}×`;
}

/** Prints the table and writes bench/results/lapi-<timestamp>.json under `root`. */
export function reportLapi(root: string, run: LapiRun): void {
  const { rows, failures } = run;
  const lines = [
    '| metric | Vigil | CrowdSec | ratio (Vigil better by; >1× = Vigil better) | Vigil % of node:http hello-world |',
    '|---|---|---|---|---|',
    ...rows.map((r) => {
      const pct =
        r.hello != null && r.vigil != null && r.unit === 'req/s'
          ? `${((r.vigil / r.hello) * 100).toFixed(0)}% (hello ${fmt(r.hello)})`
          : r.hello != null && r.unit !== 'req/s'
            ? `(hello ${fmt(r.hello)})`
            : '';
      return `| ${r.metric} | ${fmt(r.vigil, r.unit)} | ${fmt(r.crowdsec, r.unit)} | ${ratio(r)} | ${pct} |`;
    }),
  ];
  console.log('');
  console.log(
    'Ratio = Vigil/CrowdSec for req/s (higher is better); CrowdSec/Vigil for time, bytes and memory (lower is better), so >1× always means Vigil wins.',
  );
  console.log(lines.join('\n'));
  if (failures.length) console.log('\nFailures:\n' + failures.map((f) => '- ' + f).join('\n'));
  console.log(
    `\nTotal bench wall time: ${((Date.now() - run.tStart) / 1000).toFixed(0)} s (autocannon ${run.durationS}s runs after ${run.warmupS}s warm-up, ${run.crowdsec ? 'CrowdSec 1.4.6 present' : 'CrowdSec absent'})`,
  );
  const outDir = join(root, 'bench/results');
  mkdirSync(outDir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const out = join(outDir, `lapi-${stamp}.json`);
  writeFileSync(
    out,
    JSON.stringify(
      {
        at: new Date().toISOString(),
        node: process.version,
        durationS: run.durationS,
        warmupS: run.warmupS,
        crowdsec: run.crowdsec,
        memStages: run.memStages,
        rows: rows.map((r) => ({ ...r, ratio: ratio(r) })),
        failures,
      },
      null,
      2,
    ) + '\n',
  );
  console.log(`JSON: ${out}`);
}
