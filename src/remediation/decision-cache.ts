/**
 * The bouncer's local copy of the decisions that concern IP addresses, kept in the Local API's own
 * interval index (src/core/decisions/decision-index.ts): IPv4 and IPv6 addresses and ranges, ranges never
 * expanded, one hash probe per prefix length present, nothing scanned per request. Expiry is local
 * (each decision's remaining `duration` on arrival), so a decision lapses on time even when the Local
 * API cannot be reached. Pure apart from the caller's `now`.
 */
import type { Decision } from '../core/model/records.ts';
import { DecisionIndex, type IndexMatch } from '../core/decisions/decision-index.ts';
import { parseDuration } from '../lib/duration.ts';
import { formatWords, parseIp, parseIpInto, tryParseInterval, type IpFamily } from '../lib/ip.ts';

/** What a request gets: blocked, asked to solve a captcha, or let through. */
export type Remediation = 'ban' | 'captcha' | 'bypass';

/** One decision as the Local API sends it (crowdsec-wire-protocol.md §4). */
export interface WireDecision {
  id: number;
  origin: string;
  type: string;
  scope: string;
  value: string;
  /** Remaining time as Go prints it; negative once expired (under `deleted`). */
  duration: string;
  scenario: string;
}

/** Signed milliseconds of a Go duration as the LAPI prints it (`4m38.7s`, `-1.9s`), or null. */
export function parseWireDuration(text: unknown): number | null {
  if (typeof text !== 'string' || text.length === 0) return null;
  const negative = text.startsWith('-');
  try {
    const ms = parseDuration(negative ? text.slice(1) : text, 'duration', { allowZero: true });
    return negative ? -ms : ms;
  } catch {
    return null;
  }
}

const isIpScope = (scope: string): boolean => {
  const s = scope.toLowerCase();
  return s === 'ip' || s === 'range';
};

/** Ban outranks captcha, captcha outranks letting through (spec: "priority ban > captcha"). */
const RANK: Readonly<Record<Remediation, number>> = { ban: 2, captcha: 1, bypass: 0 };

export interface DecisionCacheOptions {
  /** What a decision of an unknown type (neither ban nor captcha) means; default ban. */
  fallbackRemediation?: Remediation;
}

export interface ApplyResult {
  added: number;
  deleted: number;
  /** Decisions ignored: another scope (Country, username…), an unparsable value or a malformed record. */
  ignored: number;
}

export class DecisionCache {
  #index = new DecisionIndex({ lookupOnly: true });
  readonly fallbackRemediation: Remediation;
  readonly #rank: (type: string) => number;
  /** One copy of each origin, type, scope and scenario string: 100k decisions share a few dozen. */
  readonly #strings = new Map<string, string>();

  constructor(options: DecisionCacheOptions = {}) {
    this.fallbackRemediation = options.fallbackRemediation ?? 'ban';
    const fallbackRank = RANK[this.fallbackRemediation];
    this.#rank = (type) => (type === 'ban' ? 2 : type === 'captcha' ? 1 : fallbackRank);
  }

  /** The remediation a decision's type stands for. */
  remediationOf(d: Decision): Remediation {
    return this.remediationOfType(d.type);
  }

  get size(): number {
    return this.#index.size;
  }

