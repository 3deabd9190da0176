/**
 * Canaries in `vigil serve` (docs/canaries.md): on each canary's schedule, the `vigil verify` flow
 * unattended (doctor/verify.ts): a short-lived decision for the documentation address, wait for the
 * named bouncer's pull, request the URL as that address, expect the remediation, remove the
 * decision on every path (pass, fail, timeout, shutdown: stop() aborts the run in flight and waits
 * for its removal). Each run is stored, then the health engine evaluates at once, so a failed canary
 * is an issue within its own interval.
 *
 * Time comes from the Clock: `tick()` runs what is due at the clock's now (tests call it with a
 * ManualClock); `start()` only calls tick() on a real timer.
 */
import type { Logger } from 'pino';
import type { CanaryRun } from '../core/health/enforcement.ts';
import type { Bouncer } from '../core/model/records.ts';
import { CANARY_MAX_DECISION_MS, CANARY_MAX_TIMEOUT_MS, type CanaryConfig } from '../config/canaries.ts';
import type { DecisionSync } from '../decisions/decision-sync.ts';
import { probeHttp } from '../doctor/network-probe.ts';
import { abortableSleep, runVerify, type Requester, type VerifyResult } from '../doctor/verify.ts';
import type { Clock } from '../lib/clock.ts';
import { canaryRuns, recordCanaryRun } from '../store/canaries.ts';
import type { Store } from '../store/store.ts';
import { canaryBackend } from './backend.ts';
import { getBouncer } from '../store/bouncers.ts';

export interface CanaryTimings {
  /** How often the last pull is read and the URL retried. */
  pollMs: number;
  /** After the pull, keep retrying the URL this long while the bouncer applies it. */
  settleMs: number;
  requestTimeoutMs: number;
  /** Without `timeout:`: the wait for the pull is 3 × the bouncer's cadence, within [minWaitMs, every]. */
  minWaitMs: number;
}

export const DEFAULT_CANARY_TIMINGS: CanaryTimings = { pollMs: 250, settleMs: 2000, requestTimeoutMs: 5000, minWaitMs: 30_000 };

export interface CanaryRunnerDeps {
  store: Store;
  clock: Clock;
  log: Pick<Logger, 'info' | 'warn' | 'error'>;
  canaries: CanaryConfig[];
  timings?: Partial<CanaryTimings>;
  /** This process's view of a bouncer's last pull (ActivityRecorder.cursor). */
  lastPullSeen?: (b: Bouncer) => number | null;
  sync?: Pick<DecisionSync, 'refresh'>;
  /** Called after each stored run (the health engine evaluates). */
  afterRun?: (run: CanaryRun) => Promise<unknown> | undefined;
  /** Default: a real HTTP request (probeHttp), from the address itself for `via: source`. */
  request?: (c: CanaryConfig) => Requester;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/**
 * The wait for the pull and the decision's lifetime: a few times the bouncer's cadence, never past
 * the next run, never over CANARY_MAX_TIMEOUT_MS; the decision never over CANARY_MAX_DECISION_MS,
 * whatever the cadence or the settings (config refuses a longer `timeout:`; this holds for any caller).
 */
export function canaryWaits(c: CanaryConfig, cadenceMs: number | null, t: CanaryTimings): { timeoutMs: number; decisionDurationMs: number } {
  const wanted = c.timeoutMs ?? Math.min(Math.max(3 * (cadenceMs ?? 10_000), t.minWaitMs), Math.max(c.everyMs, t.minWaitMs));
  const timeoutMs = Math.min(wanted, CANARY_MAX_TIMEOUT_MS);
  // Outlives the wait and the settle by a margin, and expires by itself if removal never runs (kill -9).
  return { timeoutMs, decisionDurationMs: Math.min(timeoutMs + t.settleMs + 30_000, CANARY_MAX_DECISION_MS) };
}

/** The requester a canary uses: its address as X-Forwarded-For, or as the connection's source. */
export function canaryRequester(c: CanaryConfig): Requester {
  return (url, headers, timeoutMs) => {
    const h: Record<string, string> = { ...headers, 'User-Agent': 'vigil-canary' };
    if (c.via === 'source') delete h['X-Forwarded-For'];
    return probeHttp(url, { headers: h, connectMs: timeoutMs, answerMs: timeoutMs, ...(c.via === 'source' ? { localAddress: c.address } : {}) });
  };
}

/** A stored run from vigil verify's result. */
export function toCanaryRun(c: CanaryConfig, r: VerifyResult, startedAt: number, finishedAt: number): Omit<CanaryRun, 'id'> {
  const failed = r.steps.find((s) => !s.ok);
  // No failed step yet a failure: it ended before adding (no such bouncer).
  const failedStep = r.verdict === 'pass' ? null : (failed?.step ?? (r.verdict === 'fail' ? 'add' : null));
  // The wait begins at the decision's commit and ends when the pull is seen.
  const wait = r.steps.find((s) => s.step === 'wait');
  const check = [...r.steps].reverse().find((s) => s.step === 'check' || s.step === 'baseline');
  const status = check ? /→ (\d{3})\b/.exec(check.detail) : null;
  return {
    canary: c.name,
    bouncerName: c.bouncer,
    url: c.url,
    address: c.address,
    expect: c.expect,
    startedAt,
    finishedAt,
    verdict: r.verdict,
    failedStep,
    summary: r.summary,
    fix: r.fix ?? null,
    decisionId: r.decisionId ?? null,
    decisionRemoved: r.decisionRemoved,
    answerStatus: status ? Number(status[1]) : null,
    pulledAfterMs: wait?.ok ? Math.round(wait.ms) : null,
    enforcedAfterMs: r.enforcedAfterMs ?? null,
    totalMs: r.totalMs,
    steps: r.steps,
  };
}

export class CanaryRunner {
  #deps: CanaryRunnerDeps;
  #timings: CanaryTimings;
  /** When each canary runs next (epoch ms, from the clock). */
  #nextAt = new Map<string, number>();
  #running = new Map<string, Promise<CanaryRun | undefined>>();
  #abort = new AbortController();
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #resumed: Promise<void> | undefined;

