/**
 * In-memory index of decisions, so `GET /v1/decisions?ip=…|range=…` never scans every decision.
 *
 * Compile once, match cheaply (STYLE.md §3):
 * - Containment (`ip=`, `range=` with contains=true): one open-addressing hash table per
 *   (family, prefix length) keyed by the masked network. A lookup masks the query once per prefix
 *   length actually present (typically a handful: /32, /24, /16, /128, /64, /48) and probes;
 *   nothing is allocated unless something matches.
 * - Inside (`range=` with contains=false): per family, entries ordered by first address (sorted
 *   lazily when new intervals arrived), binary search + scan: O(log n + k).
 * - Unfiltered / value lookups: entries ordered by (until, id) (re-sorted lazily; TimSort makes a
 *   mostly sorted re-sort near linear), and a Map by exact value.
 *
 * Semantics copy CrowdSec 1.4.6 (crowdsec-wire-protocol.md §4, §7.5): only scopes `ip` and
 * `range` (case-insensitive) with a parsable value take part in IP matching; IPv4 and IPv6 never
 * match each other (mapped IPv6 is IPv4 by then); results are active decisions (until > now)
 * ordered by until, then id. Expired decisions stay until pruneExpired/remove.
 *
 * Parts: family-index.ts (one address family), net-table.ts (its hash tables), index-entry.ts
 * (an entry and its network).
 */
import type { Decision } from '../model/records.ts';
import type { IpAddress, IpFamily, IpRange } from '../../lib/ip.ts';
import { tryParseInterval } from '../../lib/ip.ts';
import { FamilyIndex } from './family-index.ts';
import type { Entry, Net } from './index-entry.ts';

/** A match as the index holds it: the decision and its type (kept beside it for ranking). */
export interface IndexMatch {
  readonly decision: Decision;
  readonly type: string;
}

const byUntilThenId = (a: Decision, b: Decision): number => a.until - b.until || a.id - b.id;
const entryByUntilThenId = (a: Entry, b: Entry): number => a.until - b.until || a.id - b.id;

function isIpScope(scope: string): boolean {
  const s = scope.toLowerCase();
  return s === 'ip' || s === 'range';
}

function netOf(d: Decision): Net | null {
  if (!isIpScope(d.scope)) return null;
  return tryParseInterval(d.value);
}

export interface DecisionIndexOptions {
  /**
   * Keep only what address lookups need (a bouncer's cache): no value map and no by-address order,
   * so byValue() and insideRange() are unavailable, and decisions that take no part in IP matching
   * are not kept at all. Saves memory per decision.
   */
  lookupOnly?: boolean;
}

export class DecisionIndex {
  private readonly byId = new Map<number, Entry>();
  private readonly byValueMap = new Map<string, Entry[]>();
  private readonly v4: FamilyIndex;
  private readonly v6: FamilyIndex;
  private readonly lookupOnly: boolean;
  /** All entries, ordered by (until, id) when `byUntilSorted`; may hold removed entries. */
  private byUntil: Entry[] = [];
  private byUntilSorted = true;
  private byUntilRemoved = 0;

  constructor(options: DecisionIndexOptions = {}) {
    this.lookupOnly = options.lookupOnly === true;
    this.v4 = new FamilyIndex(32, !this.lookupOnly);
    this.v6 = new FamilyIndex(128, !this.lookupOnly);
  }

  /**
   * Insert or replace by id (a soft delete arrives as an upsert with a new `until`). Returns whether
   * the decision takes part in IP matching (scope Ip or Range with a parsable value).
   */
  upsert(d: Decision): boolean {
    const old = this.byId.get(d.id);
    if (old !== undefined && old.value === d.value && (old.net !== null) === isIpScope(d.scope)) {
      // Same value, same role: the intervals stand; only the record and maybe its order change.
      old.decision = d;
      old.type = d.type;
      if (old.until !== d.until) {
        old.until = d.until;
        this.byUntilSorted = false;
      }
      return old.net !== null;
    }
    if (old !== undefined) this.detach(old);
    const net = netOf(d);
    if (net === null && this.lookupOnly) return false;
    const e: Entry = { id: d.id, decision: d, until: d.until, type: d.type, value: d.value, net, removed: false };
    this.byId.set(e.id, e);
    if (!this.lookupOnly) {
      const sameValue = this.byValueMap.get(e.value);
      if (sameValue === undefined) this.byValueMap.set(e.value, [e]);
      else sameValue.push(e);
    }
    this.byUntil.push(e);
    this.byUntilSorted = false;
    if (net !== null) this.family(net.family).add(e, net);
    return net !== null;
  }

  remove(id: number): void {
    const e = this.byId.get(id);
    if (e !== undefined) this.detach(e);
  }

  get(id: number): Decision | undefined {
    return this.byId.get(id)?.decision;
  }

  get size(): number {
    return this.byId.size;
  }

  /** Active (until > now) decisions whose interval contains the address: Ip decisions equal to it and Range decisions containing it. */
  matchIp(ip: IpAddress, now: number): Decision[] {
    const out: Decision[] = [];
    const fam = this.family(ip.family);
    fam.collectContaining(ip.words, fam.bits, now, out);
    if (out.length > 1) out.sort(byUntilThenId);
    return out;
  }

