import { formatGoDuration, formatRfc3339 } from '../../lib/duration.ts';
import type { BouncerHealthInput, HealthRules, LikelyCause } from './types.ts';
import { roundToSecond } from './lapi-restart-cause.ts';

/**
 * A stopped live-mode bouncer (issue 25 item 3). A live bouncer asks `GET /v1/decisions?ip=` only
 * when traffic comes, so it has no pull cadence; two signals still tell that it stopped:
 *
 * - its usage-metrics reports: their period (the report's `window_size_seconds`: 900 s for the
 *   firewall, Lua and Go bouncers, 600 s for Traefik's plugin) is a cadence. It is late once two
 *   reports in a row are missing: one alone is lost to any restart (the bouncers restart their timer
 *   and push first one period after start) or a 30–90 s network blip (a failed push is not retried).
 * - the rhythm of its live queries per hour of the week. The Local API records at most one live
 *   query a minute per bouncer, so an hour with c recorded queries means about c / (60 − c) queries
 *   a minute (a Poisson process of rate λ is recorded 60λ / (1 + λ) times an hour). We keep, for
 *   each hour of the week, the fewest recorded in that hour over the last weeks (at least 2), and
 *   raise when the expected number of queries over the silence is at least RHYTHM_EXPECTED, i.e.
 *   when a running bouncer would have been that silent with probability e^-18 ≈ 1.5·10⁻⁸ or less.
 *   Hours it was quiet in any of those weeks (fewer than RHYTHM_STEADY_HOURLY) add nothing: a
 *   quiet night, a weekend or a holiday it already had gives no verdict.
 *
 * - both at once: one report missed (due, not come: about 1 in 2,500 reports is lost to a blip or a
 *   restart) while the bouncer's traffic went silent before that report was due, for a silence a
 *   running bouncer would keep with probability e^-RHYTHM_EXPECTED_WITH_REPORT or less. Each alone is
 *   common enough; together they are as rare as the rhythm's own threshold, and come a report sooner.
 *
 * Either alone, or one missed report with an unlikely silence, raises Integration Late (Warning);
 * two missed reports and the rhythm together are Critical. Canaries
 * (docs/canaries.md) are the sure proof, suggested when a live bouncer has neither signal. Pure.
 */

/** One hour of a live bouncer's learnt rhythm: the same hour of the week in the last weeks. */
export interface RhythmHour {
  /** Start of the hour (epoch ms) this expectation is for: the current hour or one just before. */
  hourStart: number;
  /** The fewest live queries recorded in this hour of the week over `weeks` past weeks. */
  fewest: number;
  /** How many past weeks the bouncer existed and was recorded for this hour. */
  weeks: number;
}

/** Weeks of history before the rhythm says anything: one week alone could be the odd one. */
export const RHYTHM_MIN_WEEKS = 2;
/** Weeks looked back (the pull history keeps 29 days). */
export const RHYTHM_MAX_WEEKS = 4;
/** An hour with fewer recorded queries than this in any of those weeks is quiet: no verdict from it. */
export const RHYTHM_STEADY_HOURLY = 20;
/** Expected queries over the silence before it is raised: P(0 | Poisson) = e^-18 ≈ 1.5e-8. */
export const RHYTHM_EXPECTED = 18;
/**
 * With one usage report missed, the traffic silence needed: P(0 | Poisson) = e^-9.2 ≈ 1e-4, times the
 * ≈ 4e-4 chance of a lost report, is rarer than the rhythm's e^-18 alone (bench:fleet: no page from
 * noise, docs/benchmarks.md).
 */
export const RHYTHM_EXPECTED_WITH_REPORT = 9.2;
/** Never from a shorter silence (one-minute recording, the activity flush, a slow request). */
export const RHYTHM_MIN_SILENCE_MS = 5 * 60_000;
/** Hours of rhythm the evaluator is given (the current one and the ones before). */
export const RHYTHM_HOURS = 6;
/** Usage-metrics reports missed in a row before a live bouncer is late. */
export const REPORTS_MISSED = 2;
/** Slack past REPORTS_MISSED periods (a report's own delay, the evaluation). */
export const REPORTS_SLACK_MS = 60_000;
/** Report periods believed: shorter or longer are not a cadence worth judging. */
export const REPORT_PERIOD_MIN_MS = 60_000;
export const REPORT_PERIOD_MAX_MS = 24 * 3600_000;

