import type { Clock } from '../lib/clock.ts';
import type { Store } from '../store/store.ts';
import type { Bouncer, Machine } from '../core/model/records.ts';
import type { HealthIssue } from '../core/model/health-issue.ts';
import { resolveKind } from '../core/health/bouncer-kind.ts';
import { evaluateInSlices } from '../core/health/evaluate.ts';
import { nextTurn, runInTurns } from '../lib/turns.ts';
import { incidentKey, settleStage } from '../core/health/incident.ts';
import type { BouncerHealthInput, FleetSnapshot, Finding, HealthRules, MachineHealthInput } from '../core/health/types.ts';
import { refusedSummaries } from '../store/refused-summaries.ts';
import { listMachines } from '../store/machines.ts';
import { logProcessorUsage } from '../store/usage-log-processors.ts';
import { NO_LOGS_PARSED_AFTER_MS } from '../core/health/log-processors.ts';
import { vigilDowntime } from './lapi-alive.ts';
import { lastProbes } from '../store/bouncer-probes.ts';
import type { LastProbe } from '../core/bouncers/probe.ts';
import { enforcementInput, type CanaryHealthConfig } from './enforcement.ts';
import { Topic } from '../lib/topic.ts';
import { LiveSignals } from './live-signals.ts';
import { bouncerChanges } from '../store/bouncer-changes.ts';
import { listBouncers } from '../store/bouncers.ts';
import { issueOpenCounts, openHealthIssue, openHealthIssues, resolveHealthIssue, touchHealthIssue } from '../store/health-issues.ts';
import { lapiStarts } from '../store/lapi-runs.ts';
import { usageMetricsReceivedAt } from '../store/usage-metrics.ts';
import { alertVolume } from '../store/console-inputs.ts';
import { KnownSafeTracker } from './known-safe-tracker.ts';
import { AllowlistMatcher } from '../core/allowlists/allowlists.ts';
import { activeAllowlistEntries } from '../store/allowlists.ts';
import { TOO_MANY_ALERTS } from '../core/health/too-many-alerts.ts';
import { COMPONENT_VERSIONS } from '../core/health/component-versions.ts';
import { SharedRun } from '../lib/shared-run.ts';
import { Repeating } from '../lib/repeating.ts';

/** Opened this many times in FLAP_WINDOW: shown as flapping rather than announced each time. */
export const FLAP_OPENS = 3;
export const FLAP_WINDOW_MS = 24 * 3600_000;

/**
 * Thrown by a fleet source that cannot be read (`vigil watch`: CrowdSec's database locked, cscli
 * failing). The engine then raises `finding` alone and leaves every other issue as it is: nothing is
 * known about the bouncers, so none is raised or resolved from missing data.
 */
export class FleetUnavailableError extends Error {
  /** Raised alone, in place of the fleet's findings: none (a hold not yet worth an issue), one or more. */
  readonly findings: Finding[];
  constructor(finding: Finding | Finding[]) {
    const findings = Array.isArray(finding) ? finding : [finding];
    super(findings[0]?.summary ?? 'fleet verdicts held');
    this.name = 'FleetUnavailableError';
    this.findings = findings;
  }

  get finding(): Finding | undefined {
    return this.findings[0];
  }
}

export interface HealthEngineOptions {
  /** Where the fleet comes from; default what this store's Local API recorded. `vigil watch` reads CrowdSec's. */
  snapshot?: (now: number) => Promise<FleetSnapshot>;
  /** The configured canaries (`canaries:`): their runs and drift observations are evaluated too (docs/canaries.md). */
  canaries?: CanaryHealthConfig[];
  /** When a bouncer last closed its own connection, as this process saw it (`vigil serve`: server/connection-watch.ts). */
  connectionClosedAt?: (bouncerId: number) => number | undefined;
  /** Bouncers of CrowdSec's own database by key fingerprint (`vigil serve`: app/crowdsec-key-names.ts). */
  crowdsecKeyNames?: (refusedFingerprints: readonly string[]) => Promise<ReadonlyMap<string, string>>;
}

export interface EvaluationResult {
  opened: HealthIssue[];
  resolved: HealthIssue[];
  open: HealthIssue[];
  /** Open issues that moved to another stage of their incident (late → offline), as they are now. */
  escalated: HealthIssue[];
}

/**
 * Who a bouncer is, its kind resolved (the operator's override first): the health input, the admin
 * API's list and the dashboard's fleet row all start with it.
 */
export function bouncerIdentity(b: Bouncer) {
  return {
    name: b.name,
    type: b.type,
    version: b.version,
    ipAddress: b.ipAddress,
    kind: resolveKind(b.type, b.kindOverride),
  };
}

export function toHealthInput(b: Bouncer, lastUsageMetricsAt: number | null = null, lastProbe: LastProbe | null = null): BouncerHealthInput {
  return {
    id: b.id,
    ...bouncerIdentity(b),
    revoked: b.revoked,
    createdAt: b.createdAt,
    lastPullAt: b.lastPullAt,
    lastRequestAt: b.lastRequestAt,
    pullCadenceMs: b.pullCadenceMs,
    lastUsageMetricsAt,
    autoCreated: b.autoCreated,
    lastProbe,
  };
}

