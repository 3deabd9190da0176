import { formatGoDuration, formatRfc3339 } from '../../lib/duration.ts';
import { runToEnd } from '../../lib/turns.ts';
import { changeNotes, pushTo, summaryOf } from './evidence.ts';
import type { BouncerChange } from '../model/records.ts';
import type { RefusedSummary } from '../model/records.ts';
import { parseUserAgent } from '../bouncers/user-agent.ts';
import { describeProbe } from '../bouncers/probe.ts';
import { cadenceThresholds, formatCadence, type CadenceThresholds } from './cadence.ts';
import { evaluateMachines } from './evaluate-machines.ts';
import { evaluateKeySpread, TOO_MANY_INSTANCES } from './key-spread.ts';
import { evaluateLogProcessors } from './log-processors.ts';
import { evaluateEnforcement } from './enforcement.ts';
import { isMachineRefusal } from './machine-causes.ts';
import { MATCH_CONFIDENCE, matchOf, userAgentOf, type Attributed } from './attribution.ts';
import { silenceSince, type Interval } from './downtime.ts';
import { DEFAULT_FAIL_OPEN_AFTER_MS, failOpen, failOpenSummary } from './fail-open.ts';
import { canaryNote, liveSilence, liveSilenceSummary } from './live-rhythm.ts';
import { fleetSilence } from './fleet-silence.ts';
import { withConsoleIssues } from './console-issues.ts';
import {
  ISSUE_CATALOGUE,
  type BouncerHealthInput,
  type BouncerStatus,
  type Finding,
  type FleetSnapshot,
  type HealthRules,
  type IssueKind,
  type LikelyCause,
} from './types.ts';

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
 *   killed, crashed; server/connection-watch.ts) is late after 6 missed pulls, at least 1 min
 *   (CLOSED_LATE_AFTER_MIN_MS): a network blip closes nothing, so the 2 min that ride one out are
 *   not needed there; a restart reconnects within seconds.
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
/** The Integration Late floor for a bouncer whose process closed its connection after its last pull (see DEFAULT_RULES). */
export const CLOSED_LATE_AFTER_MIN_MS = 60_000;

/** The rules for one bouncer: the late floor is CLOSED_LATE_AFTER_MIN_MS (at most) once it closed its connection after its last pull. */
function rulesFor(b: BouncerHealthInput, rules: HealthRules): HealthRules {
  if (b.connectionClosedAt === undefined || b.lastPullAt === null || b.connectionClosedAt < b.lastPullAt) return rules;
  return { ...rules, lateAfterMinMs: Math.min(rules.lateAfterMinMs, CLOSED_LATE_AFTER_MIN_MS) };
}

/** Evidence that the process went away: it closed its own connection after its last pull. */
function closedNote(b: BouncerHealthInput): string[] {
  if (rulesFor(b, DEFAULT_RULES) === DEFAULT_RULES) return [];
  return [
    `it closed its connection to the Local API at ${formatRfc3339(b.connectionClosedAt!)}, after its last pull, and has not reconnected: its process stopped or was killed (a network cut closes nothing)`,
  ];
}

/** How often `vigil serve` evaluates by default (health.evaluate_every): cheap (bench:health), and it bounds the time to know. */
export const DEFAULT_EVALUATE_EVERY_MS = 10_000;

/** A silence that began this close before a LAPI restart is blamed on the restart. */
const RESTART_WINDOW_MIN_MS = 2 * 60_000;

/**
 * The bouncer's last sign of life: a pull, a usage-metrics report, or any request its key made
 * (a HEAD key check from an AppSec component or a probe); registration when none. The 24 h rule
 * counts from here, so live-mode and HEAD-only bouncers never look dead while they talk to us.
 */
export function lastSignOfLife(b: BouncerHealthInput): number {
  return Math.max(b.lastPullAt ?? b.createdAt, b.lastUsageMetricsAt ?? 0, b.lastRequestAt ?? 0);
}

