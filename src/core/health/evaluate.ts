import { formatGoDuration, formatRfc3339 } from '../../lib/duration.ts';
import { runToEnd } from '../../lib/turns.ts';
import { changeNotes } from './evidence.ts';
import { formatCadence } from './cadence.ts';
import { evaluateMachines } from './evaluate-machines.ts';
import { evaluateKeySpread } from './key-spread.ts';
import { evaluateLogProcessors } from './log-processors.ts';
import { evaluateEnforcement } from './enforcement.ts';
import { silenceSince } from './downtime.ts';
import { DEFAULT_FAIL_OPEN_AFTER_MS, failOpen, failOpenSummary } from './fail-open.ts';
import { canaryNote, liveSilence, liveSilenceSummary } from './live-rhythm.ts';
import { fleetSilence } from './fleet-silence.ts';
import { withConsoleIssues } from './console-issues.ts';
import { lastOwnTraffic, lastSignOfLife, offlineByCadence, rulesFor, steady } from './bouncer-status.ts';
import { bouncerFamilies, instanceStopped, pullingSince, steadyInstance } from './families.ts';
import { indexEvidence, relatedRequests, type EvidenceIndex } from './evidence-index.ts';
import { likelyCauses, roundToSecond } from './bouncer-causes.ts';
import { ISSUE_CATALOGUE, type BouncerHealthInput, type Finding, type FleetSnapshot, type HealthRules, type IssueKind, type LikelyCause } from './types.ts';

// A bouncer's status, its family and its causes live beside this module; it stays the one others import.
export { bouncerStatus, bouncerThresholds, CLOSED_LATE_AFTER_MIN_MS, lastSignOfLife, lateAfter, rulesFor } from './bouncer-status.ts';
export { INSTANCE_STEADY_AFTER_MS } from './families.ts';

/**
 * The health defaults, defined here once: the configuration (health.*) and the engine both read them.
 *
 * - Integration Late (Warning) after 6 missed pulls, at least 2 min: a 10 s bouncer (the bouncers'
 *   default `update_frequency`) raises it after 2 min, so with the 10 s evaluation a person hears of
 *   it within 130 s. Two minutes ride out a network blip of up to 90 s plus the pull interval and a
 *   pause after it (the bouncer retries at its next tick); Vigil's own restarts are left out of a
 *   silence. With 1 min, every blip over ~50 s paged: bench:fleet measured 950 false pages per
 *   10,000 bouncer-days against 0 with 2 min, for a page 53 s later (docs/health.md, "Thresholds").
 * - A bouncer that closed its own connection after its last pull (its process exited: stopped,
 *   killed, crashed; server/connection-watch.ts) is late 75 s after the close at the latest
 *   (CLOSED_LATE_AFTER_MIN_MS, bouncer-status.ts bouncerThresholds): a network blip closes nothing,
 *   so the 2 min that ride one out are not needed there. Not 60 s: a nightly restart (a close) whose
 *   first pull then meets a blip paged 1.4 times per 10,000 bouncer-days in bench:fleet; 75 s: 0.3,
 *   and a killed 10 s bouncer paged at p95 81 s (docs/benchmarks.md, "Fleet simulation").
 * - Offline (Critical) after 30 missed pulls, at least 10 min: 10 min for a 10 s bouncer, 30 min
 *   for a 60 s one. By then it is no restart, upgrade or reboot (minutes) but a stopped enforcer:
 *   new bans are not applied. A bouncer with no steady cadence (live mode, HEAD-only key checks)
 *   keeps CrowdSec Console's 24 h (`offlineAfterMs`), which `health.mode: console` restores for all.
 */
export const DEFAULT_RULES: HealthRules = {
  offlineAfterMs: 24 * 3600_000,
  lateAfterFactor: 6,
  lateAfterMinMs: 2 * 60_000,
  offlineAfterFactor: 30,
  offlineAfterMinMs: 10 * 60_000,
  failOpenAfterMs: DEFAULT_FAIL_OPEN_AFTER_MS,
  mode: 'vigil',
};

/** Evidence that the process went away: it closed its own connection after its last pull. */
function closedNote(b: BouncerHealthInput): string[] {
  if (rulesFor(b, DEFAULT_RULES) === DEFAULT_RULES) return [];
  return [
    `it closed its connection to the Local API at ${formatRfc3339(b.connectionClosedAt!)}, after its last pull, and has not reconnected: its process stopped or was killed (a network cut closes nothing)`,
  ];
}

/** How often `vigil serve` evaluates by default (health.evaluate_every): cheap (bench:health), and it bounds the time to know. */
export const DEFAULT_EVALUATE_EVERY_MS = 10_000;