const HOUR = 3600_000;
const WEEK = 7 * 24 * HOUR;

/** The past hours (epoch ms) whose recorded queries `learnRhythm` reads for the hour holding `now`. */
export function rhythmSourceHours(now: number): number[] {
  const current = Math.floor(now / HOUR) * HOUR;
  const hours: number[] = [];
  for (let j = 0; j < RHYTHM_HOURS; j++) for (let k = 1; k <= RHYTHM_MAX_WEEKS; k++) hours.push(current - j * HOUR - k * WEEK);
  return hours;
}

/**
 * A bouncer's rhythm for the hour holding `now` and the RHYTHM_HOURS − 1 before it, from its live
 * queries recorded per hour (`recorded(hourStart)`, 0 when none): for each, the fewest in that hour
 * of the week over the last RHYTHM_MAX_WEEKS weeks that it existed (`createdAt`) and was recorded
 * (`firstRecorded`, its first recorded hour: before it nothing was recorded, which is not silence).
 * The store (src/store/live-signals.ts) and a simulation both build it here.
 */
export function learnRhythm(recorded: (hourStart: number) => number, createdAt: number, firstRecorded: number | null, now: number): RhythmHour[] {
  const current = Math.floor(now / HOUR) * HOUR;
  const rhythm: RhythmHour[] = [];
  for (let j = 0; j < RHYTHM_HOURS; j++) {
    const hourStart = current - j * HOUR;
    let fewest = Number.POSITIVE_INFINITY;
    let weeks = 0;
    for (let k = 1; k <= RHYTHM_MAX_WEEKS; k++) {
      const past = hourStart - k * WEEK;
      if (createdAt > past || firstRecorded === null || firstRecorded > past) continue;
      weeks++;
      fewest = Math.min(fewest, recorded(past));
    }
    rhythm.push({ hourStart, fewest: weeks === 0 ? 0 : fewest, weeks });
  }
  return rhythm;
}

/** Queries a minute implied by `recorded` live queries in an hour (at most one recorded a minute). */
export function queriesPerMinute(recorded: number): number {
  const c = Math.min(Math.max(recorded, 0), 58);
  return c / (60 - c);
}

export interface RhythmVerdict {
  /** Expected queries over the counted silence if it were running. */
  expected: number;
  /** Silence counted (from its last sign of life or the Local API's last start, whichever is later). */
  silenceMs: number;
  /** The steadiest hour's expectation, for the evidence. */
  perMinute: number;
}

export interface ReportVerdict {
  periodMs: number;
  silenceMs: number;
}

export interface LiveSilence {
  /** Its last sign of life. */
  since: number;
  rhythm: RhythmVerdict | null;
  reports: ReportVerdict | null;
  /** Only one report missed, with an unlikely traffic silence (oneMissedVerdict). */
  oneReportMissed: boolean;
  /** 'integration_late' on one signal, 'offline' when both agree. */
  stage: 'late' | 'offline';
  cause: LikelyCause;
}

/**
 * A live-mode bouncer: no steady stream cadence, and it has pulled (live queries refresh the last
 * pull) or reports usage metrics (a quiet site whose bouncer has not had a visitor to look up yet).
 */
export function isLive(b: BouncerHealthInput): boolean {
  return b.pullCadenceMs === null && (b.lastPullAt !== null || b.lastUsageMetricsAt !== null);
}

function lastLife(b: BouncerHealthInput): number | null {
  const t = Math.max(b.lastPullAt ?? 0, b.lastRequestAt ?? 0, b.lastUsageMetricsAt ?? 0);
  return t > 0 ? t : null;
}

