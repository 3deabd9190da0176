import type { Logger } from 'pino';
import { VigilError } from '../lib/errors.ts';

/**
 * Whether the store answers, as the request path sees it. A bouncer request never waits on a
 * slow store longer than `requestDeadlineMs`: past it (or on an error) the store is "degraded",
 * requests are answered from memory without asking it, and a probe every `probeEveryMs` brings it
 * back once it answers again (a frozen PostgreSQL, a restart, a failover). Issue 15.
 */
export class StoreHealth {
  #up = true;
  #since = 0;
  #log: Logger;
  #probe: () => Promise<unknown>;
  #requestDeadlineMs: number;
  #probeEveryMs: number;
  #timer: NodeJS.Timeout | undefined;
  #probing = false;
  /** Errors and timeouts seen (the metric vigil_store_errors_total). */
  errors = 0;

  constructor(deps: { log: Logger; probe: () => Promise<unknown>; requestDeadlineMs?: number; probeEveryMs?: number }) {
    this.#log = deps.log;
    this.#probe = deps.probe;
    this.#requestDeadlineMs = deps.requestDeadlineMs ?? 500;
    this.#probeEveryMs = deps.probeEveryMs ?? 1_000;
  }

  get up(): boolean {
    return this.#up;
  }

  /** A store call failed or timed out somewhere (sync, activity flush, a request). */
  failed(err: unknown): void {
    this.errors++;
    if (!this.#up) return;
    this.#up = false;
    this.#since = Date.now();
    // One line when it happens, one when it is over: not one per failed call.
    this.#log.error({ err }, 'store unreachable or slow: answering bouncers from memory until it recovers');
    this.#startProbe();
  }

  #recovered(): void {
    if (this.#up) return;
    this.#up = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#log.warn({ downForMs: Date.now() - this.#since }, `store answering again after ${Math.round((Date.now() - this.#since) / 1000)} s`);
  }

  #startProbe(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => {
      if (this.#probing) return;
      this.#probing = true;
      withDeadline(this.#probe(), this.#probeEveryMs * 5)
        .then(
          () => this.#recovered(),
          () => this.errors++,
        )
        .finally(() => (this.#probing = false));
    }, this.#probeEveryMs);
    this.#timer.unref();
  }

  /**
   * Runs a request-path store call, bounded by the request deadline. Throws E_STORE_DOWN at once
   * when the store is degraded, or when this call fails or runs late (the caller answers from memory).
   */
  async call<T>(fn: () => Promise<T>): Promise<T> {
    if (!this.#up) throw storeDown();
    try {
      return await withDeadline(fn(), this.#requestDeadlineMs);
    } catch (e) {
      if (isStoreDown(e) || !(e instanceof VigilError)) {
        this.failed(e);
        throw storeDown();
      }
      throw e;
    }
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}

function storeDown(): VigilError {
  return new VigilError('E_STORE_DOWN', 'store unavailable: retry shortly');
}

export function isStoreDown(e: unknown): boolean {
  return e instanceof VigilError && e.code === 'E_STORE_DOWN';
}

function withDeadline<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(storeDown()), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}
