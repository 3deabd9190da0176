/**
 * The watch loop: every poll, read CrowdSec's bouncers from the source, mirror them into Vigil's
 * store, and run the same HealthEngine as `vigil serve` over them. A read that fails makes the source
 * its own issue (`source_unavailable`); the bouncers' issues then stay exactly as they were until a
 * read succeeds again, so a locked database never looks like a fleet going offline.
 */
import type { Clock } from '../lib/clock.ts';
import { FleetUnavailableError, HealthEngine, toHealthInput, type EvaluationResult } from '../health/engine.ts';
import type { FleetSnapshot, HealthRules, MachineHealthInput } from '../core/health/types.ts';
import type { Store } from '../store/store.ts';
import type { CrowdsecBouncer } from '../core/model/crowdsec-bouncer.ts';
import { fleetInputs, sourceUnavailableFinding, type WatchedEntry } from './fleet.ts';
import { syncMirror, type MirrorResult } from '../store/bouncer-mirror.ts';
import { syncMachineMirror } from '../store/machine-mirror.ts';
import type { BouncerSource, SourceRead } from './sources.ts';
import type { LapiLearning, LearningStatus } from './lapi-learning.ts';
import { lastSeenFrom } from '../core/watch/last-pull.ts';
import { LapiOutages } from '../core/watch/lapi-outages.ts';
import { withOutagesCredited, type LapiProbe } from './lapi-probe.ts';
import { bouncerChanges } from '../store/bouncer-changes.ts';
import { SharedRun } from '../lib/shared-run.ts';

export interface WatchStatus {
  source: string;
  /** True after the last read succeeded. */
  up: boolean;
  lastReadAt: number | null;
  lastSuccessAt: number | null;
  failingSince: number | null;
  consecutiveFailures: number;
  totalFailures: number;
  lastError: string | null;
  bouncers: number;
  /** CrowdSec's machines read (null when the source does not list them). */
  machines: number | null;
  /** What is read besides CrowdSec's database: its access log and Prometheus counters. */
  learning: LearningStatus;
  /** CrowdSec's own Local API as probed (`up`, `down`, `replaced`, `disabled`); null when it is not probed. */
  lapi: ReturnType<LapiOutages['state']> | null;
}

export interface PollResult {
  read: 'ok' | 'failed';
  error?: string;
  mirror?: MirrorResult;
  evaluation: EvaluationResult;
}

export class Watcher {
  readonly engine: HealthEngine;
  readonly source: BouncerSource;
  #store: Store;
  #clock: Clock;
  #rules: HealthRules;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  readonly #polls = new SharedRun(() => this.#poll());
  #entries: WatchedEntry[] = [];
  #machines: MachineHealthInput[] | undefined;
  /** The earliest created_at seen per machine: CrowdSec 1.4 moves it on every update (as a bouncer's). */
  #machineCreated = new Map<string, number>();
  #learning: LapiLearning | undefined;
  #probe: LapiProbe | undefined;
  /** CrowdSec's own Local API, probe by probe (null when it is not probed). */
  readonly lapi: LapiOutages | null;
  #status: WatchStatus;
  onError: (e: unknown) => void = () => {};
  onPoll: (r: PollResult) => void = () => {};

