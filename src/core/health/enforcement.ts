import { formatGoDuration, formatRfc3339 } from '../../lib/duration.ts';
import type { Decision } from '../model/records.ts';
import { matchesStream, type StreamQuery } from '../decisions/query.ts';
import { ISSUE_CATALOGUE, type Finding, type LikelyCause } from './types.ts';

/**
 * Proof of enforcement, pure (docs/canaries.md): a canary run's verdict → a finding with the step
 * that failed and its likely cause (remediation_not_enforced), and a bouncer's reported
 * `active_decisions` against what the Local API sends it (remediation_drift).
 */

export const CANARY_STEPS = ['baseline', 'add', 'wait', 'check', 'remove'] as const;
export type CanaryStep = (typeof CANARY_STEPS)[number];

/** One run of a canary, as stored (migration 010). */
export interface CanaryRun {
  id: number;
  canary: string;
  bouncerName: string;
  url: string;
  address: string;
  expect: 'ban' | 'captcha';
  startedAt: number;
  finishedAt: number;
  verdict: 'pass' | 'fail' | 'aborted';
  /** The first step that failed; null when the run passed. */
  failedStep: CanaryStep | null;
  summary: string;
  fix: string | null;
  decisionId: string | null;
  decisionRemoved: boolean;
  /** The last status the URL answered the test address with; null when it did not answer. */
  answerStatus: number | null;
  /** From the decision's commit to the bouncer's pull. */
  pulledAfterMs: number | null;
  /** From the decision's commit to the first blocked answer. */
  enforcedAfterMs: number | null;
  totalMs: number;
  steps: { step: CanaryStep; ok: boolean; ms: number; detail: string }[];
}

/** What a canary run tells about enforcement: proven, disproven, or nothing (the test could not be made). */
export function canaryOutcome(r: Pick<CanaryRun, 'verdict' | 'failedStep'>): 'enforced' | 'not_enforced' | 'inconclusive' {
  if (r.verdict === 'aborted') return 'inconclusive';
  // A pass whose decision could not be removed still proved enforcement.
  if (r.verdict === 'pass' || r.failedStep === 'remove') return 'enforced';
  if (r.failedStep === 'wait' || r.failedStep === 'check') return 'not_enforced';
  // Baseline (the site is down, or already blocks the address) or add (no such bouncer): no proof either way.
  return 'inconclusive';
}

export interface CanaryHealthInput {
  name: string;
  bouncerName: string;
  via: 'x-forwarded-for' | 'source';
  /** Its latest runs, newest first. */
  runs: CanaryRun[];
}

export interface DriftObservation {
  bouncerId: number;
  bouncerName: string;
  /** The usage-metrics report's receipt time. */
  reportAt: number;
  reported: number;
  expected: number;
  /**
   * Per origin label (`lists:<list>` for blocklists, as bouncers report them). `filtered`: the
   * bouncer's own stream query leaves this origin out, so the Local API holds decisions of it that
   * never reach the bouncer (its `expected` counts them all the same).
   */
  byOrigin: Record<string, { reported: number; expected: number; filtered?: boolean }>;
}

export interface EnforcementInput {
  canaries: CanaryHealthInput[];
  /** Per bouncer, its latest observations, newest first. */
  drift: DriftObservation[][];
}

/** Reports in a row that must disagree before drift is raised: one may have crossed a decision's arrival. */
export const DRIFT_REPORTS_IN_A_ROW = 2;
/** A gap this small (absolute, and as a share of what is expected) is noise: decisions that came or went between report and check. */
export const DRIFT_TOLERANCE = { absolute: 2, ratio: 0.02 } as const;

export function evaluateEnforcement(input: EnforcementInput): Finding[] {
  const out: Finding[] = [];
  for (const c of input.canaries) {
    const f = canaryFinding(c);
    if (f) out.push(f);
  }
  for (const obs of input.drift) {
    const f = driftFinding(obs);
    if (f) out.push(f);
  }
  return out;
}

/**
 * remediation_not_enforced from a canary's latest conclusive run; a pass resolves it, an
 * inconclusive run (site down, address already blocked) changes nothing.
 */
