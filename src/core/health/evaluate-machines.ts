import { formatGoDuration, formatRfc3339 } from '../../lib/duration.ts';
import { changeNotes, pushTo, summaryOf } from './evidence.ts';
import type { RefusedSummary } from '../model/records.ts';
import { cadenceThresholds, formatCadence } from './cadence.ts';
import { isMachineRefusal } from './machine-causes.ts';
import { silenceSince, type Interval } from './downtime.ts';
import {
  ISSUE_CATALOGUE,
  type Finding,
  type FleetSnapshot,
  type HealthRules,
  type IssueKind,
  type LikelyCause,
  type MachineChange,
  type MachineHealthInput,
} from './types.ts';
import { lapiRestartCause, roundToSecond } from './lapi-restart-cause.ts';

/**
 * The machine (log processor) half of the evaluator: CrowdSec's LP Offline and LP No Alerts
 * (docs/reference/crowdsec-docs-notes.md §1.3), our early LP Late from the heartbeat cadence, and
 * LP Pending Validation for a machine that registered but cannot log in until someone validates
 * it. Pure, like evaluate.ts, which calls it.
 */

/** CrowdSec's LP No Alerts: online, but no alert pushed for 48 h (docs/reference/crowdsec-1.6-1.7.md §7). */
export const NO_ALERTS_AFTER_MS = 48 * 3600_000;
/** A silence that began this close before a Local API restart is blamed on the restart (the agent beats every 60 s). */
const RESTART_WINDOW_MIN_MS = 3 * 60_000;

/**
 * The machine's last sign of life: a heartbeat or an alert push, the agent's own traffic. A login is
 * not one (issue 24): cscli logs in with the agent's own credentials to read decisions and alerts,
 * so one `cscli decisions list` would revive a stopped agent. A login counts only for a machine that
 * never beat nor pushed (just added: the agent's first heartbeat comes a minute after its login);
 * its registration when none.
 */
export function machineLastSeen(m: MachineHealthInput): number {
  const own = Math.max(m.lastHeartbeatAt ?? 0, m.lastPushAt ?? 0);
  if (own > 0) return own;
  return m.lastLoginAt ?? m.createdAt;
}

/**
 * Missed heartbeats after which LP Late opens (at most; `health.late_after_factor` when smaller). An
 * agent beats every minute (CrowdSec 1.4.6 to 1.7), so the bouncers' 6 would be 6 minutes: 2.5 pages a
 * stopped agent within 3 minutes of its stop while a single late heartbeat (a GC pause, a slow login
 * renewal) still raises nothing. Vigil's own downtime never counts (downtime.ts).
 */
export const MACHINE_LATE_AFTER_FACTOR = 2.5;

/** A machine's thresholds: the bouncers' rules with LP Late after MACHINE_LATE_AFTER_FACTOR missed heartbeats. */
function machineThresholds(m: MachineHealthInput, rules: HealthRules) {
  return cadenceThresholds(m.heartbeatCadenceMs, { ...rules, lateAfterFactor: Math.min(rules.lateAfterFactor, MACHINE_LATE_AFTER_FACTOR) });
}

/** The silence after which a machine beating steadily raises LP Late, or null without a steady cadence. */
export function machineLateAfter(m: MachineHealthInput, rules: HealthRules): number | null {
  return machineThresholds(m, rules)?.issueLateMs ?? null;
}

/**
 * The silence after which a machine is offline: its cadence's offline threshold (the agent beats
 * every 60 s: 30 min by default) when it beats steadily, else CrowdSec's 24 h.
 */
export function machineOfflineAfter(m: MachineHealthInput, rules: HealthRules): number {
  return machineThresholds(m, rules)?.offlineMs ?? rules.offlineAfterMs;
}

export type MachineStatus = 'healthy' | 'late' | 'offline' | 'never_logged_in' | 'pending';

