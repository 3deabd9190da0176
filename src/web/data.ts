import { refusedOf } from '../core/health/attribution.ts';
import type { Store } from '../store/store.ts';
import { canaryRuns, driftObservations } from '../store/canaries.ts';
import type { CanaryRun, DriftObservation } from '../core/health/enforcement.ts';
import type { Bouncer, BouncerChange, Decision, RefusedRequest } from '../core/model/records.ts';
import type { HealthIssue } from '../core/model/health-issue.ts';
import type { Criticality, HealthRules } from '../core/health/types.ts';
import { bouncerState, criticalityRank, worstCriticality, type BouncerState } from '../core/health/bouncer-state.ts';
import type { Runbook, Deployment } from '../core/health/runbooks/index.ts';
import { bouncerStatus } from '../core/health/evaluate.ts';
import { bouncerIdentity, flappingKeys, toHealthInput } from '../health/engine.ts';
import { downtimeLookback, vigilDowntime } from '../health/lapi-alive.ts';
import type { Interval } from '../core/health/downtime.ts';
import { issueRunbook, issueStatus, type IssueStatus } from '../core/health/issue-view.ts';
import { readRunbookSettings } from '../store/runbook-settings.ts';
import { pullHours } from '../store/pull-history.ts';
import { lastProbes } from '../store/bouncer-probes.ts';
import type { LastProbe } from '../core/bouncers/probe.ts';
import { pullBuckets, type PullBucket } from './timeline.ts';
import type { DecisionIndex } from '../core/decisions/decision-index.ts';
import { parseIp, parseRange, type IpAddress, type IpRange } from '../lib/ip.ts';
import { bouncerChanges } from '../store/bouncer-changes.ts';
import { getBouncer, listBouncers } from '../store/bouncers.ts';
import { healthIssue, healthIssues, openHealthIssues } from '../store/health-issues.ts';
import { refusedRequestsFor } from '../store/refused-requests.ts';
import { latestUsageMetrics, usageMetricsReceivedAt } from '../store/usage-metrics.ts';

const DAY = 24 * 3600_000;

export const CRITICALITIES = ['critical', 'high', 'warning', 'recommended'] as const;
/** Worst first: a bouncer with a Critical issue open and traffic that looks fine is `failing` (core/health/bouncer-state.ts). */
export const STATUSES: readonly BouncerState[] = ['failing', 'offline', 'late', 'never_pulled', 'revoked', 'healthy'];

export interface FleetRow {
  name: string;
  type: string;
  version: string;
  ipAddress: string;
  kind: 'firewall' | 'remediation';
  status: BouncerState;
  /** The worst criticality among its open issues, or null. */
  worstOpen: Criticality | null;
  createdAt: number;
  lastPullAt: number | null;
  lastRequestAt: number | null;
  pullCadenceMs: number | null;
  pulls24h: PullBucket[];
  pulls7d: PullBucket[];
  openIssueIds: number[];
}

export interface FleetSummary {
  openIssues: Record<(typeof CRITICALITIES)[number], number>;
  bouncers: Record<BouncerState, number>;
  total: number;
}

export interface FleetView {
  now: number;
  summary: FleetSummary;
  rows: FleetRow[];
}

export interface IssueRow extends HealthIssue {
  status: IssueStatus;
}

export interface IssueView {
  now: number;
  issue: IssueRow;
  bouncer: Bouncer | undefined;
  runbook: Runbook | null;
  deployment: Deployment;
}

export interface BouncerView {
  now: number;
  row: FleetRow;
  issues: IssueRow[];
  /** Refused requests that are this bouncer's by the health engine's rules (attribution.ts), with why. */
  refused: Array<RefusedRequest & { whose: string }>;
  changes: BouncerChange[];
  usage: { receivedAt: number; report: unknown } | null;
  /** Its canaries' latest runs and its drift observations, newest first (docs/canaries.md). */
  canaryRuns: CanaryRun[];
  drift: DriftObservation[];
  /** The last check of its key by doctor or curl: evidence, never life (issue 24). */
  lastProbe: LastProbe | null;
}

export type DecisionQuery =
  | { kind: 'none' }
  | { kind: 'ip'; text: string; ip: IpAddress }
  | { kind: 'range'; text: string; range: IpRange }
  | { kind: 'invalid'; text: string; message: string };