/**
 * The health evaluator: fleet snapshot + now + rules → the conditions that hold. Pure: no I/O and
 * no clock of its own, so tests move `now` across the exact boundaries.
 */
export function evaluate(snapshot: FleetSnapshot, now: number, rules: HealthRules): Finding[] {
  return runToEnd(evaluateInSlices(snapshot, now, rules));
}

/** Bouncers judged per slice of `evaluateInSlices`: about 2 ms of work. */
export const EVALUATE_SLICE = 500;

/**
 * `evaluate` as a generator that pauses after every `slice` bouncers (and after each grouping pass):
 * the same findings, in the same order. A server runs one slice per turn of its event loop, so
 * 10k bouncers (~60 ms, bench:health) never hold the pulls waiting behind them for that long.
 */
export function* evaluateInSlices(snapshot: FleetSnapshot, now: number, rules: HealthRules, slice = EVALUATE_SLICE): Generator<void, Finding[]> {
  const findings: Finding[] = [];
  const evidence = indexEvidence(snapshot);
  yield;
  const families = bouncerFamilies(snapshot.bouncers, now, rules);
  // Many steady bouncers silent at the same moment: one fleet issue, their own silences held (fleet-silence.ts).
  const fleetSilent = fleetSilence(snapshot.bouncers, now, rules, snapshot.downtime);
  yield;
  let active = 0;
  let judged = 0;
  for (const b of snapshot.bouncers) {
    if (++judged % slice === 0) yield;
    let since = lastSignOfLife(b);
    // Time while Vigil itself was down is nobody's silence (downtime.ts).
    const silent = silenceSince(since, now, snapshot.downtime);
    if (!b.revoked && silent <= rules.offlineAfterMs) active++;
    // A revoked bouncer is switched off on purpose: it is shown as such, not raised as offline.
    if (b.revoked) continue;
    const family = families.get(b);
    // A shared key's own row that nobody claimed, or whose pulls all went to its NAME@IP rows: the
    // key works, through them; the row itself is not an instance that stopped.
    if (family && !b.autoCreated && b.lastPullAt === null && b.lastUsageMetricsAt === null && family.pulled > 0) continue;
    const bySilence = silenceVerdict(b, since, silent, now, rules, snapshot.downtime);
    let kind = bySilence.kind;
    since = bySilence.since;
    const ownTraffic = bySilence.ownTraffic;
    // Issue 25: refused with nothing succeeding (fail-open.ts), a live-mode bouncer gone silent (live-rhythm.ts).
    const early = earlyVerdict(b, kind, now, rules, snapshot.lapiStarts, evidence);
    if (early) {
      kind = early.kind;
      since = early.since;
    }
    if (kind === null) continue;
    // Held in a fleet-wide silence, unless it is failing open (refusals are no silence).
    if (fleetSilent?.held.has(b.name) && early?.cause.cause !== 'fail_open') continue;
    let causes = likelyCauses(b, since, evidence);
    if (early) causes = [early.cause, ...causes.filter((c) => !early.replaces.includes(c.cause))];
    const canary = canaryNote(b, rules);
    const stillPulling = family ? pullingSince(family, b, since) : { newest: [], count: 0 };
    // Issue 27: an auto-created instance that pulled only for minutes (a leaked key tried from
    // many addresses, a pod replaced at once) while the key still pulls elsewhere is no incident of
    // its own: raising each would page once per address. It is raised once it was steady for a while.
    if (stillPulling.count > 0 && b.autoCreated && !steadyInstance(b)) continue;
    if (stillPulling.count > 0 && b.lastPullAt !== null) causes.unshift(instanceStopped(b, stillPulling));
    findings.push({
      kind,
      criticality: ISSUE_CATALOGUE[kind].criticality,
      subject: `bouncer:${b.name}`,
      bouncerName: b.name,
      since,
      summary: early?.summary ?? summaryFor(kind, b, since, now),
      causes,
      notes: [...changeNotes(evidence.changesByBouncer.get(b.id), since), ...(canary ? [canary] : []), ...closedNote(b)],
      ...(ownTraffic ? {} : { ownTraffic }),
    });
  }
  if (fleetSilent?.finding) findings.push(fleetSilent.finding);
  if (snapshot.bouncers.length === 0) {
    findings.push(fleetFinding('se_no_rc', now, 'No remediation component is registered: decisions are made but nothing enforces them.'));
  } else if (active === 0) {
    const since = Math.max(...snapshot.bouncers.map(lastSignOfLife));
    findings.push(
      fleetFinding(
        'se_no_active_rc',
        since,
        `All ${snapshot.bouncers.length} registered remediation components have been inactive for ${formatGoDuration(rules.offlineAfterMs)} or more: nothing enforces decisions.`,
      ),
    );
  }
  // One key used from more addresses than allowed (issue 27): key-spread.ts.
  findings.push(...evaluateKeySpread(snapshot));
  // Machines (log processors): evaluate-machines.ts.
  findings.push(...evaluateMachines(snapshot, now, rules));
  // Their logs, from their usage reports: log-processors.ts.
  findings.push(...evaluateLogProcessors(snapshot, now, rules));
  // Canaries and drift (proof of enforcement): enforcement.ts.
  if (snapshot.enforcement) findings.push(...evaluateEnforcement(snapshot.enforcement));
  // The Console's newest issues (console-issues.ts).
  return withConsoleIssues(findings, snapshot, now);
}