/** Its pulls and usage reports: what the bouncer itself sends, as opposed to a key check or a probe made with its key. */
function lastOwnTraffic(b: BouncerHealthInput): number {
  return Math.max(b.lastPullAt ?? b.createdAt, b.lastUsageMetricsAt ?? 0);
}

/**
 * The cadence rules' view of a bouncer: its thresholds and how long it has not pulled (less Vigil's
 * own downtime), or null when it has no steady cadence (or in console mode). A steady bouncer is
 * judged on its pulls: a usage report or a HEAD does not deliver it new decisions.
 */
function steady(
  b: BouncerHealthInput,
  now: number,
  rules: HealthRules,
  downtime?: readonly Interval[],
): { t: CadenceThresholds; lastPull: number; pullSilence: number } | null {
  const t = cadenceThresholds(b.pullCadenceMs, rulesFor(b, rules));
  if (t === null || b.lastPullAt === null) return null;
  return { t, lastPull: b.lastPullAt, pullSilence: silenceSince(b.lastPullAt, now, downtime) };
}

/**
 * Offline by cadence: no pull for the offline threshold, and nothing else heard either (a process
 * that still reports or makes requests is late, not gone: the Warning says so with its evidence).
 */
function offlineByCadence(s: NonNullable<ReturnType<typeof steady>>, lifeSilence: number): boolean {
  return s.t.offlineMs !== null && s.pullSilence > s.t.offlineMs && lifeSilence > s.t.offlineMs;
}

/** The silence after which a steady bouncer raises Integration Late, or null when it has no steady cadence. */
export function lateAfter(b: BouncerHealthInput, rules: HealthRules): number | null {
  return cadenceThresholds(b.pullCadenceMs, rulesFor(b, rules))?.issueLateMs ?? null;
}

/**
 * What a person reads at a glance in a list: healthy, late, offline, never pulled, revoked. A
 * steady bouncer is `late` once it missed STATUS_LATE_MISSED pulls, before any issue opens. Vigil's
 * own `downtime` is not counted as its silence.
 */
export function bouncerStatus(b: BouncerHealthInput, now: number, rules: HealthRules, downtime?: readonly Interval[]): BouncerStatus {
  if (b.revoked) return 'revoked';
  const lifeSilence = silenceSince(lastSignOfLife(b), now, downtime);
  if (lifeSilence > rules.offlineAfterMs) return 'offline';
  if (b.lastPullAt === null && b.lastUsageMetricsAt === null && b.lastRequestAt === null) return 'never_pulled';
  const s = steady(b, now, rules, downtime);
  if (s !== null) {
    if (offlineByCadence(s, lifeSilence)) return 'offline';
    if (s.pullSilence > s.t.statusLateMs) return 'late';
  }
  return 'healthy';
}

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
    let kind: IssueKind | null = null;
    let ownTraffic = true;
    const offline: IssueKind = b.kind === 'firewall' ? 'fw_integration_offline' : 'rc_integration_offline';
    if (silent > rules.offlineAfterMs) kind = offline;
    else {
      // A steady bouncer: judged from its last pull, so one incident keeps one `since` from late to offline.
      const s = steady(b, now, rules, snapshot.downtime);
      if (s !== null && (offlineByCadence(s, silent) || s.pullSilence > s.t.issueLateMs)) {
        kind = offlineByCadence(s, silent) ? offline : 'integration_late';
        since = s.lastPull;
        // Late rather than offline only thanks to requests that are not its pulls or reports (a HEAD, a probe)?
        if (kind === 'integration_late') ownTraffic = !offlineByCadence(s, silenceSince(lastOwnTraffic(b), now, snapshot.downtime));
      }
    }
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
 * An auto-created instance must have pulled for this long after it appeared before its own silence
 * is raised while the key still pulls elsewhere (issue 27): minutes-long instances are not paged.
 */