export interface DecisionsView {
  now: number;
  query: DecisionQuery;
  /** Decisions that apply to the IP, or that cover the whole range. */
  matching: Decision[];
  /** With a range: decisions on addresses or smaller ranges inside it. */
  inside: Decision[];
  /** Without a query: the newest active decisions, and how many there are in all. */
  recent: Decision[];
  activeCount: number;
}

/** Reads for the dashboard: the store's own methods, plus two queries of its own (Kysely). */
export class DashboardData {
  #store: Store;
  #rules: HealthRules;
  #index: DecisionIndex | undefined;
  #lapiUrl: () => string;

  constructor(deps: { store: Store; rules: HealthRules; index: DecisionIndex | undefined; lapiUrl: () => string }) {
    this.#store = deps.store;
    this.#rules = deps.rules;
    this.#index = deps.index;
    this.#lapiUrl = deps.lapiUrl;
  }

  /** The summary over every bouncer; rows for the first `limit` of them, problems first. */
  async fleet(now: number, limit = Infinity): Promise<FleetView> {
    const [bouncers, reported, open] = [await listBouncers(this.#store), await usageMetricsReceivedAt(this.#store), await openHealthIssues(this.#store)];
    const summary: FleetSummary = {
      openIssues: { critical: 0, high: 0, warning: 0, recommended: 0 },
      bouncers: { failing: 0, healthy: 0, late: 0, offline: 0, never_pulled: 0, revoked: 0 },
      total: bouncers.length,
    };
    for (const i of open) if (i.criticality in summary.openIssues) summary.openIssues[i.criticality]++;
    const downtime = await vigilDowntime(this.#store, downtimeLookback(now, this.#rules), now);
    const issuesByName = groupBy(open, (i) => i.bouncerName ?? '');
    const ranked = bouncers.map((b) => {
      const mine = issuesByName.get(b.name) ?? [];
      const status = bouncerState(bouncerStatus(toHealthInput(b, reported.get(b.id) ?? null), now, this.#rules, downtime), mine);
      summary.bouncers[status]++;
      return { b, status, worst: criticalityRank(worstCriticality(mine)) };
    });
    // Problems first, as an operator scans the table: by the worst open criticality, then status, then name.
    ranked.sort((x, y) => x.worst - y.worst || STATUSES.indexOf(x.status) - STATUSES.indexOf(y.status) || x.b.name.localeCompare(y.b.name));
    const shown = ranked.slice(0, limit);
    // Pull history only for the rows drawn: a large fleet's 7 days are 168 rows per bouncer.
    const hours = await pullHours(this.#store, { since: now - 7 * DAY, bouncerIds: shown.map((r) => r.b.id) });
    const byBouncer = groupBy(hours, (h) => h.bouncerId);
    const rows = shown.map(({ b }) => this.#row(b, reported.get(b.id) ?? null, byBouncer.get(b.id) ?? [], issuesByName.get(b.name) ?? [], now, downtime));
    return { now, summary, rows };
  }

  async openIssueCount(): Promise<number> {
    return (await openHealthIssues(this.#store)).length;
  }

  async issues(now: number, includeResolved: boolean): Promise<IssueRow[]> {
    const [list, flapping] = [await healthIssues(this.#store, { includeResolved, limit: 500 }), await flappingKeys(this.#store, now)];
    return list.map((i) => ({ ...i, status: issueStatus(i, flapping) }));
  }

  /** `deployment` as asked, else where the store's runbook settings say the Local API runs (vigil watch), else host. */
  async issue(id: number, now: number, asked: Deployment | undefined): Promise<IssueView | undefined> {
    const issue = await healthIssue(this.#store, id);
    if (!issue) return undefined;
    const bouncer = issue.bouncerName ? await getBouncer(this.#store, issue.bouncerName) : undefined;
    const flapping = await flappingKeys(this.#store, now);
    // The same commands as the CLI and the admin API write: `cscli …` when the store is vigil watch's.
    const settings = await readRunbookSettings(this.#store);
    const deployment = asked ?? settings?.deployment ?? 'host';
    return {
      now,
      issue: { ...issue, status: issueStatus(issue, flapping) },
      bouncer,
      runbook: issueRunbook(issue, bouncer, this.#lapiUrl(), deployment, settings) ?? null,
      deployment,
    };
  }

  async bouncer(name: string, now: number): Promise<BouncerView | undefined> {
    const b = await getBouncer(this.#store, name);
    if (!b) return undefined;
    const usage = (await latestUsageMetrics(this.#store, b.id)) ?? null;
    const hours = await pullHours(this.#store, { since: now - 7 * DAY, bouncerId: b.id });
    const flapping = await flappingKeys(this.#store, now);
    const issues = (await healthIssues(this.#store, { includeResolved: true, limit: 1000 }))
      .filter((i) => i.bouncerName === b.name)
      .slice(0, 20)
      .map((i) => ({ ...i, status: issueStatus(i, flapping) }));
    const open = issues.filter((i) => i.resolvedAt === null);
    return {
      now,
      row: this.#row(b, usage?.receivedAt ?? null, hours, open, now, await vigilDowntime(this.#store, downtimeLookback(now, this.#rules), now), true),
      issues,
      refused: refusedOf(b, await listBouncers(this.#store), await refusedRequestsFor(this.#store, b, 200))
        .slice(0, 25)
        .map((m) => ({ ...m.request, whose: m.label })),
      changes: (await bouncerChanges(this.#store, now - 30 * DAY))
        .filter((c) => c.bouncerId === b.id)
        .reverse()
        .slice(0, 25),
      usage,
      canaryRuns: await canaryRuns(this.#store, { bouncerName: b.name, limit: 20 }),
      drift: (await driftObservations(this.#store, new Map([[b.id, b.name]]), 10))[0] ?? [],
      lastProbe: (await lastProbes(this.#store, [b.id])).get(b.id) ?? null,
    };
  }

  decisions(queryText: string | undefined, now: number): DecisionsView {
    const query = parseDecisionQuery(queryText);
    const view: DecisionsView = { now, query, matching: [], inside: [], recent: [], activeCount: 0 };
    const index = this.#index;
    if (!index) return view;
    if (query.kind === 'ip') view.matching = index.matchIp(query.ip, now);
    else if (query.kind === 'range') {
      view.matching = index.containingRange(query.range, now);
      const covering = new Set(view.matching.map((d) => d.id));
      view.inside = index.insideRange(query.range, now).filter((d) => !covering.has(d.id));
    } else if (query.kind === 'none') {
      const active = index.active(now);
      view.activeCount = active.length;
      view.recent = active.sort((a, b) => b.id - a.id).slice(0, 50);
    }
    return view;
  }

  /** `detailed`: hourly bars over 7 days (a bouncer's page); the fleet table draws 6-hour bars. */
  #row(
    b: Bouncer,
    lastUsageMetricsAt: number | null,
    hours: Array<{ hour: number; pulls: number }>,
    open: HealthIssue[],
    now: number,
    downtime: Interval[],
    detailed = false,
  ): FleetRow {
    return {
      ...bouncerIdentity(b),
      status: bouncerState(bouncerStatus(toHealthInput(b, lastUsageMetricsAt), now, this.#rules, downtime), open),
      worstOpen: worstCriticality(open),
      createdAt: b.createdAt,
      lastPullAt: b.lastPullAt,
      lastRequestAt: b.lastRequestAt,
      pullCadenceMs: b.pullCadenceMs,
      pulls24h: pullBuckets(hours, now, 24),
      pulls7d: pullBuckets(hours, now, 7 * 24, detailed ? 1 : 6),
      openIssueIds: open.map((i) => i.id),
    };
  }
}

/** `192.0.2.1`, `2001:db8::1`, `198.51.100.0/24`; anything else is named back with an example. */
export function parseDecisionQuery(text: string | undefined): DecisionQuery {
  const t = (text ?? '').trim();
  if (t === '') return { kind: 'none' };
  try {
    return t.includes('/') ? { kind: 'range', text: t, range: parseRange(t) } : { kind: 'ip', text: t, ip: parseIp(t) };
  } catch {
    const message = t.includes('/')
      ? `"${t}" is not a CIDR range; use e.g. 198.51.100.0/24 or 2001:db8::/48`
      : `"${t}" is not an IPv4 or IPv6 address; use e.g. 192.0.2.1 (or a range such as 198.51.100.0/24)`;
    return { kind: 'invalid', text: t, message };
  }
}

function groupBy<T, K>(items: readonly T[], key: (t: T) => K): Map<K, T[]> {
  const out = new Map<K, T[]>();
  for (const it of items) {
    const k = key(it);
    let list = out.get(k);
    if (!list) out.set(k, (list = []));
    list.push(it);
  }
  return out;
}
