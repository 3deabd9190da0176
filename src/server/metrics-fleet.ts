import { Gauge, type Registry } from 'prom-client';
import { BOUNCER_STATES, bouncerState } from '../core/health/bouncer-state.ts';
import { bouncerStatus } from '../core/health/evaluate.ts';
import { machineStatus } from '../core/health/evaluate-machines.ts';
import type { HealthRules } from '../core/health/types.ts';
import type { HealthIssue } from '../core/model/health-issue.ts';
import { reportedSeries } from '../core/usage/reported-series.ts';
import type { RemediationComponentReport } from '../core/usage/decode.ts';
import { toHealthInput, toMachineHealthInput } from '../health/engine.ts';
import { downtimeLookback, vigilDowntime } from '../health/lapi-alive.ts';
import type { Clock } from '../lib/clock.ts';
import { listBouncers } from '../store/bouncers.ts';
import { openHealthIssues } from '../store/health-issues.ts';
import { listMachines } from '../store/machines.ts';
import type { Store } from '../store/store.ts';
import { latestUsageMetricsByBouncer } from '../store/usage-metrics.ts';
import type { Bouncer, Machine } from '../core/model/records.ts';

/** Machine states, one series each (as `hc_check_up` does per check). */
const MACHINE_STATES = ['healthy', 'late', 'offline', 'never_logged_in', 'pending'] as const;

interface FleetRead {
  bouncers: Bouncer[];
  machines: Machine[];
  reports: Map<number, { receivedAt: number; report: unknown }>;
  open: HealthIssue[];
  downtime: Awaited<ReturnType<typeof vigilDowntime>>;
  now: number;
}

/**
 * Per-bouncer and per-machine gauges, read from the store at scrape time (every replica reports the
 * same truth) with the same rules the health engine judges by: a status series per state, the learnt
 * cadence, and the bouncer's own usage-metrics counters. One store read serves every gauge of a scrape.
 */
export function registerFleetGauges(
  registry: Registry,
  deps: { store: Store; clock: Clock; rules: () => HealthRules; read: <T>(fn: () => Promise<T>, fallback: T) => Promise<T> },
): void {
  const { store, clock, rules, read } = deps;
  let cached: { at: number; value: Promise<FleetRead | null> } | undefined;
  // One read per scrape: the gauges' collect() run together within a few ms.
  const fleet = (): Promise<FleetRead | null> => {
    const now = clock.now();
    if (cached && now - cached.at < 1000) return cached.value;
    const value = read(async () => {
      const r = rules();
      return {
        bouncers: await listBouncers(store),
        machines: await listMachines(store),
        reports: await latestUsageMetricsByBouncer(store),
        open: await openHealthIssues(store),
        downtime: await vigilDowntime(store, downtimeLookback(now, r), now),
        now,
      };
    }, null);
    cached = { at: now, value };
    return value;
  };

  registerStatusGauges(registry, fleet, rules);
  registerBouncerDetailGauges(registry, fleet);
}

type FleetReader = () => Promise<FleetRead | null>;

/** One series per bouncer (machine) and state, 1 for its state now. */
function registerStatusGauges(registry: Registry, fleet: FleetReader, rules: () => HealthRules): void {
  new Gauge({
    name: 'vigil_bouncer_status',
    help: 'One series per bouncer and state, 1 for its state now: healthy, late, offline, never_pulled, revoked, failing (a Critical issue open on a bouncer whose traffic looks fine: failing open, a failing canary).',
    labelNames: ['bouncer', 'type', 'status'],
    registers: [registry],
    async collect() {
      this.reset();
      const f = await fleet();
      if (!f) return;
      const openByName = new Map<string, HealthIssue[]>();
      for (const i of f.open) if (i.bouncerName) openByName.set(i.bouncerName, [...(openByName.get(i.bouncerName) ?? []), i]);
      for (const b of f.bouncers) {
        const status = bouncerStatus(toHealthInput(b, f.reports.get(b.id)?.receivedAt ?? null), f.now, rules(), f.downtime);
        const state = bouncerState(status, openByName.get(b.name) ?? []);
        for (const s of BOUNCER_STATES) this.set({ bouncer: b.name, type: b.type, status: s }, s === state ? 1 : 0);
      }
    },
  });
  new Gauge({
    name: 'vigil_machine_status',
    help: 'One series per machine (agent) and state, 1 for its state now: healthy, late, offline, never_logged_in, pending.',
    labelNames: ['machine', 'status'],
    registers: [registry],
    async collect() {
      this.reset();
      const f = await fleet();
      if (!f) return;
      for (const m of f.machines) {
        const state = machineStatus(toMachineHealthInput(m), f.now, rules(), f.downtime);
        for (const s of MACHINE_STATES) this.set({ machine: m.machineId, status: s }, s === state ? 1 : 0);
      }
    },
  });
}

/** Each bouncer's learnt cadence and its own usage-metrics counters. */
function registerBouncerDetailGauges(registry: Registry, fleet: FleetReader): void {
  new Gauge({
    name: 'vigil_bouncer_pull_cadence_seconds',
    help: "Each steady bouncer's learnt pull cadence (absent for live-mode bouncers and until learnt).",
    labelNames: ['bouncer'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const b of (await fleet())?.bouncers ?? []) if (b.pullCadenceMs !== null) this.set({ bouncer: b.name }, b.pullCadenceMs / 1000);
    },
  });
  new Gauge({
    name: 'vigil_bouncer_reported',
    help: "A bouncer's own counters from its latest usage-metrics report: dropped and processed over the report's windows, active_decisions as a level.",
    labelNames: ['bouncer', 'name', 'unit', 'origin', 'remediation', 'ip_type'],
    registers: [registry],
    async collect() {
      this.reset();
      const f = await fleet();
      if (!f) return;
      for (const [bouncer, r] of reportsByName(f)) {
        for (const s of reportedSeries(r.report as RemediationComponentReport)) {
          this.set({ bouncer, name: s.name, unit: s.unit, origin: s.origin, remediation: s.remediation, ip_type: s.ip_type }, s.value);
        }
      }
    },
  });
  new Gauge({
    name: 'vigil_bouncer_report_timestamp_seconds',
    help: "Unix time of each bouncer's latest usage-metrics report.",
    labelNames: ['bouncer'],
    registers: [registry],
    async collect() {
      this.reset();
      const f = await fleet();
      if (!f) return;
      for (const [bouncer, r] of reportsByName(f)) this.set({ bouncer }, r.receivedAt / 1000);
    },
  });
}

/** Each bouncer's latest usage-metrics report, by bouncer name; a report whose bouncer is gone is left out. */
function* reportsByName(f: FleetRead): Generator<[string, { receivedAt: number; report: unknown }]> {
  const names = new Map(f.bouncers.map((b) => [b.id, b.name]));
  for (const [id, r] of f.reports) {
    const bouncer = names.get(id);
    if (bouncer !== undefined) yield [bouncer, r];
  }
}
