/**
 * The bouncer's side of the Local API: the pull loop (stream mode) or the key-checking probes (live
 * mode), the usage-metrics push on its own timer, and the bouncer's health from the age of its last
 * success. The decisions pulled go into the DecisionCache; requests are answered in bouncer.ts.
 */
import type { Clock } from '../lib/clock.ts';
import type { DecisionCache } from './decision-cache.ts';
import { evaluateHealth, type BouncerHealth, type HealthStatus, type LastFailure } from './health.ts';
import { type LapiClient, LapiError } from './lapi-client.ts';
import type { BouncerLogger, NormalizedOptions } from './options.ts';
import type { UsagePush } from './usage-push.ts';

export interface PullLoopDeps {
  options: NormalizedOptions;
  client: LapiClient;
  clock: Clock;
  log: BouncerLogger;
  cache: DecisionCache;
  usage: UsagePush;
  startedAt: number;
  onHealthChange?: (healthy: boolean, summary: string) => void;
  /** Live mode, before each idle check: forget the answers that expired. */
  pruneLive: (now: number) => void;
}

export class PullLoop {
  /** The last successful pull, probe or live query; read on every request when failing closed is possible. */
  lastSuccessAt: number | null = null;
  readonly #d: PullLoopDeps;
  #lastFailure: LastFailure | null = null;
  #consecutiveFailures = 0;
  #reportedStatus: HealthStatus = 'starting';
  #lastFailureLogAt = 0;
  #lastFailureLogged = '';
  /** The next pull asks for the full set: at start, and after any failure (a lost delta, a rebuilt LAPI). */
  #needStartup = true;
  #pulling: Promise<void> | null = null;
  #firstAttempt: Promise<void>;
  #resolveFirstAttempt!: () => void;
  #timers = new Set<NodeJS.Timeout>();
  #running = false;

  constructor(deps: PullLoopDeps) {
    this.#d = deps;
    this.#firstAttempt = new Promise((resolve) => (this.#resolveFirstAttempt = resolve));
  }

  // ------------------------------------------------------------------ lifecycle

  /** Starts pulling (stream) or probing (live), and the usage-metrics push. Idempotent. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    const { options, usage } = this.#d;
    const loop = async () => {
      if (!this.#running) return;
      if (options.mode === 'stream') await this.pull();
      else await this.#probeIfIdle();
      this.#after(options.updateFrequencyMs, loop);
    };
    void loop();
    if (options.usageMetricsIntervalMs > 0) {
      const push = async () => {
        if (!this.#running) return;
        await usage.push();
        this.#after(options.usageMetricsIntervalMs * usage.backoff, push);
      };
      this.#after(options.usageMetricsIntervalMs, push);
    }
  }

  /** Stops the timers and waits for a pull in flight. The cache stays usable. */
  async stop(): Promise<void> {
    this.#running = false;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    await this.#pulling;
  }

  /** Resolves once the first pull (or live probe) has finished, successfully or not. */
  ready(): Promise<void> {
    return this.#firstAttempt;
  }

  #after(ms: number, fn: () => Promise<void>): void {
    if (!this.#running) return;
    const t = setTimeout(() => {
      this.#timers.delete(t);
      void fn();
    }, ms);
    // A library must not keep its host process alive.
    t.unref();
    this.#timers.add(t);
  }

  // ------------------------------------------------------------------ Local API

  /** One stream pull now: the full set at start and after a failure, the delta otherwise. */
  pull(): Promise<void> {
    if (this.#d.options.mode === 'live') return this.#probe();
    this.#pulling ??= this.#doPull().finally(() => {
      this.#pulling = null;
      this.#resolveFirstAttempt();
    });
    return this.#pulling;
  }

  async #doPull(): Promise<void> {
    const { options, client, clock, log, cache } = this.#d;
    const startup = this.#needStartup;
    try {
      const body = await client.stream(startup, options.filters, options.streamTimeoutMs);
      const now = clock.now();
      const r = startup ? cache.replace(body.new, now) : cache.apply(body.new, body.deleted, now);
      cache.pruneExpired(now);
      this.#needStartup = false;
      if (r.added > 0 || r.deleted > 0 || startup) {
        log.debug({ startup, added: r.added, deleted: r.deleted, ignored: r.ignored, decisions: cache.size }, 'decisions pulled');
      }
      this.succeeded(now);
    } catch (e) {
      this.#needStartup = true;
      this.failed(e);
    }
  }

  async #probe(): Promise<void> {
    try {
      await this.#d.client.probe(this.#d.options.lapiTimeoutMs);
      this.succeeded(this.#d.clock.now());
    } catch (e) {
      this.failed(e);
    } finally {
      this.#resolveFirstAttempt();
    }
  }

  /** Live mode: a key-checking probe only when no query has succeeded within one interval. */
  async #probeIfIdle(): Promise<void> {
    const now = this.#d.clock.now();
    this.#d.pruneLive(now);
    if (this.lastSuccessAt === null || now - this.lastSuccessAt >= this.#d.options.updateFrequencyMs) await this.#probe();
    else this.#reportHealth();
  }

  succeeded(now: number): void {
    this.lastSuccessAt = now;
    this.#consecutiveFailures = 0;
    this.#reportHealth();
  }

  failed(e: unknown): void {
    const { clock, log } = this.#d;
    const now = clock.now();
    const err = e instanceof LapiError ? e : new LapiError('bad_response', null, `unexpected error: ${(e as Error)?.message ?? String(e)}`);
    this.#lastFailure = { at: now, kind: err.kind, status: err.status, message: err.message };
    this.#consecutiveFailures++;
    // One line when the failure changes, then one every 5 minutes while it lasts.
    if (err.message !== this.#lastFailureLogged || now - this.#lastFailureLogAt >= 300_000) {
      log.warn({ kind: err.kind, status: err.status, failures: this.#consecutiveFailures }, `Local API call failed: ${err.message}`);
      this.#lastFailureLogged = err.message;
      this.#lastFailureLogAt = now;
    }
    this.#reportHealth();
  }

  #reportHealth(): void {
    const { log } = this.#d;
    const h = this.health();
    if (h.status === this.#reportedStatus) return;
    const was = this.#reportedStatus;
    this.#reportedStatus = h.status;
    if (h.status === 'unhealthy') log.error({ healthy: false }, `bouncer unhealthy: ${h.summary}`);
    else if (h.status === 'healthy') {
      log.info({ healthy: true }, was === 'unhealthy' ? `bouncer healthy again: ${h.summary}` : `bouncer healthy: ${h.summary}`);
      this.#lastFailureLogged = '';
    }
    if (was === 'healthy' || h.status === 'healthy') this.#d.onHealthChange?.(h.healthy, h.summary);
  }

  /** The bouncer's own health (see health.ts). */
  health(): BouncerHealth {
    const { options, clock } = this.#d;
    return evaluateHealth(
      {
        mode: options.mode,
        startedAt: this.#d.startedAt,
        lastSuccessAt: this.lastSuccessAt,
        lastFailure: this.#lastFailure,
        consecutiveFailures: this.#consecutiveFailures,
        unhealthyAfterMs: options.unhealthyAfterMs,
      },
      clock.now(),
    );
  }
}