/** While the Local API was down nothing could be heard: silences count from its latest start. */
function countedFrom(life: number, lapiStarts: readonly number[], now: number): number {
  let from = life;
  for (const s of lapiStarts) if (s > from && s <= now) from = s;
  return from;
}

/**
 * Queries the bouncer's usual traffic expects over the counted silence [from, now], from the steady
 * hours of its rhythm (quiet hours add nothing), and the steadiest hour's rate; null under the
 * minimum silence or without a rhythm.
 */
export function expectedOverSilence(rhythm: readonly RhythmHour[] | null | undefined, from: number, now: number): RhythmVerdict | null {
  if (!rhythm || now - from < RHYTHM_MIN_SILENCE_MS) return null;
  let expected = 0;
  let perMinute = 0;
  for (const h of rhythm) {
    if (h.weeks < RHYTHM_MIN_WEEKS || h.fewest < RHYTHM_STEADY_HOURLY) continue;
    const overlap = Math.min(now, h.hourStart + 3600_000) - Math.max(from, h.hourStart);
    if (overlap <= 0) continue;
    const rate = queriesPerMinute(h.fewest);
    expected += (rate * overlap) / 60_000;
    perMinute = Math.max(perMinute, rate);
  }
  return { expected, silenceMs: now - from, perMinute };
}

/** The reports' verdict: null unless REPORTS_MISSED reports in a row are missing. */
export function reportVerdict(periodMs: number | null | undefined, lastReportAt: number | null, from: number, now: number): ReportVerdict | null {
  if (periodMs == null || lastReportAt === null || periodMs < REPORT_PERIOD_MIN_MS || periodMs > REPORT_PERIOD_MAX_MS) return null;
  const silenceMs = now - from;
  return silenceMs > REPORTS_MISSED * periodMs + REPORTS_SLACK_MS ? { periodMs, silenceMs } : null;
}

/**
 * One report missed while the traffic is unlikely silent: the report due at `lastReportAt + period`
 * (or a period after the Local API's later start) has not come, the traffic went silent before it
 * was due, and the silence expects RHYTHM_EXPECTED_WITH_REPORT queries or more.
 */
export function oneMissedVerdict(
  b: BouncerHealthInput,
  traffic: RhythmVerdict | null,
  from: number,
  lapiStarts: readonly number[],
  now: number,
): { report: ReportVerdict; traffic: RhythmVerdict } | null {
  const periodMs = b.usageReportPeriodMs;
  const last = b.lastUsageMetricsAt;
  if (traffic === null || traffic.expected < RHYTHM_EXPECTED_WITH_REPORT) return null;
  if (periodMs == null || last === null || periodMs < REPORT_PERIOD_MIN_MS || periodMs > REPORT_PERIOD_MAX_MS) return null;
  const due = countedFrom(last, lapiStarts, now) + periodMs;
  if (from > due || now <= due + REPORTS_SLACK_MS) return null;
  return { report: { periodMs, silenceMs: now - last }, traffic };
}

/** Whether the rhythm can ever give a verdict (some steady hour learnt over enough weeks). */
function rhythmLearnt(rhythm: readonly RhythmHour[] | null | undefined): boolean {
  return (rhythm ?? []).some((h) => h.weeks >= RHYTHM_MIN_WEEKS && h.fewest >= RHYTHM_STEADY_HOURLY);
}