/** What its agent itself sends: heartbeats and alert pushes (a login may be cscli's, with the agent's credentials). */
function machineOwnTraffic(m: MachineHealthInput): number {
  return Math.max(m.lastHeartbeatAt ?? 0, m.lastPushAt ?? 0) || m.createdAt;
}

/** What a person reads at a glance: healthy, late, offline, never logged in, pending validation. Vigil's own `downtime` is not its silence. */
export function machineStatus(m: MachineHealthInput, now: number, rules: HealthRules, downtime?: readonly Interval[]): MachineStatus {
  if (!m.isValidated) return 'pending';
  const silent = silenceSince(machineLastSeen(m), now, downtime);
  if (silent > machineOfflineAfter(m, rules)) return 'offline';
  if (m.lastLoginAt === null && m.lastHeartbeatAt === null) return 'never_logged_in';
  // Shown late after STATUS_LATE_MISSED missed heartbeats, before LP Late opens.
  const late = machineThresholds(m, rules)?.statusLateMs ?? null;
  return late !== null && silent > late ? 'late' : 'healthy';
}

export function evaluateMachines(snapshot: FleetSnapshot, now: number, rules: HealthRules): Finding[] {
  const machines = snapshot.machines ?? [];
  if (machines.length === 0) return [];
  const idx = indexMachineEvidence(snapshot);
  const findings: Finding[] = [];
  // Issue 27: two or more waiting machines are one issue, not one page per registration.
  const pending = machines.filter((m) => !m.isValidated);
  const grouped = pending.length >= PENDING_GROUPED_FROM;
  if (grouped) findings.push(pendingGroup(pending, now));
  for (const m of machines) {
    if (grouped && !m.isValidated) continue;
    const since = machineLastSeen(m);
    // Time while Vigil itself was down is not the agent's silence (downtime.ts).
    const silent = silenceSince(since, now, snapshot.downtime);
    const label = `machine '${m.machineId}'`;
    if (!m.isValidated) {
      // Waiting for an operator, not broken: raised at once, with what its login attempts show.
      const tries = related(m, m.createdAt, idx).filter((x) => x.r.reason === 'login:not-validated');
      const evidence = [
        `registered at ${formatRfc3339(m.createdAt)}${m.ipAddress ? ` from ${m.ipAddress}` : ''} and not validated: the Local API refuses its logins until it is`,
        ...describe(tries.map((x) => x.r)),
      ];
      findings.push(
        finding(
          'lp_pending',
          m,
          m.createdAt,
          `${label} registered ${ago(now, m.createdAt)} ago and waits for validation: until then it cannot log in or push alerts.`,
          [{ cause: 'machine_not_validated', confidence: 'high', evidence }],
        ),
      );
      continue;
    }
    if (silent > machineOfflineAfter(m, rules)) {
      const never = m.lastLoginAt === null && m.lastHeartbeatAt === null;
      const summary = never
        ? `${label} was added ${ago(now, m.createdAt)} ago and has never logged in: no alerts come from it.`
        : `${label} has not checked in for ${ago(now, since)} (last seen ${formatRfc3339(since)}): its log processing is not reaching the Local API.`;
      findings.push(finding('lp_offline', m, since, summary, offlineCauses(m, since, idx), changeNotes(idx.changes.get(m.id), since)));
      continue;
    }
    const late = machineLateAfter(m, rules);
    if (late !== null && silent > late) {
      const f = finding(
        'lp_late',
        m,
        since,
        `${label} usually sends a heartbeat every ${formatCadence(m.heartbeatCadenceMs!)} but has been silent for ${ago(now, since)}.`,
        offlineCauses(m, since, idx),
        changeNotes(idx.changes.get(m.id), since),
      );
      // Late rather than offline only thanks to a login (cscli logs in with the agent's credentials)?
      if (silenceSince(machineOwnTraffic(m), now, snapshot.downtime) > machineOfflineAfter(m, rules)) f.ownTraffic = false;
      findings.push(f);
    }
    // Online (not offline): has it pushed anything in 48 h? A machine never pushed counts from its registration.
    const pushed = m.lastPushAt ?? m.createdAt;
    if (m.lastLoginAt !== null && silenceSince(pushed, now, snapshot.downtime) > NO_ALERTS_AFTER_MS) {
      const evidence = [
        m.lastPushAt === null
          ? `it has never pushed an alert since it was added at ${formatRfc3339(m.createdAt)}`
          : `its last alert push was at ${formatRfc3339(m.lastPushAt)}, ${ago(now, m.lastPushAt)} ago`,
        `it is online: last heartbeat ${m.lastHeartbeatAt === null ? 'never' : formatRfc3339(m.lastHeartbeatAt)}, last login ${formatRfc3339(m.lastLoginAt)}`,
        'on the agent, `cscli metrics` shows whether its logs are read (acquisition), parsed (parsers) and reach scenarios (buckets)',
      ];
      findings.push(
        finding('lp_no_alerts', m, pushed, `${label} is online but has pushed no alert for ${ago(now, pushed)}: its scenarios are not firing.`, [
          { cause: 'no_alerts', confidence: 'medium', evidence },
        ]),
      );
    }
  }
  return findings;
}

