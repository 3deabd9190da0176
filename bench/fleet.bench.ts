/**
 * The fleet simulation (issue 25 item 4): 1,000 bouncers × 30 days, deterministic (seeded, simulated
 * clock, nothing sleeps), through the real health evaluator (core/health/evaluate.ts), the engine's
 * incidents (core/health/incident.ts) and the real notification planner (core/notify/plan.ts).
 * It injects failures at random times and reports, per failure kind and mode, how soon a page went
 * out, and how many pages went out with no failure in effect. Model: bench/fleet/ (noise.ts states
 * the noise, failures.ts the failures); docs/benchmarks.md, "Fleet simulation".
 *
 * Run: npm run bench:fleet [-- --bouncers 1000 --days 30 --seed 25 --every-tick]
 *      other thresholds: --late-after-factor 6 --late-after-min 60 --closed-late-after-min 60 --offline-after-factor 30 --offline-after-min 600 --fail-open-after 60 (seconds)
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_EVALUATE_EVERY_MS, DEFAULT_RULES } from '../src/core/health/evaluate.ts';
import * as LIVE from '../src/core/health/live-rhythm.ts';
import type { HealthRules } from '../src/core/health/types.ts';
import { FAILURE_TEXT, FAILURES } from './fleet/failures.ts';
import {
  failOpenTable,
  falseByKind,
  liveStoppedGroups,
  liveStoppedTable,
  falseByNoise,
  falsePageRate,
  formatSeconds,
  goals,
  measure,
  table,
} from './fleet/metrics.ts';
import { NOISE } from './fleet/noise.ts';
import { simulate } from './fleet/simulate.ts';
import { writeResult } from './support.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({
  options: {
    bouncers: { type: 'string', default: '1000' },
    days: { type: 'string', default: '30' },
    seed: { type: 'string', default: '25' },
    'every-tick': { type: 'boolean', default: false },
    // Other thresholds than the defaults, to see the trade-off move (seconds).
    'late-after-factor': { type: 'string' },
    'late-after-min': { type: 'string' },
    'closed-late-after-min': { type: 'string' },
    'offline-after-factor': { type: 'string' },
    'offline-after-min': { type: 'string' },
    'fail-open-after': { type: 'string' },
  },
});
const num = (v: string | undefined, scale = 1) => (v === undefined ? undefined : Number(v) * scale);
const rules: HealthRules = {
  ...DEFAULT_RULES,
  ...Object.fromEntries(
    Object.entries({
      lateAfterFactor: num(values['late-after-factor']),
      lateAfterMinMs: num(values['late-after-min'], 1000),
      closedLateAfterMinMs: num(values['closed-late-after-min'], 1000),
      offlineAfterFactor: num(values['offline-after-factor']),
      offlineAfterMinMs: num(values['offline-after-min'], 1000),
      failOpenAfterMs: num(values['fail-open-after'], 1000),
    }).filter(([, v]) => v !== undefined),
  ),
};
const opts = {
  bouncers: Number(values.bouncers),
  days: Number(values.days),
  seed: Number(values.seed),
  mode: values['every-tick'] ? ('every-tick' as const) : ('sparse' as const),
  rules,
};

console.log(
  `Fleet simulation: ${opts.bouncers} bouncers × ${opts.days} days, seed ${opts.seed}, evaluation every ${DEFAULT_EVALUATE_EVERY_MS / 1000} s (${opts.mode})`,
);
console.log('Noise model (bench/fleet/noise.ts):');
for (const [k, v] of Object.entries(NOISE)) console.log(`  ${k}: ${JSON.stringify(v)}`);
console.log('Failures (bench/fleet/failures.ts):');
for (const [k, v] of Object.entries(FAILURES)) console.log(`  ${k}: ${JSON.stringify(v)}`);
for (const [k, v] of Object.entries(FAILURE_TEXT)) console.log(`  ${k}: ${v}`);

// The live-mode thresholds are constants of live-rhythm.ts, not rules: printed so a sweep's runs say which they ran with.
const liveThresholds = {
  rhythmExpected: LIVE.RHYTHM_EXPECTED,
  rhythmExpectedWithReport: LIVE.RHYTHM_EXPECTED_WITH_REPORT,
  rhythmSteadyHourly: LIVE.RHYTHM_STEADY_HOURLY,
  rhythmMinSilenceMs: LIVE.RHYTHM_MIN_SILENCE_MS,
  reportsMissed: LIVE.REPORTS_MISSED,
};
console.log(`Live-mode thresholds (src/core/health/live-rhythm.ts): ${JSON.stringify(liveThresholds)}`);

const started = performance.now();
const result = simulate(opts);
const seconds = (performance.now() - started) / 1000;
const m = measure(result);

console.log(
  `\nRules: ${JSON.stringify(rules)}${rules === DEFAULT_RULES || JSON.stringify(rules) === JSON.stringify(DEFAULT_RULES) ? ' (the defaults)' : ''}; channels: all (every criticality) and critical.`,
);
console.log(
  `Simulated in ${seconds.toFixed(1)} s: ${result.ticks} evaluation ticks, ${result.evaluations} evaluator calls judging ${result.bouncersJudged} bouncers in all.\n`,
);
console.log(table(m));
console.log(`\n${failOpenTable(m)}`);
console.log(`\n${liveStoppedTable(result)}`);
const rate = falsePageRate(m, m.falsePages);
const criticalRate = falsePageRate(m, m.falseCriticalPages);
console.log(
  `\nFalse pages: ${m.falsePages.length} in ${Math.round(m.healthyBouncerDays)} healthy bouncer-days = ${rate.toFixed(1)} per 10,000 bouncer-days (Critical: ${m.falseCriticalPages.length}, ${criticalRate.toFixed(1)}).`,
);
console.log(`  after: ${JSON.stringify(falseByNoise(m.falsePages))}; Critical after: ${JSON.stringify(falseByNoise(m.falseCriticalPages))}`);
console.log(`  by kind: ${JSON.stringify(falseByKind(m.falsePages))}; Critical by kind: ${JSON.stringify(falseByKind(m.falseCriticalPages))}`);
const fleetSilent = result.told.filter((t) => t.kind === 'fleet_silent' && t.event === 'opened' && t.channel === 'all');
console.log(
  `Fleet Silent issues opened: ${fleetSilent.length}${fleetSilent.length ? ` (at ${fleetSilent.map((t) => new Date(t.at).toISOString()).join(', ')})` : ''}.`,
);
// server/activity.ts keeps a learnt cadence when too few pulls were seen since a restart (cadenceUpdate): none should start without one.
const wiped = result.fleet.bouncers.flatMap((b) => (b.mode === 'stream' ? b.failures.filter((f) => f.cadenceAtStart === null) : []));
console.log(
  `Stream failures that began with no stored cadence (only the 24 h rule then): ${wiped.length}${wiped.length ? `, paged after ${wiped.map((f) => formatSeconds(f.firstPageAt === null ? null : (f.firstPageAt - f.start) / 1000)).join(', ')}` : ''}.`,
);
console.log('\nGoals (issue 25):');
const liveGroups = liveStoppedGroups(result);
for (const g of goals(m, liveGroups)) console.log(`  ${g.met ? 'met    ' : 'NOT met'}  ${g.goal}: ${g.measured}`);

writeResult(ROOT, 'fleet', {
  options: opts,
  rules,
  liveThresholds,
  evaluateEveryMs: DEFAULT_EVALUATE_EVERY_MS,
  noise: NOISE,
  failures: FAILURES,
  seconds,
  ticks: result.ticks,
  evaluations: result.evaluations,
  bouncersJudged: result.bouncersJudged,
  cells: m.cells,
  healthyBouncerDays: m.healthyBouncerDays,
  falsePagesPer10kBouncerDays: rate,
  falseCriticalPagesPer10kBouncerDays: criticalRate,
  falsePagesByNoise: falseByNoise(m.falsePages),
  falseCriticalPagesByNoise: falseByNoise(m.falseCriticalPages),
  falsePagesByKind: falseByKind(m.falsePages),
  fleetSilentOpened: fleetSilent.length,
  falsePages: m.falsePages,
  falseCriticalPages: m.falseCriticalPages,
  goals: goals(m, liveGroups),
  liveStopped: Object.fromEntries(liveGroups),
  streamFailuresWithoutCadence: wiped.length,
});
