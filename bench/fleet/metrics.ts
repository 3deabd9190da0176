/**
 * What a run of the simulation shows: per failure kind and mode, time to page (the first message on
 * the `all` channel) and to a Critical page (the `critical` channel), the share never paged within
 * the failure's window; and false pages (no failure of that bouncer in effect) per 10,000 bouncer-days.
 */
import { FAILURE_KINDS, FAILURES, failureOfPage, visibleToLapi, type Failure, type FailureKind } from './failures.ts';
import type { Fleet } from './fleet.ts';
import type { Mode, SimBouncer } from './sim-bouncer.ts';
import type { SimResult } from './simulate.ts';
import { rhythmOf } from './snapshot.ts';
import { RHYTHM_MIN_WEEKS, RHYTHM_STEADY_HOURLY } from '../../src/core/health/live-rhythm.ts';
import { STEADY_EXPECTED, STEADY_WINDOW_MS, steadyAt } from './steady-traffic.ts';

const MIN = 60_000;
const D = 24 * 3600_000;

export interface Cell {
  kind: FailureKind;
  mode: Mode;
  /** `10 s` / `60 s` (stream update_frequency), `reports` / `traffic only` (live). */
  variant: string;
  failures: number;
  /** False: the Local API cannot see it (a canary can); its pages are counted as false ones. */
  visible: boolean;
  /** Seconds; null: never within the window. Sorted with the nulls last. */
  toPage: Array<number | null>;
  toCritical: Array<number | null>;
  /** Wrong key: from its first refused request to the page (seconds; null: never), for those with one. */
  fromRefusal: Array<number | null>;
}

export interface FalsePage {
  at: number;
  subject: string;
  kind: string;
  /** The noise it followed (within 15 min): its own failure's repair, Vigil down, a fleet-wide blip, its own blip, its nightly restart; or none. */
  after: string;
}

export interface Metrics {
  cells: Cell[];
  falsePages: FalsePage[];
  falseCriticalPages: FalsePage[];
  /** Bouncer-days with no failure in effect. */
  healthyBouncerDays: number;
}

const VARIANTS: Array<[Mode, string]> = [
  ['stream', '10 s'],
  ['stream', '60 s'],
  ['live', 'reports'],
  ['live', 'traffic only'],
];

function variantOf(b: SimBouncer): string {
  if (b.mode === 'stream') return `${b.freqMs / 1000} s`;
  return b.reportEveryMs === null ? 'traffic only' : 'reports';
}

function sortedNullsLast(xs: Array<number | null>): Array<number | null> {
  return [...xs].sort((a, b) => (a === null ? 1 : b === null ? -1 : a - b));
}

