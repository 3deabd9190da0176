/** One `vigil verify` run in progress, and the abortable waits and requests its steps use. */
import { formatGoDuration } from '../lib/duration.ts';
import type { HttpAnswer, NetFailure } from './network-probe.ts';
import type { VerifyDeps, VerifyOptions, VerifyResult, VerifyStep } from './verify-types.ts';

export class Aborted extends Error {}

/**
 * One verification in progress: its options, what it has found so far, and the helpers every step
 * uses (progress lines, abortable waits and requests). The steps are in verify.ts, below runVerify.
 */
export class VerifyRun {
  readonly opts: VerifyOptions;
  readonly deps: VerifyDeps;
  readonly t0: number;
  readonly headers: Record<string, string>;
  /** The test decision's reason (and the removal's): names the address and the run. */
  readonly reason: string;
  readonly result: VerifyResult;
  decisionId: string | undefined;
  /** When the test decision was committed: a pull that started before may have missed it. */
  committedAt = 0;

  constructor(opts: VerifyOptions, deps: VerifyDeps) {
    this.opts = opts;
    this.deps = deps;
    this.t0 = deps.clock.now();
    this.headers = { 'X-Forwarded-For': opts.ip, 'User-Agent': 'vigil-verify' };
    this.reason = `vigil verify ${opts.ip} ${new Date(this.t0).toISOString()}`;
    this.result = {
      verdict: 'fail',
      summary: '',
      url: opts.url,
      ip: opts.ip,
      type: opts.type,
      bouncer: opts.bouncer,
      decisionRemoved: true,
      steps: [],
      totalMs: 0,
    };
  }

  now(): number {
    return this.deps.clock.now();
  }

  say(line: string): void {
    this.deps.progress?.(line);
  }

  step(s: VerifyStep): void {
    this.result.steps.push(s);
    this.say(`${s.ok ? 'ok  ' : 'FAIL'} ${s.step.padEnd(8)} ${s.detail} (${formatGoDuration(Math.round(s.ms))})`);
  }

  end(verdict: VerifyResult['verdict'], summary: string, fix?: string): void {
    this.result.verdict = verdict;
    this.result.summary = summary;
    if (fix) this.result.fix = fix;
  }

  checkAbort(): void {
    if (this.deps.signal?.aborted) throw new Aborted();
  }

  async sleep(ms: number): Promise<void> {
    try {
      await this.deps.sleep(ms, this.deps.signal);
    } catch (e) {
      if (this.deps.signal?.aborted) throw new Aborted();
      throw e;
    }
    this.checkAbort();
  }

  /** The URL as the test address. A request in flight when Ctrl-C comes is abandoned, not waited for. */
  requestUrl(): Promise<HttpAnswer | NetFailure> {
    return raceAbort(this.deps.request(this.opts.url, this.headers, this.opts.requestTimeoutMs), this.deps.signal);
  }
}

function raceAbort<T>(p: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) return Promise.reject(new Aborted());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new Aborted());
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/** A real sleep that an AbortSignal cuts short. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new Error('aborted'));
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new Error('aborted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
