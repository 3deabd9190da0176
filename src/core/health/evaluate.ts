import { formatGoDuration, formatRfc3339 } from '../../lib/duration.ts';
import type { BouncerChange, RefusedRequest } from '../model/records.ts';
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

/** The health defaults, defined here once: the configuration (health.*) and the engine both read them. */
export const DEFAULT_RULES: HealthRules = { offlineAfterMs: 24 * 3600_000, lateAfterFactor: 10, lateAfterMinMs: 5 * 60_000 };
/** How often `vigil serve` evaluates by default (health.evaluate_every). */
export const DEFAULT_EVALUATE_EVERY_MS = 30_000;

/** A silence that began this close before a LAPI restart is blamed on the restart. */
const RESTART_WINDOW_MIN_MS = 2 * 60_000;
/** An IP or version change this long before the silence is worth noting. */
const CHANGE_NOTE_WINDOW_MS = 3600_000;

/** The bouncer's last sign of life: a pull, or a usage-metrics report; registration when neither. */
export function lastSignOfLife(b: BouncerHealthInput): number {
  return Math.max(b.lastPullAt ?? b.createdAt, b.lastUsageMetricsAt ?? 0);
}

/** The silence after which a steady bouncer counts as late, or null when it has no steady cadence. */
export function lateAfter(b: BouncerHealthInput, rules: HealthRules): number | null {
  if (b.pullCadenceMs === null || b.pullCadenceMs <= 0) return null;
  return Math.max(rules.lateAfterFactor * b.pullCadenceMs, rules.lateAfterMinMs);
}

/** What a person reads at a glance in a list: healthy, late, offline, never pulled, revoked. */
export function bouncerStatus(b: BouncerHealthInput, now: number, rules: HealthRules): BouncerStatus {
  if (b.revoked) return 'revoked';
  const silent = now - lastSignOfLife(b);
  if (silent > rules.offlineAfterMs) return 'offline';
  if (b.lastPullAt === null && b.lastUsageMetricsAt === null) return 'never_pulled';
  const late = lateAfter(b, rules);
  if (late !== null && silent > late) return 'late';
  return 'healthy';
}

/**
 * The health evaluator: fleet snapshot + now + rules → the conditions that hold. Pure: no I/O and
 * no clock of its own, so tests move `now` across the exact boundaries.
 */
export function evaluate(snapshot: FleetSnapshot, now: number, rules: HealthRules): Finding[] {
  const findings: Finding[] = [];
  const evidence = indexEvidence(snapshot);
  let active = 0;
  for (const b of snapshot.bouncers) {
    const since = lastSignOfLife(b);
    const silent = now - since;
    if (!b.revoked && silent <= rules.offlineAfterMs) active++;
    // A revoked bouncer is switched off on purpose: it is shown as such, not raised as offline.
    if (b.revoked) continue;
    let kind: IssueKind | null = null;
    if (silent > rules.offlineAfterMs) kind = b.kind === 'firewall' ? 'fw_integration_offline' : 'rc_integration_offline';
    else {
      const late = lateAfter(b, rules);
      if (late !== null && silent > late) kind = 'integration_late';
    }
    if (kind === null) continue;
    const causes = likelyCauses(b, since, evidence);
    findings.push({
      kind,
      criticality: ISSUE_CATALOGUE[kind].criticality,
      subject: `bouncer:${b.name}`,
      bouncerName: b.name,
      since,
      summary: summaryFor(kind, b, since, now),
      causes,
      notes: changeNotes(b, since, evidence),
    });
  }
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
  return findings;
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
    return `${label} usually pulls every ${formatGoDuration(b.pullCadenceMs!)} but has been silent for ${silence}.`;
  }
  return `${label} has not pulled decisions for ${silence} (last pull ${formatRfc3339(since)}): its remediation has stopped.`;
}

interface EvidenceIndex {
  refusedByIp: Map<string, RefusedRequest[]>;
  /** Only for User-Agents that exactly one registered bouncer has: shared ones name nobody. */
  refusedByAgent: Map<string, RefusedRequest[]>;
  refusedByBouncer: Map<string, RefusedRequest[]>;
  lapiStarts: number[];
  changesByBouncer: Map<number, BouncerChange[]>;
  requestsRecorded: boolean;
}

/** Group the evidence once, so 100k bouncers cost 100k map lookups, not 100k scans. */
function indexEvidence(s: FleetSnapshot): EvidenceIndex {
  const push = <K, V>(m: Map<K, V[]>, k: K, v: V) => {
    const list = m.get(k);
    if (list) list.push(v);
    else m.set(k, [v]);
  };
  const idx: EvidenceIndex = {
    refusedByIp: new Map(),
    refusedByAgent: new Map(),
    refusedByBouncer: new Map(),
    lapiStarts: [...s.lapiStarts].sort((a, b) => a - b),
    changesByBouncer: new Map(),
    requestsRecorded: s.requestsRecorded !== false,
  };
  // A thousand nginx bouncers share one User-Agent: a refused request with it says nothing about
  // which of them it was. Attribute by User-Agent only when one bouncer alone has it.
  const agentOwners = new Map<string, number>();
  for (const b of s.bouncers) {
    const ua = userAgentOf(b);
    if (ua) agentOwners.set(ua, (agentOwners.get(ua) ?? 0) + 1);
  }
  for (const r of s.refused) {
    if (r.peerIp) push(idx.refusedByIp, r.peerIp, r);
    if (r.userAgent && agentOwners.get(r.userAgent) === 1) push(idx.refusedByAgent, r.userAgent, r);
    if (r.bouncerName) push(idx.refusedByBouncer, r.bouncerName, r);
  }
  for (const c of s.bouncerChanges) push(idx.changesByBouncer, c.bouncerId, c);
  return idx;
}