/** A live-mode bouncer that stopped, by its rhythm or its reports; null when neither says so (or it is not live). */
export function liveSilence(b: BouncerHealthInput, lapiStarts: readonly number[], now: number, rules: HealthRules): LiveSilence | null {
  if (rules.mode === 'console' || b.revoked || !isLive(b)) return null;
  const life = lastLife(b);
  if (life === null) return null;
  const from = countedFrom(life, lapiStarts, now);
  const traffic = expectedOverSilence(b.queryRhythm, from, now);
  // The rhythm alone: a silence its usual traffic makes unlikely enough (e^-RHYTHM_EXPECTED).
  const rhythm = traffic !== null && traffic.expected >= RHYTHM_EXPECTED ? traffic : null;
  const reports = reportVerdict(b.usageReportPeriodMs, b.lastUsageMetricsAt, from, now);
  const together = rhythm === null && reports === null ? oneMissedVerdict(b, traffic, from, lapiStarts, now) : null;
  if (rhythm === null && reports === null && together === null) return null;
  const evidence: string[] = [];
  const shown = rhythm ?? together?.traffic ?? null;
  if (shown) {
    evidence.push(
      `no live query for ${formatGoDuration(roundToSecond(shown.silenceMs))} (since ${formatRfc3339(from)}), where in each of the last weeks it made at least about ${formatRate(shown.perMinute)} a minute at this hour: ${shown.expected.toFixed(0)} queries expected, so a running bouncer would be this silent with probability about ${formatProbability(Math.exp(-shown.expected))}`,
    );
  }
  if (reports) {
    evidence.push(
      `its usage-metrics reports (every ${formatGoDuration(reports.periodMs)}) stopped: none for ${formatGoDuration(roundToSecond(reports.silenceMs))}, ${Math.floor(reports.silenceMs / reports.periodMs)} missed in a row`,
    );
  }
  if (together) {
    evidence.push(
      `and its usage-metrics report due ${formatGoDuration(roundToSecond(together.report.silenceMs - together.report.periodMs))} ago (every ${formatGoDuration(together.report.periodMs)}) did not come: one lost report alone is common, but not with this silence`,
    );
  }
  evidence.push(
    b.kind === 'firewall'
      ? 'check that the firewall bouncer service runs and can reach the Local API'
      : 'check that the bouncer service or web-server module runs, is loaded, and can reach the Local API',
  );
  const both = rhythm !== null && reports !== null;
  return {
    since: life,
    rhythm: shown,
    reports: reports ?? together?.report ?? null,
    oneReportMissed: together !== null,
    stage: both ? 'offline' : 'late',
    cause: { cause: 'live_silent', confidence: both ? 'high' : 'medium', evidence },
  };
}

/**
 * A note for an issue on a live-mode bouncer that has neither usage-metrics reports nor a learnt
 * rhythm: only the 24 h rule can then tell that it stopped, and a canary would prove it blocks.
 */
export function canaryNote(b: BouncerHealthInput, rules: HealthRules): string | null {
  if (!isLive(b)) return null;
  const reports = b.usageReportPeriodMs != null && b.usageReportPeriodMs >= REPORT_PERIOD_MIN_MS && b.usageReportPeriodMs <= REPORT_PERIOD_MAX_MS;
  if (reports || rhythmLearnt(b.queryRhythm)) return null;
  return `a live-mode bouncer that sends no usage-metrics reports and has no steady traffic rhythm learnt yet (${RHYTHM_MIN_WEEKS} weeks): only the ${formatGoDuration(rules.offlineAfterMs)} rule tells it stopped; a canary proves it blocks within minutes (docs/canaries.md: \`canaries:\` in vigil.yaml)`;
}

function formatRate(perMinute: number): string {
  return perMinute >= 10 ? perMinute.toFixed(0) : perMinute.toFixed(1);
}

function formatProbability(p: number): string {
  return p < 1e-3 ? p.toExponential(0) : p.toFixed(3);
}

/** The summary line for a live-mode bouncer gone silent. */
export function liveSilenceSummary(b: BouncerHealthInput, v: LiveSilence, now: number): string {
  const label = b.type ? `live-mode bouncer '${b.name}' (${b.type})` : `live-mode bouncer '${b.name}'`;
  const signs = [
    v.rhythm ? 'at this hour it usually queries steadily' : '',
    v.reports
      ? v.oneReportMissed
        ? `its usage-metrics report (every ${formatGoDuration(v.reports.periodMs)}) is overdue`
        : `its usage-metrics reports (every ${formatGoDuration(v.reports.periodMs)}) stopped`
      : '',
  ]
    .filter(Boolean)
    .join(', and ');
  return `${label} has been silent for ${formatGoDuration(roundToSecond(now - v.since))} (last seen ${formatRfc3339(v.since)}): ${signs}.`;
}
