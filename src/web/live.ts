import { fleetDigestRows } from '../store/change-digest.ts';
import type { Store } from '../store/store.ts';
import type { Clock } from '../lib/clock.ts';
import { decisionsRev } from '../store/decisions.ts';

/**
 * Tells open dashboards when what they show may have changed, so they refresh without a reload.
 * One poller per process, whatever the number of viewers, and only while someone watches: a
 * handful of aggregate queries (bouncer activity, issues, decisions revision) every `pollMs`.
 * Polling the store rather than hooking writers also sees the CLI's and other replicas' writes.
 * A clock tick every `tickMs` refreshes relative times ("3 min ago") and time-based statuses.
 */
export class LiveUpdates {
  #store: Store;
  #clock: Clock;
  #pollMs: number;
  #tickMs: number;
  #listeners = new Set<(version: number) => void>();
  #timer: NodeJS.Timeout | undefined;
  #digest = '';
  #version = 0;
  #polling = false;
  /** Extra state worth watching (e.g. silences), digested with the rest. */
  extraDigest: (() => Promise<string>) | undefined;
  onError: (e: unknown) => void = () => {};

  constructor(deps: { store: Store; clock: Clock; pollMs: number; tickMs?: number }) {
    this.#store = deps.store;
    this.#clock = deps.clock;
    this.#pollMs = deps.pollMs;
    this.#tickMs = deps.tickMs ?? 30_000;
  }

  get version(): number {
    return this.#version;
  }

  subscribe(listener: (version: number) => void): () => void {
    this.#listeners.add(listener);
    if (!this.#timer) {
      this.#timer = setInterval(() => void this.poll(), this.#pollMs);
      this.#timer.unref();
    }
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) this.stop();
    };
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** One check; tells the listeners when the digest moved. Public so tests need not wait. */
  async poll(): Promise<void> {
    if (this.#polling) return;
    this.#polling = true;
    try {
      const d = await this.digest();
      if (d !== this.#digest) {
        const first = this.#digest === '';
        this.#digest = d;
        if (!first) {
          this.#version++;
          for (const l of this.#listeners) l(this.#version);
        }
      }
    } catch (e) {
      this.onError(e);
    } finally {
      this.#polling = false;
    }
  }

  async digest(): Promise<string> {
    const { b, i } = await fleetDigestRows(this.#store);
    const rev = await decisionsRev(this.#store);
    const tick = Math.floor(this.#clock.now() / this.#tickMs);
    const extra = this.extraDigest ? await this.extraDigest() : '';
    return [b.n, b.u, b.p, i.n, i.m, i.s, i.r, rev, tick, extra].join('|');
  }
}