export function canaryFinding(c: CanaryHealthInput): Finding | null {
  const latest = c.runs.find((r) => canaryOutcome(r) !== 'inconclusive');
  if (!latest || canaryOutcome(latest) === 'enforced') return null;
  // The runs since the last one that proved enforcement: the failure began at the oldest of them.
  const lastPass = c.runs.findIndex((r) => canaryOutcome(r) === 'enforced');
  const failing = (lastPass === -1 ? c.runs : c.runs.slice(0, lastPass)).filter((r) => canaryOutcome(r) === 'not_enforced');
  const firstFail = failing.at(-1) ?? latest;
  const step = latest.steps.find((s) => !s.ok);
  const evidence = [
    `run at ${formatRfc3339(latest.startedAt)}: ${latest.expect} ${latest.address} → ${latest.url}, step '${latest.failedStep}' failed${step ? `: ${step.detail}` : ''}`,
    latest.pulledAfterMs !== null
      ? `bouncer '${c.bouncerName}' pulled ${formatGoDuration(latest.pulledAfterMs)} after the test decision was added`
      : `bouncer '${c.bouncerName}' did not pull after the test decision was added`,
  ];
  const causes = canaryCauses(latest, c.via, evidence);
  const notes = [`${failing.length} failed run(s) in a row; the test decision was ${latest.decisionRemoved ? 'removed' : 'NOT removed'}`];
  if (latest.fix) notes.push(`fix: ${latest.fix}`);
  return {
    kind: 'remediation_not_enforced',
    criticality: ISSUE_CATALOGUE.remediation_not_enforced.criticality,
    subject: `canary:${c.name}`,
    bouncerName: c.bouncerName,
    since: firstFail.startedAt,
    summary: `canary '${c.name}': ${latest.url} does not ${latest.expect === 'ban' ? 'block' : 'challenge'} ${latest.address} (step ${latest.failedStep} failed): ${latest.summary}`,
    causes,
    notes,
  };
}

function canaryCauses(r: CanaryRun, via: CanaryHealthInput['via'], evidence: string[]): LikelyCause[] {
  if (r.failedStep === 'wait') return [{ cause: 'decision_not_pulled', confidence: 'high', evidence }];
  if (r.answerStatus === null) return [{ cause: 'site_unreachable', confidence: 'high', evidence }];
  // Served while the decision was pulled: the integration is not in the path, or judges the wrong address.
  if (via === 'source')
    return [
      { cause: 'integration_not_loaded', confidence: 'high', evidence },
      { cause: 'client_address_not_passed', confidence: 'low', evidence: ['the test connected from the address itself: no proxy header was involved'] },
    ];
  return [
    { cause: 'integration_not_loaded', confidence: 'medium', evidence },
    { cause: 'client_address_not_passed', confidence: 'medium', evidence: [`the address was sent as X-Forwarded-For; answered ${r.answerStatus}`] },
  ];
}

/** What a bouncer's stream query asks for (recorded at its pulls, migration 010). */
export type StreamFilters = Pick<StreamQuery, 'scopes' | 'origins' | 'scenariosContaining' | 'scenariosNotContaining' | 'dedup'>;

/** The origin label a bouncer reports a decision under: `lists:<list>` for blocklists (CrowdSec's convention). */
export function originLabel(d: Pick<Decision, 'origin' | 'scenario'>): string {
  return d.origin === 'lists' && d.scenario !== '' ? `lists:${d.scenario}` : d.origin;
}

/**
 * What the Local API sends a bouncer with these filters: its active, non-simulated decisions that
 * match, one per (value, type, scope) when it dedups (the longest, as the stream does), per origin.
 */
export function expectedActiveDecisions(active: readonly Decision[], filters: StreamFilters): Map<string, number> {
  let candidates = active.filter((d) => !d.simulated);
  if (filters.dedup) {
    const longest = new Map<string, Decision>();
    for (const d of candidates) {
      const k = `${d.value}\0${d.type}\0${d.scope}`;
      const cur = longest.get(k);
      if (!cur || d.until > cur.until) longest.set(k, d);
    }
    candidates = [...longest.values()];
  }
  const out = new Map<string, number>();
  for (const d of candidates) {
    if (!matchesStream(d, { startup: false, ...filters })) continue;
    const o = originLabel(d);
    out.set(o, (out.get(o) ?? 0) + 1);
  }
  return out;
}