  constructor(
    store: Store,
    source: BouncerSource,
    clock: Clock,
    rules: HealthRules,
    opts: { learning?: LapiLearning; lapiProbe?: LapiProbe; oneShot?: boolean } = {},
  ) {
    this.#store = store;
    this.#learning = opts.learning;
    this.#probe = opts.lapiProbe;
    this.lapi = opts.lapiProbe ? new LapiOutages(opts.lapiProbe.url, { oneShot: opts.oneShot }) : null;
    this.source = source;
    this.#clock = clock;
    this.#rules = rules;
    this.engine = new HealthEngine(store, clock, rules, { snapshot: (now) => this.#snapshot(now) });
    this.#status = {
      source: source.description,
      up: false,
      lastReadAt: null,
      lastSuccessAt: null,
      failingSince: null,
      consecutiveFailures: 0,
      totalFailures: 0,
      lastError: null,
      bouncers: 0,
      machines: null,
      learning: { accessLog: null, prometheus: null },
      lapi: null,
    };
  }

  /** New health rules from a reload (SIGHUP): the next poll judges by them; what is open stays open. */
  reconfigure(rules: HealthRules): void {
    this.#rules = rules;
    this.engine.reconfigure(rules, []);
  }

  status(): WatchStatus {
    return { ...this.#status, learning: this.#learning?.status() ?? { accessLog: null, prometheus: null }, lapi: this.lapi?.state() ?? null };
  }

  /** One poll: read, mirror, evaluate. Concurrent calls share it. */
  pollOnce(): Promise<PollResult> {
    return this.#polls.run();
  }

  async #poll(): Promise<PollResult> {
    const now = this.#clock.now();
    this.#status.lastReadAt = now;
    let read: SourceRead | undefined;
    let error: string | undefined;
    try {
      read = await this.source.read();
    } catch (e) {
      error = (e as Error)?.message ?? String(e);
    }
    // The log and the counters are read whether or not the database could be: nothing is lost meanwhile.
    await this.#learning?.collect();
    if (this.#probe && this.lapi) {
      const result = await this.#probe.probe();
      this.lapi.observe({ at: this.#clock.now(), result, prometheusUp: this.#learning?.status().prometheus?.up ?? null });
    }
    let mirror: MirrorResult | undefined;
    if (read) {
      mirror = await syncMirror(this.#store, read.bouncers, read.usageMetricsAt, now);
      const learnt = this.#learning ? await this.#learning.apply(mirror.byName) : new Map();
      this.#entries = read.bouncers.flatMap((cs: CrowdsecBouncer) => {
        const b = mirror!.byName.get(cs.name);
        if (!b) return [];
        const input = toHealthInput(b, read!.usageMetricsAt.get(cs.name) ?? null);
        const l = learnt.get(cs.name);
        if (l) {
          // Exact times (CrowdSec's last_pull, the access log) before a counter rise's scrape time.
          input.lastPullAt = lastSeenFrom(later(input.lastPullAt, l.lastPullAt), l.countedPull);
          input.lastRequestAt = later(input.lastRequestAt, l.lastRequestAt);
          input.pullCadenceMs = l.pullCadenceMs;
        }
        return [{ input, autoCreated: cs.autoCreated, authType: cs.authType }];
      });
      if (read.machines) {
        const seen = read.machines.map((m) => {
          const first = Math.min(this.#machineCreated.get(m.machineId) ?? m.createdAt, m.createdAt);
          this.#machineCreated.set(m.machineId, first);
          return { ...m, createdAt: first };
        });
        // Mirrored with the heartbeat cadence learnt from last_heartbeat and the access log (machine-mirror.ts).
        const mirrored = await syncMachineMirror(this.#store, seen, this.#learning?.heartbeats(seen) ?? new Map(), now);
        this.#machines = mirrored.map((m) => (this.#learning ? this.#learning.machine(m) : m));
      } else this.#machines = undefined;
      Object.assign(this.#status, {
        up: true,
        lastSuccessAt: now,
        failingSince: null,
        consecutiveFailures: 0,
        lastError: null,
        bouncers: read.bouncers.length,
        machines: read.machines?.length ?? null,
      });
    } else {
      this.#status.failingSince ??= now;
      this.#status.up = false;
      this.#status.consecutiveFailures++;
      this.#status.totalFailures++;
      this.#status.lastError = error ?? 'unknown error';
    }
    const evaluation = await this.engine.evaluateNow();
    const result: PollResult = { read: read ? 'ok' : 'failed', ...(error ? { error } : {}), ...(mirror ? { mirror } : {}), evaluation };
    this.onPoll(result);
    return result;
  }

  async #snapshot(now: number): Promise<FleetSnapshot> {
    const s = this.#status;
    // While CrowdSec's Local API does not serve, the bouncers' and agents' silence is its own: their
    // verdicts are held (nothing raised, resolved or escalated) and one issue says why.
    const held = this.lapi?.holding === true;
    if (!s.up || held) {
      const findings = [];
      if (!s.up) findings.push(sourceUnavailableFinding(s.source, s.lastError ?? 'not read yet', s.failingSince ?? now, s.consecutiveFailures, now));
      const lapi = held ? this.lapi!.finding(now) : null;
      if (lapi) findings.push(lapi);
      throw new FleetUnavailableError(findings);
    }
    const lookback = now - Math.max(2 * this.#rules.offlineAfterMs, 7 * 24 * 3600_000);
    const learning = this.#learning;
    const credited = withOutagesCredited(fleetInputs(this.#entries), this.#machines, this.lapi?.outages(lookback, now) ?? [], now, this.#rules);
    return {
      bouncers: credited.bouncers,
      // CrowdSec keeps neither refused requests nor its own restarts in its database: its access
      // log and counters do, when they are read (lapi-learning.ts).
      refused: [],
      refusedSummaries: learning?.refusedSummaries(lookback) ?? [],
      lapiStarts: learning?.lapiStarts(lookback) ?? [],
      bouncerChanges: await bouncerChanges(this.#store, lookback),
      requestsRecorded: learning?.requestsRecorded ?? false,
      ...(credited.machines ? { machines: credited.machines } : {}),
    };
  }

  /** Polls now, then every `everyMs` after each poll ends (never two at once). */
  start(everyMs: number): void {
    this.#stopped = false;
    const loop = () => {
      this.pollOnce()
        .catch((e) => this.onError(e))
        .finally(() => {
          if (!this.#stopped) {
            // Not unref'd: with its listener off, this timer is what keeps `vigil watch` running.
            this.#timer = setTimeout(loop, everyMs);
          }
        });
    };
    loop();
  }

  /** Stops polling and waits for a poll in flight. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#polls.current?.catch(() => {});
  }
}

function later(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : Math.max(a, b);
}
