/**
 * The watch loop: every poll, read CrowdSec's bouncers from the source, mirror them into Vigil's
 * store, and run the same HealthEngine as `vigil serve` over them. A read that fails makes the source
 * its own issue (`source_unavailable`); the bouncers' issues then stay exactly as they were until a
 * read succeeds again, so a locked database never looks like a fleet going offline.
 */
import type { Clock } from '../lib/clock.ts';
import { FleetUnavailableError, HealthEngine, toHealthInput, type EvaluationResult } from '../health/engine.ts';
import type { FleetSnapshot, HealthRules } from '../core/health/types.ts';
import type { Store } from '../store/store.ts';
import type { CrowdsecBouncer } from '../core/model/crowdsec-bouncer.ts';
import { fleetInputs, sourceUnavailableFinding, type WatchedEntry } from './fleet.ts';
import { syncMirror, type MirrorResult } from '../store/bouncer-mirror.ts';
import type { BouncerSource } from './sources.ts';

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
  #polling: Promise<PollResult> | undefined;
  #entries: WatchedEntry[] = [];
  #status: WatchStatus;
  onError: (e: unknown) => void = () => {};
  onPoll: (r: PollResult) => void = () => {};

  constructor(store: Store, source: BouncerSource, clock: Clock, rules: HealthRules) {
    this.#store = store;
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
    };
  }

  status(): WatchStatus {
    return { ...this.#status };
  }

  /** One poll: read, mirror, evaluate. Concurrent calls share it. */
  pollOnce(): Promise<PollResult> {
    this.#polling ??= this.#poll().finally(() => {
      this.#polling = undefined;
    });
    return this.#polling;
  }

  async #poll(): Promise<PollResult> {
    const now = this.#clock.now();
    this.#status.lastReadAt = now;
    let read: { bouncers: CrowdsecBouncer[]; usageMetricsAt: Map<string, number> } | undefined;
    let error: string | undefined;
    try {
      read = await this.source.read();
    } catch (e) {
      error = (e as Error)?.message ?? String(e);
    }
    let mirror: MirrorResult | undefined;
    if (read) {
      mirror = await syncMirror(this.#store, read.bouncers, read.usageMetricsAt, now);
      this.#entries = read.bouncers.flatMap((cs) => {
        const b = mirror!.byName.get(cs.name);
        return b ? [{ input: toHealthInput(b, read!.usageMetricsAt.get(cs.name) ?? null), autoCreated: cs.autoCreated, authType: cs.authType }] : [];
      });
      Object.assign(this.#status, {
        up: true,
        lastSuccessAt: now,
        failingSince: null,
        consecutiveFailures: 0,
        lastError: null,
        bouncers: read.bouncers.length,
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
    if (!s.up) {
      throw new FleetUnavailableError(sourceUnavailableFinding(s.source, s.lastError ?? 'not read yet', s.failingSince ?? now, s.consecutiveFailures, now));
    }
    const lookback = now - Math.max(2 * this.#rules.offlineAfterMs, 7 * 24 * 3600_000);
    return {
      bouncers: fleetInputs(this.#entries),
      // CrowdSec keeps neither refused requests nor its own restarts in its database.
      refused: [],
      lapiStarts: [],
      bouncerChanges: await this.#store.bouncerChanges(lookback),
      requestsRecorded: false,
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
    await this.#polling?.catch(() => {});
  }
}