/** From this many unvalidated machines on, LP Pending Validation is one issue for all of them (subject `machines:pending`). */
export const PENDING_GROUPED_FROM = 2;

function pendingGroup(pending: MachineHealthInput[], now: number): Finding {
  const byAddress = new Map<string, number>();
  for (const m of pending) byAddress.set(m.ipAddress || 'an unknown address', (byAddress.get(m.ipAddress || 'an unknown address') ?? 0) + 1);
  const addresses = [...byAddress].sort((a, b) => b[1] - a[1]);
  const shown = addresses.slice(0, 10).map(([ip, n]) => `${ip} (${n})`);
  const more = addresses.length > 10 ? ` and ${addresses.length - 10} more address(es)` : '';
  const oldest = Math.min(...pending.map((m) => m.createdAt));
  const names = pending.slice(0, 5).map((m) => m.machineId);
  return {
    kind: 'lp_pending',
    criticality: ISSUE_CATALOGUE.lp_pending.criticality,
    subject: 'machines:pending',
    bouncerName: null,
    since: oldest,
    summary: `${pending.length} unvalidated registrations from ${addresses.length} address(es) wait for validation: none of them can log in or push alerts until an operator validates it.`,
    causes: [
      {
        cause: 'machine_not_validated',
        confidence: 'high',
        evidence: [
          `registered from ${shown.join(', ')}${more}, the first ${ago(now, oldest)} ago (${formatRfc3339(oldest)})`,
          `machines: ${names.join(', ')}${pending.length > names.length ? ` and ${pending.length - names.length} more` : ''} (\`vigil machines list\`)`,
          'yours: `vigil machines validate NAME`; not yours (remote registration is open, as in CrowdSec): `vigil machines delete NAME`, and set api.disable_remote_registration',
        ],
      },
    ],
    notes: [],
  };
}

function finding(kind: IssueKind, m: MachineHealthInput, since: number, summary: string, causes: LikelyCause[], notes: string[] = []): Finding {
  return { kind, criticality: ISSUE_CATALOGUE[kind].criticality, subject: `machine:${m.machineId}`, bouncerName: null, since, summary, causes, notes };
}

interface MachineEvidence {
  refusedByIp: Map<string, RefusedSummary[]>;
  refusedByName: Map<string, RefusedSummary[]>;
  machineIds: Set<string>;
  machinesByIp: Map<string, number>;
  lapiStarts: number[];
  changes: Map<number, MachineChange[]>;
  requestsRecorded: boolean;
}