  constructor(deps: CanaryRunnerDeps) {
    this.#deps = deps;
    this.#timings = { ...DEFAULT_CANARY_TIMINGS, ...deps.timings };
    // The first run of each comes one interval after start, spread so that canaries do not all
    // start together: a freshly started Local API lets bouncers reconnect first.
    const now = deps.clock.now();
    for (const [i, c] of deps.canaries.entries()) this.#nextAt.set(c.name, now + Math.min(c.everyMs, 60_000) + i * 1000);
  }

  get canaries(): CanaryConfig[] {
    return this.#deps.canaries;
  }

  /** When a canary runs next (for the dashboard and tests). */
  nextRunAt(name: string): number | undefined {
    return this.#nextAt.get(name);
  }

  /**
   * Keeps each canary's schedule across a restart of `vigil serve`: its next run is one interval
   * after its last stored run when that is later than the start delay (a canary every 6 h is not run
   * again after each restart). Read once, at the first tick; a failed read keeps the start delay.
   */
  async #resumeSchedule(): Promise<void> {
    for (const c of this.#deps.canaries) {
      const [last] = await canaryRuns(this.#deps.store, { canary: c.name, limit: 1 }).catch(() => []);
      const planned = this.#nextAt.get(c.name);
      if (last && planned !== undefined && last.startedAt + c.everyMs > planned) this.#nextAt.set(c.name, last.startedAt + c.everyMs);
    }
  }

  /** Starts the canaries that are due at the clock's now; resolves when those runs are stored. */
  async tick(): Promise<CanaryRun[]> {
    if (this.#stopped) return [];
    this.#resumed ??= this.#resumeSchedule();
    await this.#resumed;
    if (this.#stopped) return [];
    const now = this.#deps.clock.now();
    const started: Promise<CanaryRun | undefined>[] = [];
    for (const c of this.#deps.canaries) {
      if ((this.#nextAt.get(c.name) ?? now) > now || this.#running.has(c.name)) continue;
      this.#nextAt.set(c.name, now + c.everyMs);
      started.push(this.#launch(c));
    }
    return (await Promise.all(started)).filter((r): r is CanaryRun => r !== undefined);
  }

  /** Runs one canary now, whatever its schedule (tests; `vigil serve` uses tick()). */
  runNow(name: string): Promise<CanaryRun | undefined> {
    const c = this.#deps.canaries.find((x) => x.name === name);
    if (!c) throw new Error(`no canary named '${name}'`);
    return this.#running.get(name) ?? this.#launch(c);
  }

  #launch(c: CanaryConfig): Promise<CanaryRun | undefined> {
    const p = this.#run(c)
      .catch((e) => {
        this.#deps.log.error({ err: e, canary: c.name }, `canary '${c.name}' could not run`);
        return undefined;
      })
      .finally(() => this.#running.delete(c.name));
    this.#running.set(c.name, p);
    return p;
  }

  async #run(c: CanaryConfig): Promise<CanaryRun> {
    const { store, clock } = this.#deps;
    const t = this.#timings;
    const bouncer = await getBouncer(store, c.bouncer);
    const { timeoutMs, decisionDurationMs } = canaryWaits(c, bouncer?.pullCadenceMs ?? null, t);
    const startedAt = clock.now();
    const result = await runVerify(
      {
        url: c.url,
        ip: c.address,
        type: c.expect,
        bouncer: c.bouncer,
        updatePeriodMs: timeoutMs,
        timeoutMs,
        pollMs: t.pollMs,
        settleMs: t.settleMs,
        requestTimeoutMs: t.requestTimeoutMs,
        decisionDurationMs,
      },
      {
        backend: canaryBackend(store, { canary: c.name, origin: c.origin, lastPullSeen: this.#deps.lastPullSeen, sync: this.#deps.sync }),
        request: (this.#deps.request ?? canaryRequester)(c),
        clock,
        sleep: this.#deps.sleep ?? abortableSleep,
        signal: this.#abort.signal,
      },
    );
    const run = toCanaryRun(c, result, startedAt, clock.now());
    const id = await recordCanaryRun(store, run);
    const stored = { id, ...run };
    const fields = { canary: c.name, bouncer: c.bouncer, verdict: run.verdict, failed_step: run.failedStep, total_ms: Math.round(run.totalMs) };
    if (run.verdict === 'pass') this.#deps.log.info(fields, `canary '${c.name}' passed: ${run.summary}`);
    else this.#deps.log.warn(fields, `canary '${c.name}' ${run.verdict}: ${run.summary}`);
    if (!run.decisionRemoved)
      this.#deps.log.error(fields, `canary '${c.name}': its test decision ${run.decisionId} could not be removed; it expires by itself`);
    if (!this.#stopped) await this.#deps.afterRun?.(stored);
    return stored;
  }

  /** Checks every second what is due. */
  start(everyMs = 1000): void {
    if (this.#deps.canaries.length === 0) return;
    this.#timer = setInterval(() => void this.tick(), everyMs);
    this.#timer.unref();
  }

  /** Aborts the runs in flight and waits until they removed their decisions and were stored. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#abort.abort();
    await Promise.all(this.#running.values());
  }
}