export const INSTANCE_STEADY_AFTER_MS = 30 * 60_000;

function steadyInstance(b: BouncerHealthInput): boolean {
  return b.lastPullAt !== null && b.lastPullAt - b.createdAt >= INSTANCE_STEADY_AFTER_MS;
}

/**
 * A family of rows: a name and the `NAME@…` rows the Local API created (a shared key's other
 * addresses, or one client certificate's `CN@IP` rows), summarised once so that each member's
 * questions cost a lookup, not a scan of its siblings: a DaemonSet of 10,000 pods is one family.
 */
interface Family {
  /** Members that ever pulled. */
  pulled: number;
  /** Members not revoked, heard within offline_after, that pulled: newest pull first. */
  pulling: BouncerHealthInput[];
  /** The same members, for a membership test. */
  members: Set<BouncerHealthInput>;
}

/** Families by member; only rows that have a relative are listed. Linear (plus one sort per family). */
function bouncerFamilies(bouncers: readonly BouncerHealthInput[], now: number, rules: HealthRules): Map<BouncerHealthInput, Family> {
  const byBase = new Map<string, BouncerHealthInput[]>();
  for (const b of bouncers) {
    const at = b.name.indexOf('@');
    // Operator-made names may contain '@' too: only auto-created rows join a family by their prefix.
    const base = at < 0 ? b.name : b.autoCreated ? b.name.slice(0, at) : undefined;
    if (base === undefined) continue;
    const list = byBase.get(base);
    if (list) list.push(b);
    else byBase.set(base, [b]);
  }
  const out = new Map<BouncerHealthInput, Family>();
  for (const members of byBase.values()) {
    if (members.length < 2 || !members.some((m) => m.autoCreated)) continue;
    const family: Family = { pulled: 0, pulling: [], members: new Set() };
    for (const m of members) {
      if (m.lastPullAt === null) continue;
      family.pulled++;
      if (!m.revoked && now - lastSignOfLife(m) <= rules.offlineAfterMs) {
        family.pulling.push(m);
        family.members.add(m);
      }
    }
    family.pulling.sort((x, y) => y.lastPullAt! - x.lastPullAt!);
    for (const m of members) out.set(m, family);
  }
  return out;
}

/** b's relatives that pulled after `since`: how many, and the newest few (b itself left out). */
function pullingSince(family: Family, b: BouncerHealthInput, since: number): { newest: BouncerHealthInput[]; count: number } {
  const list = family.pulling;
  // Sorted newest first: the first index whose last pull is not after `since`.
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]!.lastPullAt! > since) lo = mid + 1;
    else hi = mid;
  }
  const newest: BouncerHealthInput[] = [];
  let self = 0;
  for (let i = 0; i < lo && newest.length < 3; i++) if (list[i] !== b) newest.push(list[i]!);
  // b is among the `lo` newest when it is listed at all and pulled after `since`.
  if (family.members.has(b) && b.lastPullAt! > since) self = 1;
  return { newest, count: lo - self };
}