/** `active_decisions` of a usage-metrics report, summed per origin (over ip_type); null when the report has none. */
export function reportedActiveDecisions(report: unknown): Map<string, number> | null {
  const metrics = (report as { metrics?: { items?: { name?: string; value?: number; labels?: Record<string, string> }[] }[] } | null)?.metrics;
  if (!Array.isArray(metrics)) return null;
  // Each report's windows carry a snapshot of the gauge: the latest window is the current value.
  const last = [...metrics].reverse().find((m) => m.items?.some((i) => i.name === 'active_decisions'));
  if (!last) return null;
  const out = new Map<string, number>();
  for (const i of last.items ?? []) {
    if (i.name !== 'active_decisions' || typeof i.value !== 'number') continue;
    const o = i.labels?.origin ?? '(no origin label)';
    out.set(o, (out.get(o) ?? 0) + i.value);
  }
  return out;
}

/** One observation from a report and what the Local API held for the bouncer's filters. */
export function driftObservation(
  bouncer: { id: number; name: string },
  reportAt: number,
  reported: Map<string, number>,
  expected: Map<string, number>,
  askedOrigins?: readonly string[],
): DriftObservation {
  const byOrigin: DriftObservation['byOrigin'] = {};
  for (const o of new Set([...reported.keys(), ...expected.keys()])) {
    const raw = o.startsWith('lists:') ? 'lists' : o;
    byOrigin[o] = {
      reported: reported.get(o) ?? 0,
      expected: expected.get(o) ?? 0,
      ...(askedOrigins && !askedOrigins.includes(raw) ? { filtered: true } : {}),
    };
  }
  const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
  return { bouncerId: bouncer.id, bouncerName: bouncer.name, reportAt, reported: sum(reported), expected: sum(expected), byOrigin };
}

export function isDrift(o: Pick<DriftObservation, 'reported' | 'expected'>): boolean {
  const gap = Math.abs(o.reported - o.expected);
  return gap > DRIFT_TOLERANCE.absolute && gap > o.expected * DRIFT_TOLERANCE.ratio;
}

/** remediation_drift once DRIFT_REPORTS_IN_A_ROW reports in a row disagree; the first that agrees resolves it. */
export function driftFinding(observations: DriftObservation[]): Finding | null {
  const recent = observations.slice(0, DRIFT_REPORTS_IN_A_ROW);
  if (recent.length < DRIFT_REPORTS_IN_A_ROW || !recent.every(isDrift)) return null;
  const latest = recent[0]!;
  let streak = 0;
  while (streak < observations.length && isDrift(observations[streak]!)) streak++;
  const since = observations[streak - 1]!.reportAt;
  const missing = Object.entries(latest.byOrigin)
    .filter(([, v]) => v.expected > 0 && v.reported === 0 && !v.filtered)
    .map(([o]) => o);
  const filtered = Object.entries(latest.byOrigin)
    .filter(([, v]) => v.expected > 0 && v.reported === 0 && v.filtered)
    .map(([o, v]) => `${o} (${v.expected})`);
  const origins = Object.entries(latest.byOrigin)
    .filter(([, v]) => v.reported !== v.expected)
    .map(([o, v]) => `${o}: reports ${v.reported}, sent ${v.expected}`);
  const evidence = [
    `${streak} usage-metrics report(s) in a row disagree; latest at ${formatRfc3339(latest.reportAt)}: reports ${latest.reported} active decisions, the Local API sends it ${latest.expected}`,
    ...origins,
  ];
  const cause: LikelyCause =
    missing.length > 0
      ? { cause: 'origins_dropped', confidence: 'high', evidence: [`origins it holds none of: ${missing.join(', ')}`, ...evidence] }
      : filtered.length > 0
        ? {
            cause: 'origins_filtered',
            confidence: 'high',
            evidence: [`its own stream query leaves out origins the Local API holds active decisions of: ${filtered.join(', ')}`, ...evidence],
          }
        : latest.reported < latest.expected
          ? { cause: 'decisions_missing', confidence: 'medium', evidence }
          : { cause: 'decisions_extra', confidence: 'medium', evidence };
  return {
    kind: 'remediation_drift',
    criticality: ISSUE_CATALOGUE.remediation_drift.criticality,
    subject: `bouncer:${latest.bouncerName}`,
    bouncerName: latest.bouncerName,
    since,
    summary: `bouncer '${latest.bouncerName}' reports ${latest.reported} active decisions, the Local API holds ${latest.expected} for its scopes${missing.length ? ` (none of origin ${missing.join(', ')})` : filtered.length ? ` (its origins filter leaves out ${filtered.join(', ')})` : ''}`,
    causes: [cause],
    notes: [],
  };
}