function indexMachineEvidence(s: FleetSnapshot): MachineEvidence {
  const idx: MachineEvidence = {
    refusedByIp: new Map(),
    refusedByName: new Map(),
    machineIds: new Set(),
    machinesByIp: new Map(),
    lapiStarts: [...s.lapiStarts].sort((a, b) => a - b),
    changes: new Map(),
    requestsRecorded: s.requestsRecorded !== false,
  };
  for (const m of s.machines ?? []) {
    idx.machineIds.add(m.machineId);
    if (m.ipAddress) idx.machinesByIp.set(m.ipAddress, (idx.machinesByIp.get(m.ipAddress) ?? 0) + 1);
  }
  // Only refusals of logins and tokens: a bouncer's refused key says nothing about an agent.
  const refused = [...s.refused.map(summaryOf), ...(s.refusedSummaries ?? [])].filter((r) => isMachineRefusal(r.reason));
  for (const r of refused) {
    if (r.peerIp) pushTo(idx.refusedByIp, r.peerIp, r);
    // The login's machine_id is recorded in bouncerName.
    if (r.bouncerName) pushTo(idx.refusedByName, r.bouncerName, r);
  }
  for (const c of s.machineChanges ?? []) pushTo(idx.changes, c.machineId, c);
  return idx;
}

type Match = 'own' | 'ip' | 'shared';
const CONFIDENCE: Record<Match, LikelyCause['confidence']> = { own: 'high', ip: 'medium', shared: 'low' };
const RANK: Record<LikelyCause['confidence'], number> = { high: 0, medium: 1, low: 2 };

/**
 * Refusals since `since` that are this machine's: those naming it (its machine_id), then those from
 * its address that name no other known machine (a credentials file naming a deleted or other machine
 * is still this agent). From an address several machines share, only low confidence.
 */
function related(m: MachineHealthInput, since: number, idx: MachineEvidence): Array<{ r: RefusedSummary; match: Match }> {
  const out: Array<{ r: RefusedSummary; match: Match }> = [];
  const seen = new Set<RefusedSummary>();
  for (const r of idx.refusedByName.get(m.machineId) ?? []) {
    if (r.lastAt > since) {
      seen.add(r);
      out.push({ r, match: 'own' });
    }
  }
  if (m.ipAddress) {
    for (const r of idx.refusedByIp.get(m.ipAddress) ?? []) {
      if (r.lastAt <= since || seen.has(r)) continue;
      if (r.bouncerName && idx.machineIds.has(r.bouncerName)) continue; // another known machine's login
      out.push({ r, match: (idx.machinesByIp.get(m.ipAddress) ?? 0) > 1 ? 'shared' : 'ip' });
    }
  }
  return out;
}

/** Which cause each refusal reason points at. */
const REASON_CAUSE: Record<string, LikelyCause['cause']> = {
  'login:bad-password': 'machine_bad_password',
  'login:unknown-machine': 'machine_unknown',
  'login:not-validated': 'machine_not_validated',
  'login:bad-user-agent': 'machine_login_rejected',
  'login:bad-input': 'machine_login_rejected',
  'jwt:invalid': 'jwt_rejected',
  'jwt:expired': 'jwt_rejected',
};