export function toMachineHealthInput(m: Machine): MachineHealthInput {
  return {
    id: m.id,
    machineId: m.machineId,
    ipAddress: m.ipAddress,
    version: m.version,
    isValidated: m.isValidated,
    authType: m.authType,
    createdAt: m.createdAt,
    lastLoginAt: m.lastLoginAt,
    lastHeartbeatAt: m.lastHeartbeatAt,
    lastPushAt: m.lastPushAt,
    heartbeatCadenceMs: m.heartbeatCadenceMs,
  };
}

/**
 * Runs the pure evaluator over what the store recorded and keeps the persisted issues in step:
 * opens new ones, refreshes the evidence of open ones, resolves the ones whose condition is gone
 * (pulls resumed, bouncer deleted). Several replicas may run it at once: the store lets exactly
 * one of them open a given issue.
 */
export class HealthEngine {
  #store: Store;
  #clock: Clock;
  #rules: HealthRules;
  readonly #evaluation = new SharedRun(() => this.#evaluate());
  #source: ((now: number) => Promise<FleetSnapshot>) | undefined;
  #connectionClosedAt: ((bouncerId: number) => number | undefined) | undefined;
  #crowdsecKeyNames: ((refusedFingerprints: readonly string[]) => Promise<ReadonlyMap<string, string>>) | undefined;
  #canaries: CanaryHealthConfig[];
  readonly #knownSafeTracker: KnownSafeTracker;
  /** Each evaluation's outcome (the log, notifications): any number of subscribers. */
  readonly evaluated = new Topic<EvaluationResult>();
  readonly #timer = new Repeating(() => this.evaluateNow());
  /** A scheduled evaluation that failed. */
  readonly failed = this.#timer.failed;
  /** Live-mode bouncers' report periods and rhythms, read again only when they can have changed. */
  #live = new LiveSignals();

  constructor(store: Store, clock: Clock, rules: HealthRules, options: HealthEngineOptions = {}) {
    this.#store = store;
    this.#clock = clock;
    this.#rules = rules;
    this.#source = options.snapshot;
    this.#connectionClosedAt = options.connectionClosedAt;
    this.#crowdsecKeyNames = options.crowdsecKeyNames;
    this.#canaries = options.canaries ?? [];
    this.#knownSafeTracker = new KnownSafeTracker(store);
  }

  get rules(): HealthRules {
    return this.#rules;
  }

  /** A reload's new rules and canaries; the next evaluation judges by them (open issues stay). */
  reconfigure(rules: HealthRules, canaries: CanaryHealthConfig[]): void {
    this.#rules = rules;
    this.#canaries = canaries;
  }

  start(everyMs: number): void {
    this.#timer.start(everyMs);
  }

  stop(): void {
    this.#timer.stop();
  }