  /**
   * The one active decision that applies to an address, for a bouncer: among the Ip and Range
   * decisions containing it, the one whose type `rank` puts highest (ban before captcha), ties going to the
   * longest-lasting. `words` are the address's unsigned words (one for IPv4, four for IPv6), e.g.
   * from parseIpInto; nothing is allocated.
   */
  strongestMatch(family: IpFamily, words: ArrayLike<number>, now: number, rank: (type: string) => number): Decision | undefined {
    return this.strongestEntry(family, words, now, rank)?.decision;
  }

  /** strongestMatch, with the winner's type beside its decision: ranking it needs no read of the decision record. */
  strongestEntry(family: IpFamily, words: ArrayLike<number>, now: number, rank: (type: string) => number): IndexMatch | undefined {
    if (family === 4) return this.v4.strongestContaining(words[0] | 0, 0, 0, 0, now, rank);
    return this.v6.strongestContaining(words[0] | 0, words[1] | 0, words[2] | 0, words[3] | 0, now, rank);
  }

  /** contains=true semantics: active decisions whose interval contains the whole queried range. */
  containingRange(r: IpRange | IpAddress, now: number): Decision[] {
    const out: Decision[] = [];
    const fam = this.family(r.family);
    if (r.kind === 'address') fam.collectContaining(r.words, fam.bits, now, out);
    else fam.collectContaining(r.first, r.prefixLength, now, out);
    if (out.length > 1) out.sort(byUntilThenId);
    return out;
  }

  /** contains=false semantics: active decisions whose interval lies inside the queried range. */
  insideRange(r: IpRange | IpAddress, now: number): Decision[] {
    if (this.lookupOnly) throw new Error('DecisionIndex: insideRange() needs an index built without lookupOnly');
    const out: Decision[] = [];
    const fam = this.family(r.family);
    if (r.kind === 'address') fam.collectInside(r.words, r.words, now, out);
    else fam.collectInside(r.first, r.last, now, out);
    if (out.length > 1) out.sort(byUntilThenId);
    return out;
  }

  /** Active decisions with exactly this value (any scope), case-sensitive. */
  byValue(value: string, now: number): Decision[] {
    if (this.lookupOnly) throw new Error('DecisionIndex: byValue() needs an index built without lookupOnly');
    const out: Decision[] = [];
    const entries = this.byValueMap.get(value);
    if (entries === undefined) return out;
    for (const e of entries) if (e.until > now) out.push(e.decision);
    if (out.length > 1) out.sort(byUntilThenId);
    return out;
  }

  /** How many decisions (active or not yet pruned) have exactly this value: 1 means no other to dedup against. */
  valueCount(value: string): number {
    if (this.lookupOnly) throw new Error('DecisionIndex: valueCount() needs an index built without lookupOnly');
    return this.byValueMap.get(value)?.length ?? 0;
  }

  /** All active decisions. */
  active(now: number): Decision[] {
    const list = this.orderedByUntil();
    const out: Decision[] = [];
    for (let i = this.firstActive(list, now); i < list.length; i++) out.push(list[i].decision);
    return out;
  }

  /** Forget decisions with until <= now (memory hygiene); returns how many. */
  pruneExpired(now: number): number {
    const list = this.orderedByUntil();
    const end = this.firstActive(list, now);
    // They are a prefix of the ordered list: cut them off here instead of leaving them to a sweep.
    for (let i = 0; i < end; i++) this.detach(list[i], false);
    if (end > 0) this.byUntil = list.slice(end);
    return end;
  }

  private family(f: IpFamily): FamilyIndex {
    return f === 4 ? this.v4 : this.v6;
  }

  /** Unlink an entry everywhere; `sweepable` = it stays in byUntil until a sweep. */
  private detach(e: Entry, sweepable = true): void {
    e.removed = true;
    this.byId.delete(e.id);
    if (!this.lookupOnly) {
      const sameValue = this.byValueMap.get(e.value)!;
      if (sameValue.length === 1) this.byValueMap.delete(e.value);
      else sameValue.splice(sameValue.indexOf(e), 1);
    }
    if (e.net !== null) this.family(e.net.family).delete(e, e.net);
    if (!sweepable) return;
    this.byUntilRemoved++;
    if (this.byUntilRemoved > 1024 && this.byUntilRemoved * 2 > this.byUntil.length) {
      this.byUntil = this.byUntil.filter((x) => !x.removed);
      this.byUntilRemoved = 0;
    }
  }

  /** Live entries ordered by (until, id). */
  private orderedByUntil(): Entry[] {
    if (this.byUntilRemoved > 0) {
      this.byUntil = this.byUntil.filter((x) => !x.removed);
      this.byUntilRemoved = 0;
    }
    if (!this.byUntilSorted) {
      this.byUntil.sort(entryByUntilThenId);
      this.byUntilSorted = true;
    }
    return this.byUntil;
  }

  /** Index of the first entry with until > now in a list ordered by until. */
  private firstActive(list: Entry[], now: number): number {
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (list[mid].until > now) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}