function offlineCauses(m: MachineHealthInput, since: number, idx: MachineEvidence): LikelyCause[] {
  const causes: LikelyCause[] = [];
  const byCause = new Map<LikelyCause['cause'], Array<{ r: RefusedSummary; match: Match }>>();
  for (const x of related(m, since, idx)) {
    const cause = REASON_CAUSE[x.r.reason];
    if (!cause) continue;
    const list = byCause.get(cause);
    if (list) list.push(x);
    else byCause.set(cause, [x]);
  }
  for (const [cause, list] of byCause) {
    let confidence: LikelyCause['confidence'] = 'low';
    for (const x of list) if (RANK[CONFIDENCE[x.match]] < RANK[confidence]) confidence = CONFIDENCE[x.match];
    const evidence = describe(list.map((x) => x.r));
    const others = [...new Set(list.map((x) => x.r.bouncerName).filter((n) => n && n !== m.machineId))];
    if (cause === 'machine_unknown' && others.length > 0)
      evidence.push(
        `its address logs in as ${others.map((n) => `'${n}'`).join(', ')}, which the Local API does not know: the credentials file names another machine`,
      );
    if (cause === 'machine_bad_password') evidence.push(`the password in the agent's local_api_credentials.yaml is not the one stored for '${m.machineId}'`);
    if (cause === 'jwt_rejected')
      evidence.push(
        'a token signed before a change of the Local API secret (or by another replica with another secret) is refused until the agent logs in again',
      );
    if (list.some((x) => x.match === 'shared'))
      evidence.push(`its address ${m.ipAddress} is shared by ${idx.machinesByIp.get(m.ipAddress)} machines: these could be another one's`);
    causes.push({ cause, confidence, evidence });
  }

  if (m.lastHeartbeatAt !== null || m.lastLoginAt !== null) {
    const silence = { since, cadenceMs: m.heartbeatCadenceMs, minWindowMs: RESTART_WINDOW_MIN_MS };
    const restart = lapiRestartCause(idx.lapiStarts, silence, causes.length, {
      after: 'this machine was last seen',
      notBack: 'it has not checked in since: the agent did not log in again',
    });
    if (restart) causes.push(restart);
  }

  if (m.lastLoginAt === null && m.lastHeartbeatAt === null) {
    causes.push({
      cause: 'machine_never_logged_in',
      confidence: causes.length === 0 ? 'high' : 'low',
      evidence: [
        `added at ${formatRfc3339(m.createdAt)} and never logged in: its credentials were probably never written to the agent's local_api_credentials.yaml, or the agent never started`,
      ],
    });
  } else if (causes.every((c) => c.confidence === 'low' || c.cause === 'lapi_restart')) {
    const strong = causes.some((c) => c.confidence !== 'low');
    const evidence = [
      idx.requestsRecorded
        ? `nothing at all has arrived from ${m.ipAddress || 'it'} since ${formatRfc3339(since)}: no refused login, no refused token`
        : `no heartbeat since ${formatRfc3339(since)}; refused logins are not recorded where this was read from`,
      'check that the crowdsec service runs on the agent host and can reach the Local API',
    ];
    causes.push({ cause: 'agent_stopped_or_network', confidence: strong ? 'low' : 'medium', evidence });
  }
  causes.sort((x, y) => RANK[x.confidence] - RANK[y.confidence]);
  // A login since then with no heartbeat after it: cscli, or an agent that died again. Evidence, not life.
  if (m.lastLoginAt !== null && m.lastLoginAt > since && causes.length > 0) {
    causes[0]!.evidence.push(
      `a login with its credentials at ${formatRfc3339(m.lastLoginAt)} was not followed by a heartbeat: cscli (which logs in with the agent's credentials) or an agent that stopped again; a login alone is not a sign of life`,
    );
  }
  return causes;
}

const REASON_TEXT: Record<string, string> = {
  'login:bad-password': 'wrong password',
  'login:unknown-machine': 'unknown machine',
  'login:not-validated': 'not validated',
  'login:bad-user-agent': 'User-Agent is not name/version',
  'login:bad-input': 'malformed login',
  'jwt:invalid': 'invalid token',
  'jwt:expired': 'expired token',
};

function describe(list: RefusedSummary[]): string[] {
  return [...list]
    .sort((a, b) => b.count - a.count)
    .slice(0, 5)
    .map(
      (r) =>
        `${r.count} request(s) refused (${REASON_TEXT[r.reason] ?? r.reason}) ${r.method} ${r.path} from ${r.peerIp}` +
        `${r.bouncerName ? ` as '${r.bouncerName}'` : ''}${r.userAgent ? ` with User-Agent ${r.userAgent}` : ''}, ` +
        (r.count > 1 ? `from ${formatRfc3339(r.firstAt)} to ${formatRfc3339(r.lastAt)}` : `at ${formatRfc3339(r.firstAt)}`),
    );
}

function ago(now: number, t: number): string {
  return formatGoDuration(roundToSecond(now - t));
}