/** Nearest-rank percentile; null (never) counts as the longest. */
export function percentile(sorted: Array<number | null>, p: number): number | null | undefined {
  if (sorted.length === 0) return undefined;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function noiseBefore(fleet: Fleet, b: SimBouncer | undefined, at: number): string {
  const near = (list: ReadonlyArray<{ from: number; to: number }>) => list.some((iv) => at >= iv.from && at <= iv.to + 15 * MIN);
  // Its own failure just repaired, before it had anything to send: a late word on a real failure.
  if (b && near(b.failures.map((f) => ({ from: f.end, to: f.end })))) return 'own_failure_repaired';
  if (near(fleet.noise.vigilDown.list)) return 'vigil_down';
  if (near(fleet.noise.fleetBlips.list)) return 'fleet_blip';
  if (b && near(b.blips.list)) return 'own_blip';
  if (b && near(b.nightly.list)) return 'nightly_restart';
  return 'none';
}

export function measure(result: SimResult): Metrics {
  const { fleet, told } = result;
  const byName = new Map(fleet.bouncers.map((b) => [b.name, b]));
  const cells = new Map<string, Cell>();
  for (const kind of FAILURE_KINDS)
    for (const [mode, variant] of VARIANTS)
      cells.set(`${kind}|${mode}|${variant}`, { kind, mode, variant, failures: 0, visible: true, toPage: [], toCritical: [], fromRefusal: [] });
  let failedMs = 0;
  for (const b of fleet.bouncers) {
    for (const f of b.failures) {
      const cell = cells.get(`${f.kind}|${b.mode}|${variantOf(b)}`)!;
      cell.failures++;
      cell.visible = visibleToLapi(f, b.mode);
      cell.toPage.push(f.firstPageAt === null ? null : (f.firstPageAt - f.start) / 1000);
      cell.toCritical.push(f.firstCriticalAt === null ? null : (f.firstCriticalAt - f.start) / 1000);
      if (f.firstRefusedAt !== undefined) cell.fromRefusal.push(f.firstPageAt === null ? null : Math.max(0, f.firstPageAt - f.firstRefusedAt) / 1000);
      failedMs += Math.min(f.end, fleet.end) - f.start;
    }
  }
  for (const c of cells.values()) {
    c.toPage = sortedNullsLast(c.toPage);
    c.toCritical = sortedNullsLast(c.toCritical);
    c.fromRefusal = sortedNullsLast(c.fromRefusal);
  }
  const falsePages: FalsePage[] = [];
  const falseCriticalPages: FalsePage[] = [];
  for (const t of told) {
    if (t.event !== 'opened') continue;
    const b = t.subject.startsWith('bouncer:') ? byName.get(t.subject.slice('bouncer:'.length)) : undefined;
    if (b && failureOfPage(b.failures, b.mode, t.at) !== null) continue;
    const page = { at: t.at, subject: t.subject, kind: t.kind, after: noiseBefore(fleet, b, t.at) };
    (t.channel === 'all' ? falsePages : falseCriticalPages).push(page);
  }
  const healthyBouncerDays = (fleet.bouncers.length * (fleet.end - fleet.start) - failedMs) / D;
  return { cells: [...cells.values()], falsePages, falseCriticalPages, healthyBouncerDays };
}

export function formatSeconds(s: number | null | undefined): string {
  if (s === undefined) return '–';
  if (s === null) return 'never';
  if (s < 120) return `${Math.round(s)} s`;
  if (s < 7200) return `${(s / 60).toFixed(1)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

const pct = (x: number) => `${(100 * x).toFixed(x > 0 && x < 0.1 ? 1 : 0)} %`;

/** The table as markdown (docs/benchmarks.md takes it as printed). */
export function table(m: Metrics): string {
  const windowH = FAILURES.windowMs / 3600_000;
  const rows = [`| failure | mode | n | time to page p50 / p95 / max | never paged in ${windowH} h | Critical page p50 / p95 |`, '|---|---|---|---|---|---|'];
  for (const c of m.cells) {
    if (!c.visible) {
      rows.push(`| ${c.kind} | ${c.mode} ${c.variant} | ${c.failures} | not visible to the Local API: only a canary tells (docs/canaries.md) | | |`);
      continue;
    }
    const never = c.toPage.filter((x) => x === null).length;
    const paged = c.toPage.filter((x): x is number => x !== null);
    rows.push(
      `| ${c.kind} | ${c.mode} ${c.variant} | ${c.failures} | ${formatSeconds(percentile(c.toPage, 50))} / ${formatSeconds(percentile(c.toPage, 95))} / ${formatSeconds(paged.length ? paged[paged.length - 1] : c.failures ? null : undefined)} | ${c.failures ? pct(never / c.failures) : '–'} | ${formatSeconds(percentile(c.toCritical, 50))} / ${formatSeconds(percentile(c.toCritical, 95))} |`,
    );
  }
  return rows.join('\n');
}

/** Fail-open rows again, timed from the first refused request (the moment clients are let through). */
export function failOpenTable(m: Metrics): string {
  const rows = ['| wrong key | n refused | from the first refused request to the page p50 / p95 / max |', '|---|---|---|'];
  for (const c of m.cells) {
    if (c.kind !== 'wrong_key') continue;
    const paged = c.fromRefusal.filter((x): x is number => x !== null);
    rows.push(
      `| ${c.mode} ${c.variant} | ${c.fromRefusal.length} | ${formatSeconds(percentile(c.fromRefusal, 50))} / ${formatSeconds(percentile(c.fromRefusal, 95))} / ${formatSeconds(paged.length ? paged[paged.length - 1] : c.fromRefusal.length ? null : undefined)} |`,
    );
  }
  return rows.join('\n');
}

/** Its usage reports still say something when it stopped: a module unloaded whose process reports keeps them going. */
function reportsTell(b: SimBouncer, f: Failure): boolean {
  return b.reportEveryMs !== null && !(f.kind === 'module_unloaded' && f.stillReports);
}

/** Live bouncers that stopped (killed, network cut, module unloaded): not the wrong key, which fail-open tells. */
function liveStopped(fleet: Fleet): Array<{ b: SimBouncer; f: Failure; toPage: number | null }> {
  const out: Array<{ b: SimBouncer; f: Failure; toPage: number | null }> = [];
  for (const b of fleet.bouncers) {
    if (b.mode !== 'live') continue;
    for (const f of b.failures) if (f.kind !== 'wrong_key') out.push({ b, f, toPage: f.firstPageAt === null ? null : (f.firstPageAt - f.start) / 1000 });
  }
  return out;
}

export const STEADY_ROW = `steady traffic at the failure (≥ ${STEADY_EXPECTED} queries expected in the next ${STEADY_WINDOW_MS / 60_000} min, each of the last weeks)`;
export const STEADY_OR_REPORTS_ROW = 'steady traffic at the failure, or reports every 15 min';

/**
 * Live bouncers that stopped, by what the Local API had to go on when they stopped: a steady
 * traffic rhythm learnt for that hour (some hour of the six judged with at least
 * RHYTHM_STEADY_HOURLY recorded queries in each of the last weeks), usage reports, both or neither;
 * then issue 25's own words, "a live bouncer with steady traffic" (steady-traffic.ts: the next 15 min
 * of that hour of the week, whatever the rule reads), alone and with the 15-min reporters.
 */
export function liveStoppedGroups(result: SimResult): Map<string, Array<number | null>> {
  const groups = new Map<string, Array<number | null>>();
  const add = (key: string, v: number | null) => groups.set(key, [...(groups.get(key) ?? []), v]);
  for (const { b, f, toPage } of liveStopped(result.fleet)) {
    const rhythm = rhythmOf(result.fleet, b, f.start) ?? [];
    const steady = rhythm.some((h) => h.weeks >= RHYTHM_MIN_WEEKS && h.fewest >= RHYTHM_STEADY_HOURLY);
    const reports = reportsTell(b, f);
    add(
      steady && reports ? 'traffic rhythm and reports' : steady ? 'traffic rhythm only' : reports ? 'reports only' : 'neither (quiet hour, no reports)',
      toPage,
    );
    const steadyNow = steadyAt(result.fleet, b, f.start);
    if (steadyNow) add(STEADY_ROW, toPage);
    if (steadyNow || (reports && b.reportEveryMs === 15 * 60_000)) add(STEADY_OR_REPORTS_ROW, toPage);
  }
  for (const [k, v] of groups) groups.set(k, sortedNullsLast(v));
  return groups;
}

export function liveStoppedTable(result: SimResult): string {
  const groups = liveStoppedGroups(result);
  const rows = ['| live, stopped: what it had | n | time to page p50 / p95 / max |', '|---|---|---|'];
  const keys = ['traffic rhythm and reports', 'traffic rhythm only', 'reports only', 'neither (quiet hour, no reports)', STEADY_ROW, STEADY_OR_REPORTS_ROW];
  for (const key of keys) {
    const list = groups.get(key) ?? [];
    const paged = list.filter((x): x is number => x !== null);
    rows.push(
      `| ${key} | ${list.length} | ${formatSeconds(percentile(list, 50))} / ${formatSeconds(percentile(list, 95))} / ${formatSeconds(paged.length ? paged[paged.length - 1] : list.length ? null : undefined)} |`,
    );
  }
  return rows.join('\n');
}

export function falsePageRate(m: Metrics, pages: readonly FalsePage[]): number {
  return (pages.length / m.healthyBouncerDays) * 10_000;
}

/** False pages by the noise they followed. */
export function falseByNoise(pages: readonly FalsePage[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of pages) out[p.after] = (out[p.after] ?? 0) + 1;
  return out;
}

/** False pages by issue kind (a Fleet Silent issue is one page for the whole fleet). */
export function falseByKind(pages: readonly FalsePage[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of pages) out[p.kind] = (out[p.kind] ?? 0) + 1;
  return out;
}

/** The goals of issue 25, each as measured: p95 over the failures it covers, or the false-page rate. */
export function goals(m: Metrics, liveGroups?: Map<string, Array<number | null>>): Array<{ goal: string; measured: string; met: boolean }> {
  const p95Of = (pick: (c: Cell) => boolean) => {
    const all = sortedNullsLast(m.cells.filter(pick).flatMap((c) => c.toPage));
    return percentile(all, 95);
  };
  const within = (v: number | null | undefined, limit: number) => v !== undefined && v !== null && v <= limit;
  const stopped = (c: Cell) => c.kind === 'killed' || c.kind === 'network_cut';
  const stream10 = p95Of((c) => c.mode === 'stream' && c.variant === '10 s' && stopped(c));
  const stream60 = p95Of((c) => c.mode === 'stream' && c.variant === '60 s' && stopped(c));
  const live = p95Of((c) => c.mode === 'live' && c.kind !== 'wrong_key');
  const failOpen = p95Of((c) => c.kind === 'wrong_key');
  const fromRefusal = percentile(sortedNullsLast(m.cells.filter((c) => c.kind === 'wrong_key').flatMap((c) => c.fromRefusal)), 95);
  const rate = falsePageRate(m, m.falsePages);
  const criticalRate = falsePageRate(m, m.falseCriticalPages);
  return [
    { goal: 'stream bouncer (10 s) stopped (killed, network cut): p95 ≤ 90 s', measured: formatSeconds(stream10), met: within(stream10, 90) },
    { goal: 'stream bouncer (60 s) stopped (killed, network cut): p95 ≤ 90 s', measured: formatSeconds(stream60), met: within(stream60, 90) },
    { goal: 'live bouncer stopped (killed, network cut, module unloaded): p95 ≤ 15 min', measured: formatSeconds(live), met: within(live, 15 * 60) },
    ...(liveGroups ? [steadyGoal(liveGroups)] : []),
    { goal: 'fail-open (wrong key), stream and live: p95 ≤ 2 min from the failure', measured: formatSeconds(failOpen), met: within(failOpen, 120) },
    {
      goal: 'fail-open (wrong key), stream and live: p95 ≤ 2 min from its first refused request',
      measured: formatSeconds(fromRefusal),
      met: within(fromRefusal, 120),
    },
    { goal: '≤ 1 false page per 10,000 bouncer-days (any criticality)', measured: rate.toFixed(1), met: rate <= 1 },
    { goal: '≤ 1 false page per 10,000 bouncer-days (Critical only)', measured: criticalRate.toFixed(1), met: criticalRate <= 1 },
  ];
}

/** Issue 25's live goal in its own words: stopped with steady traffic at the failure (steady-traffic.ts). */
function steadyGoal(groups: Map<string, Array<number | null>>): { goal: string; measured: string; met: boolean } {
  const list = groups.get(STEADY_ROW) ?? [];
  const p95 = percentile(list, 95);
  return {
    goal: `live bouncer stopped with ${STEADY_ROW}: p95 ≤ 15 min`,
    measured: `${formatSeconds(p95)} (n ${list.length})`,
    met: p95 !== undefined && p95 !== null && p95 <= 15 * 60,
  };
}

export type { Failure };