  /** A startup pull: the full set replaces what was held (stale entries cannot survive a resync). */
  replace(added: readonly unknown[] | null, now: number): ApplyResult {
    const fresh = new DecisionIndex({ lookupOnly: true });
    let n = 0;
    let ignored = 0;
    for (const raw of added ?? []) {
      const d = this.#toDecision(raw, now);
      if (d !== null && fresh.upsert(d)) n++;
      else ignored++;
    }
    this.#index = fresh;
    if (this.#strings.size > 10_000) this.#strings.clear();
    return { added: n, deleted: 0, ignored };
  }

  /** A delta pull: `deleted` first, then `new`, as CrowdSec's own bouncers apply them. */
  apply(added: readonly unknown[] | null, deleted: readonly unknown[] | null, now: number): ApplyResult {
    let nDeleted = 0;
    let nAdded = 0;
    let ignored = 0;
    for (const raw of deleted ?? []) {
      const id = (raw as { id?: unknown } | null)?.id;
      if (typeof id !== 'number') {
        ignored++;
        continue;
      }
      if (this.#index.get(id) !== undefined) {
        this.#index.remove(id);
        nDeleted++;
      }
    }
    for (const raw of added ?? []) {
      const d = this.#toDecision(raw, now);
      if (d !== null && this.#index.upsert(d)) nAdded++;
      else ignored++;
    }
    return { added: nAdded, deleted: nDeleted, ignored };
  }

  /** Adds decisions learned one address at a time (live mode). */
  add(decisions: readonly unknown[], now: number): void {
    for (const raw of decisions) {
      const d = this.#toDecision(raw, now);
      if (d !== null) this.#index.upsert(d);
    }
  }

  /** Of decisions the LAPI returned for one address (live mode), the one that applies, or undefined. */
  pick(raws: readonly unknown[], now: number): Decision | undefined {
    let best: Decision | undefined;
    let bestRank = -1;
    for (const raw of raws) {
      const d = this.#toDecision(raw, now);
      if (d === null || tryParseInterval(d.value) === null) continue;
      const r = this.#rank(d.type);
      if (r > bestRank || (r === bestRank && d.until > best!.until)) {
        best = d;
        bestRank = r;
      }
    }
    return best;
  }

  /** The decision that applies to an address given as words (see parseAddressInto), or undefined. */
  strongest(family: IpFamily, words: ArrayLike<number>, now: number): Decision | undefined {
    return this.#index.strongestMatch(family, words, now, this.#rank);
  }

  /** `strongest` with the decision's type beside it, for the per-request path. */
  strongestMatch(family: IpFamily, words: ArrayLike<number>, now: number): IndexMatch | undefined {
    return this.#index.strongestEntry(family, words, now, this.#rank);
  }

  /** The remediation a decision type stands for. */
  remediationOfType(type: string): Remediation {
    return type === 'ban' ? 'ban' : type === 'captcha' ? 'captcha' : this.fallbackRemediation;
  }

  /** Forget what has expired locally. */
  pruneExpired(now: number): number {
    return this.#index.pruneExpired(now);
  }

  /** Active decisions (for the usage-metrics `active_decisions` gauge). */
  active(now: number): Decision[] {
    return this.#index.active(now);
  }

  #intern(s: string): string {
    const known = this.#strings.get(s);
    if (known !== undefined) return known;
    this.#strings.set(s, s);
    return s;
  }

  #toDecision(raw: unknown, now: number): Decision | null {
    if (raw === null || typeof raw !== 'object') return null;
    const w = raw as Partial<Record<keyof WireDecision, unknown>>;
    if (typeof w.id !== 'number' || typeof w.type !== 'string' || typeof w.scope !== 'string' || typeof w.value !== 'string') return null;
    if (!isIpScope(w.scope)) return null;
    const remaining = parseWireDuration(w.duration);
    if (remaining === null || remaining <= 0) return null;
    return {
      id: w.id,
      alertId: null,
      origin: this.#intern(typeof w.origin === 'string' ? w.origin : ''),
      type: this.#intern(w.type),
      scope: this.#intern(w.scope),
      value: w.value,
      scenario: this.#intern(typeof w.scenario === 'string' ? w.scenario : ''),
      createdAt: now,
      until: now + remaining,
      deletedAt: null,
      simulated: false,
    };
  }
}

/**
 * Parses a client address into `out` (allocation-free for the usual forms, exact parseIp rules for
 * the rest). Returns its family, or 0 when it is not an address: such a client is refused.
 */
export function parseAddressInto(text: string, out: Uint32Array): 0 | IpFamily {
  const family = parseIpInto(text, out);
  if (family !== 0) return family;
  try {
    const a = parseIp(text);
    for (let i = 0; i < a.words.length; i++) out[i] = a.words[i];
    return a.family;
  } catch {
    return 0;
  }
}

/** The canonical text of parsed words (dotted IPv4, RFC 5952 IPv6), for logs, cookies and queries. */
export function canonicalIp(family: IpFamily, words: Uint32Array): string {
  return formatWords(family, family === 4 ? [words[0]] : [words[0], words[1], words[2], words[3]]);
}
