/** The alerts-under-load table on stdout, from the run's settings and results. */

/** The quantile `p` of sorted `xs` (NaN when empty). */
export const q = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor(p * xs.length))] ?? Number.NaN;

export interface LoadSettings {
  alertsPerS: number;
  alertsPerPost: number;
  agents: number;
  pullsPerS: number;
  bouncers: number;
  pullEveryS: number;
  streamBouncers: number;
  seconds: number;
}

type TicksOver = { ticks: number; over: Record<string, number> };

/** What the run measured (the fields of bench/results/alerts-load-*.json beside the settings). */
export interface AlertsLoadResults {
  pullsSent: number;
  pullsPerSecond: number;
  pullMBPerSecond: number;
  postsSent: number;
  alertsSent: number;
  alertsAccepted: number;
  alertsPerSecond: number;
  decisionsActive: number;
  pullP50Ms: number;
  pullP99Ms: number;
  pullMaxMs: number | undefined;
  streamP99Ms: number;
  liveP99Ms: number;
  pushP50Ms: number;
  pushP99Ms: number;
  pushMaxMs: number | undefined;
  pullErrors: number;
  pushErrors: number;
  firstPushError: string | undefined;
  serverCpuPercentOfOneCore: number | null;
  serverCpuSecondsTotal: number | null;
  serverPeakRssMB: number | null;
  machineCpuStallPercent: number | null;
  loadGeneratorLagP99Ms: number;
  loadGeneratorLagMaxMs: number;
  loadGeneratorCpuPercentOfOneCore: number;
  heavyWatchers:
    | {
        pulls: number;
        p50Ms: number;
        p99Ms: number;
        maxMs: number | undefined;
        results: string[];
        serverLoopBusy: TicksOver | undefined;
        serverLoopDelay: TicksOver | undefined;
      }
    | undefined;
}

export function printAlertsLoadTable(s: LoadSettings, r: AlertsLoadResults): void {
  const f = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? '–' : x.toFixed(2));
  const pass = r.pullP99Ms < 50 && r.pullErrors === 0 && r.pushErrors === 0 && r.decisionsActive >= r.alertsAccepted;
  console.log('');
  console.log(
    `| alerts under load: ${s.alertsPerS} alerts/s (${s.alertsPerPost} per POST, ${s.agents} agents) + ${s.pullsPerS} pulls/s (${s.bouncers} bouncers each every ${s.pullEveryS} s, ${s.streamBouncers} of them stream), ${s.seconds} s, SQLite | value | target |`,
  );
  console.log('|---|---|---|');
  console.log(`| alerts/s pushed (accepted / sent) | ${r.alertsPerSecond.toFixed(0)} (${r.alertsAccepted} / ${r.alertsSent}) | ${s.alertsPerS} |`);
  console.log(`| decisions active after the run (one per alert) | ${r.decisionsActive} | ${r.alertsAccepted} |`);
  console.log(`| pulls/s served (MB/s of decisions sent) | ${r.pullsPerSecond.toFixed(0)} (${r.pullMBPerSecond.toFixed(1)}) | ${s.pullsPerS} |`);
  console.log(`| pull latency p50 / p99 / max (ms) | ${f(r.pullP50Ms)} / ${f(r.pullP99Ms)} / ${f(r.pullMaxMs)} | p99 < 50 |`);
  console.log(`| … stream delta p99 / live ?ip= p99 (ms) | ${f(r.streamP99Ms)} / ${f(r.liveP99Ms)} | |`);
  console.log(`| alert push latency p50 / p99 / max (ms) | ${f(r.pushP50Ms)} / ${f(r.pushP99Ms)} / ${f(r.pushMaxMs)} | |`);
  const heavy = r.heavyWatchers;
  if (heavy)
    console.log(
      `| pull latency p50 / p99 / max while the heavy watcher requests ran (${heavy.pulls} pulls; ${heavy.results.join(' ')}) | ${f(heavy.p50Ms)} / ${f(heavy.p99Ms)} / ${f(heavy.maxMs)} | max < 500 |`,
    );
  if (heavy?.serverLoopBusy && heavy.serverLoopDelay) {
    const o = (x: TicksOver) => `${x.over['20ms']} / ${x.over['50ms']} / ${x.over['100ms']}`;
    console.log(
      `| … in the server meanwhile (${heavy.serverLoopBusy.ticks} ticks of its 10 ms event-loop probe): main-thread CPU between two ticks over 20 / 50 / 100 ms; tick late by over 20 / 50 / 100 ms | ${o(heavy.serverLoopBusy)}; ${o(heavy.serverLoopDelay)} | 0 over 50 ms |`,
    );
  }
  console.log(`| errors (pulls, pushes) | ${r.pullErrors}, ${r.pushErrors} | 0, 0 |`);
  const cpuPct = r.serverCpuPercentOfOneCore;
  console.log(`| server CPU (% of one core, measured window) | ${cpuPct === null ? '–' : cpuPct.toFixed(0)} | |`);
  console.log(`| load generator CPU (% of one core; near 100 = the client limits the run) | ${r.loadGeneratorCpuPercentOfOneCore.toFixed(0)} | |`);
  console.log(
    `| load generator event-loop delay p99 / max (ms; it adds to every latency above) | ${f(r.loadGeneratorLagP99Ms)} / ${f(r.loadGeneratorLagMaxMs)} | |`,
  );
  const stall = r.machineCpuStallPercent;
  console.log(
    `| machine CPU pressure (PSI some: % of time a task waited for a CPU; high = the numbers are the machine's) | ${stall === null ? '–' : stall.toFixed(0)} | ~0 |`,
  );
  console.log(`| server peak RSS (MB) | ${r.serverPeakRssMB?.toFixed(0) ?? '–'} | |`);
  if (r.firstPushError) console.log(`first push error: ${r.firstPushError}`);
  console.log(`\n${pass ? 'PASS' : 'MISS'}: pull p99 < 50 ms with every alert accepted and turned into a decision`);
}