  async snapshot(now: number): Promise<FleetSnapshot> {
    if (this.#source) return await this.#source(now);
    const bouncers = await listBouncers(this.#store);
    const lookback = now - Math.max(2 * this.#rules.offlineAfterMs, 7 * 24 * 3600_000);
    const reported = await usageMetricsReceivedAt(this.#store);
    const probes = await lastProbes(this.#store);
    const inputs: BouncerHealthInput[] = [];
    const closedAt = this.#connectionClosedAt;
    for (const b of bouncers) {
      const input = toHealthInput(b, reported.get(b.id) ?? null, probes.get(b.id) ?? null);
      const closed = closedAt?.(b.id);
      if (closed !== undefined) input.connectionClosedAt = closed;
      inputs.push(input);
      if (inputs.length % 2000 === 0) await nextTurn();
    }
    await this.#live.annotate(this.#store, inputs, now);
    const summaries = await refusedSummaries(this.#store, { since: lookback });
    // A refused key CrowdSec's own database has: registered with cscli after the switch (core/health/crowdsec-registered.ts).
    const fingerprints = [...new Set(summaries.map((r) => r.keyFingerprint).filter((f) => f !== ''))];
    const inCrowdsec = fingerprints.length > 0 ? await this.#crowdsecKeyNames?.(fingerprints) : undefined;
    if (inCrowdsec && inCrowdsec.size > 0) {
      for (const r of summaries) {
        const name = r.keyFingerprint === '' ? undefined : inCrowdsec.get(r.keyFingerprint);
        if (name !== undefined) r.crowdsecBouncerName = name;
      }
    }
    return {
      bouncers: inputs,
      // Summaries, not the raw record: a flood of random keys fills the raw record, never these.
      refused: [],
      refusedSummaries: summaries,
      lapiStarts: await lapiStarts(this.#store, lookback),
      // When no Local API process ran: nobody's silence (core/health/downtime.ts).
      downtime: await vigilDowntime(this.#store, lookback, now),
      bouncerChanges: await bouncerChanges(this.#store, lookback),
      // Machines (log processors), without their password hashes.
      machines: (await listMachines(this.#store)).map(toMachineHealthInput),
      // Agents' usage reports, with the windows LP No Logs Parsed looks back over.
      logProcessorUsage: await logProcessorUsage(this.#store, now - (this.#rules.noLogsParsedAfterMs ?? NO_LOGS_PARSED_AFTER_MS) - 3600_000),
      // Canaries and drift (proof of enforcement).
      enforcement: await enforcementInput(this.#store, this.#canaries, bouncers),
      // The Console's newest issues (core/health/console-issues.ts).
      alertVolume: await alertVolume(this.#store, now, TOO_MANY_ALERTS.windowMs, TOO_MANY_ALERTS.count),
      knownSafe: await this.#knownSafe(now),
      componentVersions: COMPONENT_VERSIONS,
    };
  }

  /** Blocking Known Safe IP's input: canaries' addresses and the active allowlist items (store/allowlists.ts). */
  async #knownSafe(now: number): Promise<FleetSnapshot['knownSafe']> {
    const entries = await activeAllowlistEntries(this.#store, now);
    const allowlist = { matcher: new AllowlistMatcher(entries, now), key: entries.map((e) => `${e.listName}/${e.item.value}`).join('\n') };
    return await this.#knownSafeTracker.input(
      now,
      this.#canaries.flatMap((c) => (c.address ? [c.address] : [])),
      allowlist,
    );
  }

  /** One evaluation; concurrent calls share it. */
  evaluateNow(): Promise<EvaluationResult> {
    return this.#evaluation.run();
  }

  async #evaluate(): Promise<EvaluationResult> {
    const now = this.#clock.now();
    let findings: Finding[];
    // Which open issues this evaluation speaks for: all of them, unless the fleet could not be read.
    let covers = (_i: HealthIssue) => true;
    try {
      findings = await runInTurns(evaluateInSlices(await this.snapshot(now), now, this.#rules));
    } catch (e) {
      if (!(e instanceof FleetUnavailableError)) throw e;
      findings = e.findings;
      // What the held evaluation speaks for: its findings' subjects (`lapi_replaced` ends an open `lapi_down`).
      covers = (i) => e.findings.some((f) => i.subject === f.subject);
    }
    const open = await openHealthIssues(this.#store);
    // One issue per incident (incident.ts): a late issue whose bouncer is now offline is that issue, escalated.
    const foundKind = new Map(findings.map((f) => [incidentKey(f.kind, f.subject), f.kind]));
    const byIncident = new Map<string, HealthIssue>();
    for (const i of open) {
      const key = incidentKey(i.kind, i.subject);
      // Two stages open at once (from before incidents, or a replica race): the exact kind wins, the other resolves.
      if (!byIncident.has(key) || i.kind === foundKind.get(key)) byIncident.set(key, i);
    }
    const opened: HealthIssue[] = [];
    const resolved: HealthIssue[] = [];
    const escalated: HealthIssue[] = [];
    const stillOpen: HealthIssue[] = [];
    const kept = new Set<number>();
    for (const f of findings) {
      const evidence = { causes: f.causes, notes: f.notes };
      const existing = byIncident.get(incidentKey(f.kind, f.subject));
      if (existing && !kept.has(existing.id)) {
        // A fall that only a probe or a login would explain keeps the graver stage (incident.ts).
        const stage = settleStage(existing, f);
        const moved = existing.kind !== stage.kind;
        const update = { lastSeenAt: now, summary: f.summary, since: f.since, evidence, ...(moved ? stage : {}) };
        if (!(await touchHealthIssue(this.#store, existing.id, update))) continue; // that stage is open already: the next evaluation sees it
        kept.add(existing.id);
        const current = { ...existing, ...update };
        stillOpen.push(current);
        if (moved) escalated.push(current);
        continue;
      }
      const issue = await openHealthIssue(this.#store, toNewIssue(f, now));
      if (issue) {
        kept.add(issue.id);
        opened.push(issue);
        stillOpen.push(issue);
      }
    }
    for (const i of open) {
      if (kept.has(i.id) || !covers(i)) continue;
      if (await resolveHealthIssue(this.#store, i.id, now)) resolved.push({ ...i, resolvedAt: now });
    }
    const result = { opened, resolved, open: stillOpen, escalated };
    this.evaluated.publish(result);
    return result;
  }
}

function toNewIssue(f: Finding, now: number) {
  return {
    kind: f.kind,
    criticality: f.criticality,
    subject: f.subject,
    bouncerName: f.bouncerName,
    openedAt: now,
    since: f.since,
    summary: f.summary,
    evidence: { causes: f.causes, notes: f.notes },
  };
}

/** Issues whose (kind, subject) opened at least FLAP_OPENS times in the last FLAP_WINDOW_MS. */
export async function flappingKeys(store: Store, now: number): Promise<Set<string>> {
  const counts = await issueOpenCounts(store, now - FLAP_WINDOW_MS);
  return new Set([...counts].filter(([, n]) => n >= FLAP_OPENS).map(([k]) => k));
}