function userAgentOf(b: BouncerHealthInput): string {
  if (!b.type) return '';
  return b.version && b.version !== 'N/A' ? `${b.type}/${b.version}` : b.type;
}

/** Requests since the silence began that came from this bouncer's IP or with its User-Agent. */
function relatedRequests(b: BouncerHealthInput, since: number, idx: EvidenceIndex): RefusedRequest[] {
  const seen = new Set<number>();
  const out: RefusedRequest[] = [];
  const add = (list: RefusedRequest[] | undefined) => {
    for (const r of list ?? []) {
      if (r.at > since && !seen.has(r.id)) {
        seen.add(r.id);
        out.push(r);
      }
    }
  };
  if (b.ipAddress) add(idx.refusedByIp.get(b.ipAddress));
  const ua = userAgentOf(b);
  if (ua) add(idx.refusedByAgent.get(ua));
  add(idx.refusedByBouncer.get(b.name));
  return out.sort((x, y) => x.at - y.at);
}

function likelyCauses(b: BouncerHealthInput, since: number, idx: EvidenceIndex): LikelyCause[] {
  const causes: LikelyCause[] = [];
  const related = relatedRequests(b, since, idx);
  const ua = userAgentOf(b);

  const refused = related.filter((r) => r.reason !== 'wrong-path');
  if (refused.length > 0) {
    const byIp = refused.some((r) => b.ipAddress !== '' && r.peerIp === b.ipAddress);
    const byAgent = refused.some((r) => ua !== '' && r.userAgent === ua);
    const revoked = refused.filter((r) => r.reason === 'revoked' && r.bouncerName === b.name);
    const fingerprints = new Set(refused.map((r) => r.keyFingerprint).filter(Boolean));
    const evidence = describeRequests(refused, 'refused');
    if (revoked.length > 0) evidence.unshift(`its own key was refused ${revoked.length} time(s) because the bouncer is revoked`);
    if (fingerprints.size === 1 && refused.length > 1) evidence.push('every refused request carried the same key: a stale or mistyped key in its configuration');
    if (refused.some((r) => r.reason === 'missing')) evidence.push('some requests carried no X-Api-Key header at all: the key is missing from its configuration');
    causes.push({ cause: 'authentication', confidence: revoked.length > 0 || (byIp && byAgent) ? 'high' : 'medium', evidence });
  }

  const misrouted = related.filter((r) => r.reason === 'wrong-path');
  if (misrouted.length > 0) {
    const evidence = describeRequests(misrouted, 'answered 404');
    evidence.push(`the Local API serves /v1/decisions and /v1/decisions/stream: check api_url (it should look like http://HOST:8080/)`);
    causes.push({ cause: 'configuration', confidence: 'high', evidence });
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

  if (causes.length === 0 || causes.every((c) => c.cause === 'lapi_restart')) {
    const evidence: string[] = [];
    if (b.lastRequestAt !== null && b.lastRequestAt > since) {
      evidence.push(`it still makes requests that are not pulls (last ${formatRfc3339(b.lastRequestAt)}): the process runs but does not pull decisions`);
    } else if (!idx.requestsRecorded) {
      evidence.push(
        `no pull since ${formatRfc3339(since)}; refused keys and wrong URLs are not recorded where this was read from (CrowdSec's database keeps none), so they would look the same: check the Local API's log for requests from ${b.ipAddress || 'the bouncer'}`,
      );
    } else {
      evidence.push(`nothing at all has arrived from ${b.ipAddress || 'it'}${ua ? ` or with User-Agent ${ua}` : ''} since ${formatRfc3339(since)}: no refused key, no wrong path`);
    }
    evidence.push(
      b.kind === 'firewall'
        ? 'check that the firewall bouncer service runs and can reach the Local API'
        : 'check that the bouncer service or web-server module runs, is loaded, and can reach the Local API',
    );
    causes.push({ cause: 'stopped_or_network', confidence: causes.length === 0 ? 'medium' : 'low', evidence });
  }
  return causes;
}

function changeNotes(b: BouncerHealthInput, since: number, idx: EvidenceIndex): string[] {
  const notes: string[] = [];
  for (const c of idx.changesByBouncer.get(b.id) ?? []) {
    if (c.at <= since + 1000 && since - c.at <= CHANGE_NOTE_WINDOW_MS) {
      notes.push(`its ${c.field === 'ip' ? 'IP address' : c.field} changed from '${c.oldValue}' to '${c.newValue}' at ${formatRfc3339(c.at)}, just before it went silent`);
    }
  }
  return notes;
}

function describeRequests(list: RefusedRequest[], verb: string): string[] {
  const groups = new Map<string, { n: number; first: number; last: number; r: RefusedRequest }>();
  for (const r of list) {
    const key = `${r.reason}|${r.peerIp}|${r.userAgent}|${r.path}`;
    const g = groups.get(key);
    if (g) {
      g.n++;
      g.last = Math.max(g.last, r.at);
      g.first = Math.min(g.first, r.at);
    } else groups.set(key, { n: 1, first: r.at, last: r.at, r });
  }
  const reasonText: Record<string, string> = { unknown: 'unknown key', missing: 'no key', revoked: 'revoked key', 'wrong-path': 'wrong path' };
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
