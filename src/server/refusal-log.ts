import type { Logger } from 'pino';
import { formatGoDuration } from '../lib/duration.ts';

/** A refused-key flood is summed in one log line per this period (issue 15: 100k lines were 14.5 MB). */
export const REFUSAL_LOG_EVERY_MS = 10_000;
/** Addresses whose first refusal was logged in full, remembered (oldest forgotten first). */
export const REFUSAL_LOG_PEERS_KEPT = 10_000;
/** First-refusal lines per period at most: a flood from many new addresses is summed, not listed. */
export const REFUSAL_LOG_FIRSTS_PER_PERIOD = 20;

const REASON_TEXT: Record<string, string> = { unknown: 'unknown key', missing: 'no key', revoked: 'revoked key' };

export interface Refusal {
  ip: string;
  reason: string;
  path: string;
  bouncer: string | undefined;
}

/**
 * The log of refused bouncer requests: the first refusal from an address is logged at once, in full;
 * the ones after it are counted and summed in one line per period, with the addresses sending most.
 * Bounded: REFUSAL_LOG_PEERS_KEPT addresses remembered, as many counted per period, and at most
 * REFUSAL_LOG_FIRSTS_PER_PERIOD + 1 lines per period whatever the flood.
 */
export class RefusalLog {
  #log: Logger;
  #everyMs: number;
  #logged = new Map<string, true>();
  #periodStart: number | undefined;
  #firsts = 0;
  #total = 0;
  /** Addresses whose first refusal was not logged in full this period (the budget was spent). */
  #firstsSkipped = 0;
  #peers = new Map<string, { n: number; reason: string }>();
  #peersUncounted = 0;

  constructor(log: Logger, everyMs = REFUSAL_LOG_EVERY_MS) {
    this.#log = log;
    this.#everyMs = everyMs;
  }

  note(at: number, r: Refusal): void {
    if (this.#periodStart === undefined) this.#periodStart = at;
    else if (at - this.#periodStart >= this.#everyMs || at < this.#periodStart) this.flush(at);
    if (!this.#logged.has(r.ip)) {
      if (this.#firsts < REFUSAL_LOG_FIRSTS_PER_PERIOD) {
        this.#firsts++;
        if (this.#logged.size >= REFUSAL_LOG_PEERS_KEPT) this.#logged.delete(this.#logged.keys().next().value!);
        this.#logged.set(r.ip, true);
        this.#log.warn(
          { ip: r.ip, reason: r.reason, path: r.path, bouncer: r.bouncer },
          `refused bouncer request (first from ${r.ip}; more are summed every ${formatGoDuration(this.#everyMs)})`,
        );
        return;
      }
      // Not remembered: its first refusal is logged in a later period, when the budget allows.
      this.#firstsSkipped++;
    }
    this.#total++;
    const p = this.#peers.get(r.ip);
    if (p) {
      p.n++;
      p.reason = r.reason;
    } else if (this.#peers.size < REFUSAL_LOG_PEERS_KEPT) this.#peers.set(r.ip, { n: 1, reason: r.reason });
    else this.#peersUncounted++;
  }

  /** Writes the period's summary line, if anything was summed, and starts a new period at `at`. */
  flush(at: number): void {
    const start = this.#periodStart ?? at;
    if (this.#total > 0) {
      const top = [...this.#peers].sort((a, b) => b[1].n - a[1].n).slice(0, 3);
      const peers = this.#peersUncounted > 0 ? `${this.#peers.size.toLocaleString('en')}+` : this.#peers.size.toLocaleString('en');
      const topText = top.map(([ip, p]) => `${ip} (${p.n.toLocaleString('en')}, ${REASON_TEXT[p.reason] ?? p.reason})`).join(', ');
      const skipped = this.#firstsSkipped > 0 ? `; ${this.#firstsSkipped.toLocaleString('en')} from addresses not logged yet` : '';
      this.#log.warn(
        { refused: this.#total, peers: this.#peers.size + this.#peersUncounted, top: top.map(([ip, p]) => ({ ip, count: p.n, reason: p.reason })) },
        `refused ${this.#total.toLocaleString('en')} bouncer request(s) from ${peers} address(es) in the last ${formatGoDuration(Math.max(0, Math.round((at - start) / 1000)) * 1000)}${skipped}; top: ${topText}`,
      );
    }
    this.#periodStart = at;
    this.#firsts = 0;
    this.#total = 0;
    this.#firstsSkipped = 0;
    this.#peers = new Map();
    this.#peersUncounted = 0;
  }
}