/**
 * The verdict of silence alone: offline past offline_after, else late or offline by its cadence
 * (judged from its last pull, so one incident keeps one `since` from late to offline).
 */
function silenceVerdict(
  b: BouncerHealthInput,
  lastLife: number,
  silent: number,
  now: number,
  rules: HealthRules,
  downtime: FleetSnapshot['downtime'],
): { kind: IssueKind | null; since: number; ownTraffic: boolean } {
  let kind: IssueKind | null = null;
  let ownTraffic = true;
  let since = lastLife;
  const offline: IssueKind = b.kind === 'firewall' ? 'fw_integration_offline' : 'rc_integration_offline';
  if (silent > rules.offlineAfterMs) kind = offline;
  else {
    // A steady bouncer: judged from its last pull, so one incident keeps one `since` from late to offline.
    const s = steady(b, now, rules, downtime);
    if (s !== null && (offlineByCadence(s, silent) || s.pullSilence > s.t.issueLateMs)) {
      kind = offlineByCadence(s, silent) ? offline : 'integration_late';
      since = s.lastPull;
      // Late rather than offline only thanks to requests that are not its pulls or reports (a HEAD, a probe)?
      if (kind === 'integration_late') ownTraffic = !offlineByCadence(s, silenceSince(lastOwnTraffic(b), now, downtime));
    }
  }
  return { kind, since, ownTraffic };
}

/**
 * Fail-open (Critical at once) wins over every other rule; a silent live-mode bouncer raises what
 * its signals say (late on one, offline on both) unless a rule above already said as much.
 */
function earlyVerdict(
  b: BouncerHealthInput,
  kind: IssueKind | null,
  now: number,
  rules: HealthRules,
  lapiStarts: number[],
  idx: EvidenceIndex,
): { kind: IssueKind; since: number; summary: string; cause: LikelyCause; replaces: string[] } | null {
  const offline: IssueKind = b.kind === 'firewall' ? 'fw_integration_offline' : 'rc_integration_offline';
  const failing = failOpen(b, relatedRequests(b, lastSignOfLife(b), idx).blamed, now, rules);
  if (failing) return { kind: offline, since: failing.lastSuccess, summary: failOpenSummary(b, failing), cause: failing.cause, replaces: ['authentication'] };
  if (kind !== null && kind !== 'integration_late') return null;
  const live = liveSilence(b, lapiStarts, now, rules);
  if (live === null || (kind === 'integration_late' && live.stage === 'late')) return null;
  return {
    kind: live.stage === 'offline' ? offline : 'integration_late',
    since: live.since,
    summary: liveSilenceSummary(b, live, now),
    cause: live.cause,
    replaces: ['stopped_or_network'],
  };
}

function fleetFinding(kind: IssueKind, since: number, summary: string): Finding {
  return { kind, criticality: ISSUE_CATALOGUE[kind].criticality, subject: 'fleet', bouncerName: null, since, summary, causes: [], notes: [] };
}

function summaryFor(kind: IssueKind, b: BouncerHealthInput, since: number, now: number): string {
  const what = b.kind === 'firewall' ? 'firewall bouncer' : 'bouncer';
  const label = b.type ? `${what} '${b.name}' (${b.type})` : `${what} '${b.name}'`;
  const silence = formatGoDuration(roundToSecond(now - since));
  if (b.lastPullAt === null && b.lastUsageMetricsAt === null) {
    return `${label} was registered ${silence} ago and has never pulled decisions.`;
  }
  if (kind === 'integration_late') {
    return `${label} usually pulls every ${formatCadence(b.pullCadenceMs!)} but has been silent for ${silence}.`;
  }
  const usually = b.pullCadenceMs !== null && b.pullCadenceMs > 0 ? ` usually pulls every ${formatCadence(b.pullCadenceMs)} but` : '';
  return `${label}${usually} has not pulled decisions for ${silence} (last pull ${formatRfc3339(since)}): its remediation has stopped.`;
}