function instanceStopped(b: BouncerHealthInput, pulling: { newest: BouncerHealthInput[]; count: number }): LikelyCause {
  const shown = pulling.newest.map((s) => `${s.ipAddress || 'an unknown address'} as ${s.name}`);
  const more = pulling.count > shown.length ? ` and ${pulling.count - shown.length} more` : '';
  return {
    cause: 'instance_stopped',
    confidence: 'high',
    evidence: [
      `the key still pulls from ${shown.join(', ')}${more} (last pull ${formatRfc3339(pulling.newest[0]!.lastPullAt!)}): this instance, last seen from ${b.ipAddress || 'an unknown address'}, stopped — a pod replaced or its address changed`,
      b.autoCreated
        ? `if it is gone for good, \`vigil bouncers prune\` removes idle rows (an auto-created row is deleted only with its parent, which would take the live rows and their key with it)`
        : `if it is gone for good, \`vigil bouncers prune\` removes idle rows; \`vigil bouncers delete ${b.name}\` would also delete the ${b.name}@… rows that still pull, and their key would stop working`,
    ],
  };
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

interface EvidenceIndex {
  refusedByIp: Map<string, RefusedSummary[]>;
  /** Only for User-Agents that exactly one registered bouncer has: shared ones name nobody. */
  refusedByAgent: Map<string, RefusedSummary[]>;
  /** Requests that carried a bouncer's own key (revoked, or sent to a wrong path): certainly it. */
  refusedByBouncer: Map<string, RefusedSummary[]>;
  /** Bouncers per address (names, in registration order). */
  bouncersByIp: Map<string, string[]>;
  /** Bouncers per address and product (`ip\0type`): a refused request with that pair is theirs. */
  pairOwners: Map<string, number>;
  /** The product (type) of each refused request's User-Agent, parsed as for a bouncer. */
  productOf: Map<string, string>;
  /** The newest pullers of each address (a few, newest first): other bouncers on a shared host that kept pulling. */
  pullersByIp: Map<string, Array<{ name: string; lastPullAt: number }>>;
  lapiStarts: number[];
  changesByBouncer: Map<number, BouncerChange[]>;
  requestsRecorded: boolean;
}

const CONFIDENCE_RANK: Record<LikelyCause['confidence'], number> = { high: 0, medium: 1, low: 2 };

/** Group the evidence once, so 100k bouncers cost 100k map lookups, not 100k scans. */
function indexEvidence(s: FleetSnapshot): EvidenceIndex {
  const idx: EvidenceIndex = {
    refusedByIp: new Map(),
    refusedByAgent: new Map(),
    refusedByBouncer: new Map(),
    bouncersByIp: new Map(),
    pairOwners: new Map(),
    productOf: new Map(),
    pullersByIp: new Map(),
    lapiStarts: [...s.lapiStarts].sort((a, b) => a - b),
    changesByBouncer: new Map(),
    requestsRecorded: s.requestsRecorded !== false,
  };
  const refused = s.refused.map(summaryOf);
  for (const r of s.refusedSummaries ?? []) refused.push(r);
  // Refused logins and tokens are machines' (evaluate-machines.ts), not bouncer keys.
  removeMachineRefusals(refused);
  // Only the addresses refused requests came from matter: 100k bouncers are not grouped for nothing.
  const refusedIps = new Set<string>();
  for (const r of refused) if (r.peerIp) refusedIps.add(r.peerIp);
  // A thousand nginx bouncers share one User-Agent: a refused request with it says nothing about
  // which of them it was. Attribute by User-Agent only when one bouncer alone has it.
  const agentOwners = new Map<string, number>();
  for (const b of s.bouncers) {
    const ua = userAgentOf(b);
    if (ua) agentOwners.set(ua, (agentOwners.get(ua) ?? 0) + 1);
    if (b.ipAddress && b.lastPullAt !== null) keepNewest(idx.pullersByIp, b.ipAddress, { name: b.name, lastPullAt: b.lastPullAt });
    if (b.ipAddress && refusedIps.has(b.ipAddress)) {
      const names = idx.bouncersByIp.get(b.ipAddress);
      if (names) names.push(b.name);
      else idx.bouncersByIp.set(b.ipAddress, [b.name]);
      if (b.type) {
        const pair = `${b.ipAddress}\0${b.type}`;
        idx.pairOwners.set(pair, (idx.pairOwners.get(pair) ?? 0) + 1);
      }
    }
  }
  for (const r of refused) {
    if (r.peerIp) pushTo(idx.refusedByIp, r.peerIp, r);
    if (r.userAgent && agentOwners.get(r.userAgent) === 1) pushTo(idx.refusedByAgent, r.userAgent, r);
    if (r.bouncerName) pushTo(idx.refusedByBouncer, r.bouncerName, r);
    if (!idx.productOf.has(r.userAgent)) idx.productOf.set(r.userAgent, r.userAgent ? parseUserAgent(r.userAgent).type : '');
  }
  for (const c of s.bouncerChanges) pushTo(idx.changesByBouncer, c.bouncerId, c);
  return idx;
}

const PULLERS_KEPT = 4;

function keepNewest(m: Map<string, Array<{ name: string; lastPullAt: number }>>, ip: string, p: { name: string; lastPullAt: number }): void {
  const list = m.get(ip) ?? [];
  if (list.length === PULLERS_KEPT && list[PULLERS_KEPT - 1]!.lastPullAt >= p.lastPullAt) return;
  list.push(p);
  list.sort((a, b) => b.lastPullAt - a.lastPullAt);
  if (list.length > PULLERS_KEPT) list.length = PULLERS_KEPT;
  m.set(ip, list);
}

/**
 * Other bouncers on this bouncer's address that pulled after it went silent: the host and the
 * network are up, which points at this bouncer's own process. Undefined when none did.
 */
function neighboursPulling(b: BouncerHealthInput, since: number, idx: EvidenceIndex): string | undefined {
  const others = (idx.pullersByIp.get(b.ipAddress) ?? []).filter((p) => p.name !== b.name && p.lastPullAt > since);
  if (others.length === 0) return undefined;
  const shown = others
    .slice(0, 3)
    .map((p) => `'${p.name}' at ${formatRfc3339(p.lastPullAt)}`)
    .join(', ');
  return `other bouncers on ${b.ipAddress} kept pulling (last: ${shown}): the host and the network are up, so this bouncer's own process is the likely fault`;
}

function removeMachineRefusals(list: RefusedSummary[]): void {
  let kept = 0;
  // A new address refused past the instance cap is the key's spread (key-spread.ts), not this row's silence.
  for (const r of list) if (!isMachineRefusal(r.reason) && r.reason !== TOO_MANY_INSTANCES) list[kept++] = r;
  list.length = kept;
}

interface Related {
  blamed: Array<{ r: RefusedSummary; match: Attributed }>;
  /** From its address, but plainly another client's. */
  others: RefusedSummary[];
}

/** Requests since the silence began that came from this bouncer's IP, with its User-Agent, or with its own key. */
function relatedRequests(b: BouncerHealthInput, since: number, idx: EvidenceIndex): Related {
  const seen = new Set<RefusedSummary>();
  const out: Related = { blamed: [], others: [] };
  const add = (list: RefusedSummary[] | undefined) => {
    for (const r of list ?? []) {
      if (r.lastAt > since && !seen.has(r)) {
        seen.add(r);
        const match = matchOf(b, r, idx);
        if (match === 'other') {
          if (r.peerIp === b.ipAddress) out.others.push(r);
        } else out.blamed.push({ r, match });
      }
    }
  };
  add(idx.refusedByBouncer.get(b.name));
  if (b.ipAddress) add(idx.refusedByIp.get(b.ipAddress));
  const ua = userAgentOf(b);
  if (ua) add(idx.refusedByAgent.get(ua));
  return out;
}

/** The best confidence among these matches, and a line naming the candidates when the address is shared. */
function confidenceOf(
  b: BouncerHealthInput,
  matches: Array<{ r: RefusedSummary; match: Attributed }>,
  idx: EvidenceIndex,
): { confidence: LikelyCause['confidence']; shared?: string } {
  let confidence: LikelyCause['confidence'] = 'low';
  for (const m of matches) if (CONFIDENCE_RANK[MATCH_CONFIDENCE[m.match]] < CONFIDENCE_RANK[confidence]) confidence = MATCH_CONFIDENCE[m.match];
  if (confidence !== 'low') return { confidence };
  const names = idx.bouncersByIp.get(b.ipAddress) ?? [];
  const shown =
    names
      .slice(0, 5)
      .map((n) => `'${n}'`)
      .join(', ') + (names.length > 5 ? `, and ${names.length - 5} more` : '');
  return {
    confidence,
    shared: `its address ${b.ipAddress} is shared by ${names.length} bouncers (${shown}) and nothing in these requests (key, User-Agent) tells which one sent them: they could come from any of them`,
  };
}

function likelyCauses(b: BouncerHealthInput, since: number, idx: EvidenceIndex): LikelyCause[] {
  const causes: LikelyCause[] = [];
  const related = relatedRequests(b, since, idx);
  const ua = userAgentOf(b);

  const refused = related.blamed.filter((m) => m.r.reason !== 'wrong-path');
  if (refused.length > 0) {
    const rows = refused.map((m) => m.r);
    const { confidence, shared } = confidenceOf(b, refused, idx);
    const revoked = rows.filter((r) => r.reason === 'revoked' && r.bouncerName === b.name).reduce((n, r) => n + r.count, 0);
    const fingerprints = new Set(rows.map((r) => r.keyFingerprint).filter(Boolean));
    const total = rows.reduce((n, r) => n + r.count, 0);
    const evidence = describeRequests(rows, 'refused');
    if (revoked > 0) evidence.unshift(`its own key was refused ${revoked} time(s) because the bouncer is revoked`);
    if (fingerprints.size === 1 && total > 1 && rows.every((r) => !r.severalKeys))
      evidence.push('every refused request carried the same key: a stale or mistyped key in its configuration');
    if (rows.some((r) => r.reason === 'missing')) evidence.push('some requests carried no X-Api-Key header at all: the key is missing from its configuration');
    if (shared) evidence.push(shared);
    causes.push({ cause: 'authentication', confidence, evidence });
  }

  const misrouted = related.blamed.filter((m) => m.r.reason === 'wrong-path');
  if (misrouted.length > 0) {
    const rows = misrouted.map((m) => m.r);
    const { confidence, shared } = confidenceOf(b, misrouted, idx);
    const evidence = describeRequests(rows, 'answered 404');
    if (rows.some((r) => r.bouncerName === b.name)) evidence.unshift('they carried its own key');
    evidence.push(`the Local API serves /v1/decisions and /v1/decisions/stream: check api_url (it should look like http://HOST:8080/)`);
    if (shared) evidence.push(shared);
    causes.push({ cause: 'configuration', confidence, evidence });
  }

  if (b.lastPullAt !== null) {
    const window = Math.max(RESTART_WINDOW_MIN_MS, 3 * (b.pullCadenceMs ?? 0));
    const restart = idx.lapiStarts.find((s) => s > since && s - since <= window);
    if (restart !== undefined) {
      causes.push({
        cause: 'lapi_restart',
        confidence: causes.length === 0 ? 'high' : 'medium',
        evidence: [
          `the Local API restarted at ${formatRfc3339(restart)}, ${formatGoDuration(roundToSecond(restart - since))} after this bouncer's last pull, and it has not pulled since: it did not reconnect`,
        ],
      });
    }
  }

  if (b.lastPullAt === null && b.lastUsageMetricsAt === null) {
    causes.push({
      cause: 'never_pulled',
      confidence: causes.length === 0 ? 'high' : 'low',
      evidence: [
        `registered at ${formatRfc3339(b.createdAt)} and never pulled${b.lastRequestAt === null ? ', and no request with its key ever arrived' : ''}: the key was probably never put in the bouncer's configuration, or the bouncer never started`,
      ],
    });
  }

  // Evidence that could be another bouncer's (low confidence) does not rule out a plain stop.
  if (causes.every((c) => c.cause === 'lapi_restart' || c.confidence === 'low') && !causes.some((c) => c.cause === 'never_pulled')) {
    const evidence: string[] = [];
    const strong = causes.some((c) => c.confidence !== 'low');
    const lowOnly = causes.length > 0 && !strong;
    if (b.lastRequestAt !== null && b.lastRequestAt > since) {
      evidence.push(`it still makes requests that are not pulls (last ${formatRfc3339(b.lastRequestAt)}): the process runs but does not pull decisions`);
    } else if (!idx.requestsRecorded) {
      evidence.push(
        `no pull since ${formatRfc3339(since)}; refused keys and wrong URLs are not recorded where this was read from (CrowdSec's database keeps none), so they would look the same: check the Local API's log for requests from ${b.ipAddress || 'the bouncer'}`,
      );
    } else if (related.others.length > 0 || lowOnly) {
      evidence.push(`nothing that is surely this bouncer's has arrived since ${formatRfc3339(since)}`);
    } else {
      // Its own traffic only: on a shared host (127.0.0.1) other bouncers' pulls still arrive from its address.
      evidence.push(
        `nothing with its key${ua ? ` or its User-Agent ${ua}` : ''} has arrived since ${formatRfc3339(since)}, and nothing was refused from its address${b.ipAddress ? ` ${b.ipAddress}` : ''}: no refused key, no wrong path`,
      );
    }
    const neighbours = b.ipAddress ? neighboursPulling(b, since, idx) : undefined;
    if (neighbours) evidence.push(neighbours);
    if (related.others.length > 0) {
      const n = related.others.reduce((k, r) => k + r.count, 0);
      const agents = [...new Set(related.others.map((r) => r.userAgent))].slice(0, 3).join(', ');
      evidence.push(
        `${n} refused request(s) from its address ${b.ipAddress} came with other User-Agents (${agents}) and keys that are not its own: another client on that host, not this bouncer`,
      );
    }
    evidence.push(
      b.kind === 'firewall'
        ? 'check that the firewall bouncer service runs and can reach the Local API'
        : 'check that the bouncer service or web-server module runs, is loaded, and can reach the Local API',
    );
    causes.push({ cause: 'stopped_or_network', confidence: strong ? 'low' : 'medium', evidence });
  }
  // Most likely first; equal confidences keep the order above.
  causes.sort((x, y) => CONFIDENCE_RANK[x.confidence] - CONFIDENCE_RANK[y.confidence]);
  // A check of its key (doctor, curl) since the silence began: shown, so nobody takes it for the bouncer.
  if (b.lastProbe && b.lastProbe.at > since && causes.length > 0) causes[0]!.evidence.push(describeProbe(b.lastProbe));
  return causes;
}

function describeRequests(list: RefusedSummary[], verb: string): string[] {
  const groups = new Map<string, { n: number; first: number; last: number; r: RefusedSummary }>();
  for (const r of list) {
    const key = `${r.reason}|${r.peerIp}|${r.userAgent}|${r.path}`;
    const g = groups.get(key);
    if (g) {
      g.n += r.count;
      g.last = Math.max(g.last, r.lastAt);
      g.first = Math.min(g.first, r.firstAt);
    } else groups.set(key, { n: r.count, first: r.firstAt, last: r.lastAt, r });
  }
  const reasonText: Record<string, string> = {
    unknown: 'unknown key',
    missing: 'no key',
    revoked: 'revoked key',
    'wrong-path': 'wrong path',
    'too-many-instances': 'new address past limits.max_instances_per_key',
  };
  return [...groups.values()]
    .sort((a, b) => b.n - a.n)
    .slice(0, 5)
    .map(
      ({ n, first, last, r }) =>
        `${n} request(s) ${verb} (${reasonText[r.reason] ?? r.reason}) ${r.method} ${r.path} from ${r.peerIp}` +
        `${r.userAgent ? ` with User-Agent ${r.userAgent}` : ''}, ${n > 1 ? `from ${formatRfc3339(first)} to ${formatRfc3339(last)}` : `at ${formatRfc3339(first)}`}`,
    );
}

function roundToSecond(ms: number): number {
  return Math.round(ms / 1000) * 1000;
}
