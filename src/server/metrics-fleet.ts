import { Gauge, type Registry } from 'prom-client';
import { fairTurn } from '../lib/turns.ts';
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
type Series<T extends string> = Awaited<ReturnType<Gauge<T>['get']>>['values'];

/** Bouncers (machines) turned into series between two turns of the event loop. */
const SCRAPE_SLICE = 250;

/**
 * A gauge whose series are made afresh at each scrape, a slice of the fleet per turn of the event
 * loop: with 2,000 bouncers, prom-client's set() (a hash of each series' labels) held pulls for
 * ~60 ms in one piece at every scrape (issue 27 item 5). Each scrape has its own list, so two
 * scrapes at once never see each other's half-made series.
 */
class ScrapedGauge<T extends string> extends Gauge<T> {
  readonly #series: () => Promise<Series<T>>;

  constructor(config: { name: string; help: string; labelNames: readonly T[]; registers: Registry[] }, series: () => Promise<Series<T>>) {
    super(config);
    this.#series = series;
  }

  override async get(): ReturnType<Gauge<T>['get']> {
    return { ...(await super.get()), values: await this.#series() };
  }
}

/** Calls `each` for every item, letting the event loop turn every {@link SCRAPE_SLICE} items. */
async function inSlices<X>(items: Iterable<X>, each: (x: X) => void): Promise<void> {
  let n = 0;
  for (const x of items) {
    if (++n % SCRAPE_SLICE === 0) await fairTurn();
    each(x);
  }
}

/** One series per bouncer (machine) and state, 1 for its state now. */
function registerStatusGauges(registry: Registry, fleet: FleetReader, rules: () => HealthRules): void {
  new ScrapedGauge(
    {
      name: 'vigil_bouncer_status',
      help: 'One series per bouncer and state, 1 for its state now: healthy, late, offline, never_pulled, revoked, failing (a Critical issue open on a bouncer whose traffic looks fine: failing open, a failing canary).',
      labelNames: ['bouncer', 'type', 'status'],
      registers: [registry],
    },
    async () => {
      const f = await fleet();
      const out: Series<'bouncer' | 'type' | 'status'> = [];
      if (!f) return out;
      const openByName = new Map<string, HealthIssue[]>();
      for (const i of f.open) if (i.bouncerName) openByName.set(i.bouncerName, [...(openByName.get(i.bouncerName) ?? []), i]);
      await inSlices(f.bouncers, (b) => {
        const status = bouncerStatus(toHealthInput(b, f.reports.get(b.id)?.receivedAt ?? null), f.now, rules(), f.downtime);
        const state = bouncerState(status, openByName.get(b.name) ?? []);
        for (const s of BOUNCER_STATES) out.push({ labels: { bouncer: b.name, type: b.type, status: s }, value: s === state ? 1 : 0 });
      });
      return out;
    },
  );
  new ScrapedGauge(
    {
      name: 'vigil_machine_status',
      help: 'One series per machine (agent) and state, 1 for its state now: healthy, late, offline, never_logged_in, pending.',
      labelNames: ['machine', 'status'],
      registers: [registry],
    },
    async () => {
      const f = await fleet();
      const out: Series<'machine' | 'status'> = [];
      if (!f) return out;
      await inSlices(f.machines, (m) => {
        const state = machineStatus(toMachineHealthInput(m), f.now, rules(), f.downtime);
        for (const s of MACHINE_STATES) out.push({ labels: { machine: m.machineId, status: s }, value: s === state ? 1 : 0 });
      });
      return out;
    },
  );
}

/** Each bouncer's learnt cadence and its own usage-metrics counters. */
function registerBouncerDetailGauges(registry: Registry, fleet: FleetReader): void {
  new ScrapedGauge(
    {
      name: 'vigil_bouncer_pull_cadence_seconds',
      help: "Each steady bouncer's learnt pull cadence (absent for live-mode bouncers and until learnt).",
      labelNames: ['bouncer'],
      registers: [registry],
    },
    async () => {
      const out: Series<'bouncer'> = [];
      await inSlices((await fleet())?.bouncers ?? [], (b) => {
        if (b.pullCadenceMs !== null) out.push({ labels: { bouncer: b.name }, value: b.pullCadenceMs / 1000 });
      });
      return out;
    },
  );
  new ScrapedGauge(
    {
      name: 'vigil_bouncer_reported',
      help: "A bouncer's own counters from its latest usage-metrics report: dropped and processed over the report's windows, active_decisions as a level.",
      labelNames: ['bouncer', 'name', 'unit', 'origin', 'remediation', 'ip_type'],
      registers: [registry],
    },
    async () => {
      const f = await fleet();
      // By labels, as prom-client's set() keeps them: a series set twice keeps its place and its last value.
      const series = new Map<string, Series<'bouncer' | 'name' | 'unit' | 'origin' | 'remediation' | 'ip_type'>[number]>();
      if (!f) return [];
      await inSlices(reportsByName(f), ([bouncer, r]) => {
        for (const s of reportedSeries(r.report as RemediationComponentReport)) {
          const labels = { bouncer, name: s.name, unit: s.unit, origin: s.origin, remediation: s.remediation, ip_type: s.ip_type };
          const key = [bouncer, s.name, s.unit, s.origin, s.remediation, s.ip_type].join('\u0000');
          const had = series.get(key);
          if (had) had.value = s.value;
          else series.set(key, { labels, value: s.value });
        }
      });
      return [...series.values()];
    },
  );
  new ScrapedGauge(
    {
      name: 'vigil_bouncer_report_timestamp_seconds',
      help: "Unix time of each bouncer's latest usage-metrics report.",
      labelNames: ['bouncer'],
      registers: [registry],
    },
    async () => {
      const f = await fleet();
      const out: Series<'bouncer'> = [];
      if (!f) return out;
      await inSlices(reportsByName(f), ([bouncer, r]) => out.push({ labels: { bouncer }, value: r.receivedAt / 1000 }));
      return out;
    },
  );
}

/** Each bouncer's latest usage-metrics report, by bouncer name; a report whose bouncer is gone is left out. */
function* reportsByName(f: FleetRead): Generator<[string, { receivedAt: number; report: unknown }]> {
  const names = new Map(f.bouncers.map((b) => [b.id, b.name]));
  for (const [id, r] of f.reports) {
    const bouncer = names.get(id);
    if (bouncer !== undefined) yield [bouncer, r];
  }
}
