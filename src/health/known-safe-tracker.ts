/**
 * Blocking Known Safe IP's input, kept up to date by the decisions revision instead of a scan of
 * every active decision at each evaluation (100k decisions: ~100 ms on SQLite, on the event loop):
 * one full read at the first evaluation, then only the decisions changed since (the `rev` index),
 * and none while nothing changed. Expiry moves no revision, so expired ones are dropped by time.
 */
import type { KnownSafeInput } from '../core/health/known-safe-ip.ts';
import { decisionsCoveredBy, type AllowlistMatcher } from '../core/allowlists/allowlists.ts';
import { decisionChangesPage } from '../store/decisions.ts';
import type { Decision } from '../core/model/records.ts';
import { nextTurn } from '../lib/turns.ts';
import { knownSafeCandidates, mayBeKnownSafe, type KnownSafeCandidate } from '../store/console-inputs.ts';
import { decisionsRev } from '../store/decisions.ts';
import type { Store } from '../store/store.ts';

/** Enough to raise the issue and name examples: the evaluator never walks a flood of them. */
export const KNOWN_SAFE_JUDGED = 1000;
/**
 * Candidates held at most: the first KNOWN_SAFE_JUDGED are judged, the others stand in when those
 * go. Holding every one made a store of 1M private addresses (a lab, the 1M bench) ~400 MB of heap.
 */
const KNOWN_SAFE_HELD = 2 * KNOWN_SAFE_JUDGED;
/** Changed decisions read per page (a few ms each). */
const PAGE = 2000;

export class KnownSafeTracker {
  #store: Store;
  #rev: number | undefined;
  #addresses: readonly string[] = [];
  /** The active allowlist items the candidates were read with: a change (an item added, expired) reads them again. */
  #allowlistKey = '';
  readonly #byId = new Map<number, KnownSafeCandidate>();
  /** Whether #byId holds every candidate (false: some were left out, read again when too few remain). */
  #complete = true;

  constructor(store: Store) {
    this.#store = store;
  }

  /**
   * `allowlist`: the active allowlist items (store/allowlists.ts) and a key naming them. An allowlisted
   * address may be public, so no text filter finds it: when the items change, the active decisions
   * are read once and matched; between changes, only changed decisions are.
   */
  async input(now: number, canaryAddresses: readonly string[], allowlist?: { matcher: AllowlistMatcher; key: string }): Promise<KnownSafeInput> {
    const rev = await decisionsRev(this.#store);
    const matcher = allowlist && allowlist.matcher.size > 0 ? allowlist.matcher : undefined;
    const allowlisted = (d: { id: number; scope: string; value: string; until: number }) =>
      matcher !== undefined && decisionsCoveredBy(matcher, [d], now).length > 0;
    if (this.#rev === undefined || canaryAddresses.join('\n') !== this.#addresses.join('\n') || (allowlist?.key ?? '') !== this.#allowlistKey) {
      this.#byId.clear();
      this.#complete = true;
      for (const d of await knownSafeCandidates(this.#store, now, canaryAddresses, KNOWN_SAFE_HELD + 1)) this.#hold(d);
      if (matcher) await this.#eachPage(-1, now, (d) => allowlisted(d) && this.#hold({ ...d }));
      this.#addresses = [...canaryAddresses];
      this.#allowlistKey = allowlist?.key ?? '';
    } else if (rev !== this.#rev) {
      await this.#eachPage(this.#rev, now, (d) => {
        // A changed decision: new, or soft-deleted (its expiry moved to the deletion).
        if (d.until > now && (mayBeKnownSafe(d, canaryAddresses) || allowlisted(d))) this.#hold({ ...d });
        else this.#byId.delete(d.id);
      });
    }
    this.#rev = rev;
    for (const [id, d] of this.#byId) if (d.until <= now) this.#byId.delete(id);
    if (!this.#complete && this.#byId.size < KNOWN_SAFE_JUDGED) {
      // Fewer than are judged remain, and some were left out: read them again (the first ones by id).
      this.#rev = undefined;
      return await this.input(now, canaryAddresses, allowlist);
    }
    const decisions: KnownSafeCandidate[] = [];
    for (const d of this.#byId.values()) {
      if (decisions.length === KNOWN_SAFE_JUDGED) break;
      decisions.push(d);
    }
    if (!matcher) return { decisions, canaryAddresses };
    return { decisions, canaryAddresses, allowlistOf: allowlistLookup(matcher) };
  }

  /** Keeps a candidate, unless as many as are held already are (then the set is no longer complete). */
  #hold(d: KnownSafeCandidate): void {
    if (this.#byId.size < KNOWN_SAFE_HELD || this.#byId.has(d.id)) this.#byId.set(d.id, d);
    else this.#complete = false;
  }

  /** How many candidates are held (tests: bounded). */
  get held(): number {
    return this.#byId.size;
  }

  /**
   * Every decision changed after `rev` (`-1`: every active one), a page at a time with a turn of the
   * event loop between pages: a 250k-decision import read at once held the loop for ~400 ms.
   */
  async #eachPage(rev: number, now: number, visit: (d: Decision) => unknown): Promise<void> {
    for (let afterId = 0; ; ) {
      const page = await decisionChangesPage(this.#store, rev, now, afterId, PAGE);
      for (const c of page) visit(c.decision);
      if (page.length < PAGE) return;
      afterId = page[page.length - 1]!.decision.id;
      await nextTurn();
    }
  }
}

/** The allowlist holding a value, or null (a value that is no address is in none). */
function allowlistLookup(matcher: AllowlistMatcher): (value: string) => string | null {
  return (value: string): string | null => {
    try {
      return matcher.reasonsFor(value)[0] ?? null;
    } catch {
      return null;
    }
  };
}
