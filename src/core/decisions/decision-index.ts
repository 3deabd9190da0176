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
 */
import type { Decision } from '../model/records.ts';
import type { IpAddress, IpFamily, IpRange, IpWords } from '../../lib/ip.ts';
import { compareWords, tryParseInterval } from '../../lib/ip.ts';

interface Net {
  readonly family: IpFamily;
  readonly prefixLength: number;
  readonly first: IpWords;
  readonly last: IpWords;
}

/** A match as the index holds it: the decision and its type (kept beside it for ranking). */
export interface IndexMatch {
  readonly decision: Decision;
  readonly type: string;
}

interface Entry {
  readonly id: number;
  decision: Decision;
  /** Mirrors decision.until; read on the hot path. */
  until: number;
  /** Mirrors decision.type, so ranking a match does not touch the decision record. */
  type: string;
  readonly value: string;
  /** Null when the decision takes no part in IP matching. */
  readonly net: Net | null;
  /** Set once detached; lazily swept out of the ordered arrays. */
  removed: boolean;
}

const byUntilThenId = (a: Decision, b: Decision): number => a.until - b.until || a.id - b.id;
const entryByUntilThenId = (a: Entry, b: Entry): number => a.until - b.until || a.id - b.id;
const entryByFirst = (a: Entry, b: Entry): number => compareWords(a.net!.first, b.net!.first);

function isIpScope(scope: string): boolean {
  const s = scope.toLowerCase();
  return s === 'ip' || s === 'range';
}

function netOf(d: Decision): Net | null {
  if (!isIpScope(d.scope)) return null;
  return tryParseInterval(d.value);
}

/** Mask of the `bits` most significant bits of a word, as int32 (bits clamped to 0..32). */
function wordMask(bits: number): number {
  if (bits <= 0) return 0;
  if (bits >= 32) return -1;
  return -1 << (32 - bits);
}

function hash4(a: number, b: number, c: number, d: number): number {
  let h = Math.imul(a ^ 0x5bd1e995, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 15) ^ b, 0x85ebca77);
  h = Math.imul(h ^ (h >>> 13) ^ c, 0xc2b2ae3d);
  h = Math.imul(h ^ (h >>> 16) ^ d, 0x27d4eb2f);
  return h ^ (h >>> 15);
}

function hash1(a: number): number {
  let h = Math.imul(a ^ 0x5bd1e995, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 15), 0x27d4eb2f);
  return h ^ (h >>> 15);
}

/** The entries on one network: one entry (the usual case, no array), or several. */
type Slot = Entry | Entry[];

/**
 * Open-addressing (linear probing) hash table from a masked network to the entries on it. A slot
 * is `width` key words (1 for IPv4, 4 for IPv6, as int32) followed by an occupied flag, all in one
 * typed array, so a probe that misses reads one cache line and nothing else. Lookups take the
 * words as arguments: the hot path allocates nothing. Deletion shifts back: no tombstones.
 */
class NetTable {
  private readonly width: 1 | 4;
  private readonly stride: number;
  private keys: Int32Array;
  private slots: (Slot | undefined)[];
  private mask = 7;
  size = 0;

  constructor(width: 1 | 4) {
    this.width = width;
    this.stride = width + 1;
    this.keys = new Int32Array(this.stride * 8);
    this.slots = new Array<Slot | undefined>(8).fill(undefined);
  }

  private hash(a: number, b: number, c: number, d: number): number {
    return this.width === 1 ? hash1(a) : hash4(a, b, c, d);
  }

  /** The slot index holding the network, or the empty one where it would go. */
  private slotOf(a: number, b: number, c: number, d: number): number {
    const { keys, mask, stride } = this;
    let i = this.hash(a, b, c, d) & mask;
    if (this.width === 1) {
      for (;;) {
        const k = i << 1;
        if (keys[k + 1] === 0 || keys[k] === a) return i;
        i = (i + 1) & mask;
      }
    }
    for (;;) {
      const k = i * stride;
      if (keys[k + 4] === 0 || (keys[k] === a && keys[k + 1] === b && keys[k + 2] === c && keys[k + 3] === d)) return i;
      i = (i + 1) & mask;
    }
  }

  get(a: number, b: number, c: number, d: number): Slot | undefined {
    return this.slots[this.slotOf(a, b, c, d)];
  }

  /** Calls `fn` with the first key word of every network held. */
  forEachFirstWord(fn: (w0: number) => void): void {
    const { keys, slots, stride } = this;
    for (let i = 0; i < slots.length; i++) if (slots[i] !== undefined) fn(keys[i * stride]);
  }

  /** Adds an entry to its network; true when the network is new to the table. */
  add(a: number, b: number, c: number, d: number, e: Entry): boolean {
    const i = this.slotOf(a, b, c, d);
    const existing = this.slots[i];
    if (existing !== undefined) {
      if (Array.isArray(existing)) existing.push(e);
      else this.slots[i] = [existing, e];
      return false;
    }
    const k = i * this.stride;
    this.keys[k] = a;
    if (this.width === 4) {
      this.keys[k + 1] = b;
      this.keys[k + 2] = c;
      this.keys[k + 3] = d;
    }
    this.keys[k + this.width] = 1;
    this.slots[i] = e;
    this.size++;
    if (this.size * 2 > this.slots.length) this.grow();
    return true;
  }

  /** Removes an entry from its network; true when the network is now empty (and gone). */
  removeEntry(a: number, b: number, c: number, d: number, e: Entry): boolean {
    const i = this.slotOf(a, b, c, d);
    const slot = this.slots[i];
    if (slot === undefined) return false;
    if (Array.isArray(slot)) {
      const at = slot.indexOf(e);
      if (at !== -1) slot.splice(at, 1);
      if (slot.length > 1) return false;
      if (slot.length === 1) {
        this.slots[i] = slot[0];
        return false;
      }
    } else if (slot !== e) return false;
    this.deleteAt(i);
    return true;
  }

  private deleteAt(hole: number): void {
    const { keys, slots, mask, stride, width } = this;
    let i = hole;
    this.size--;
    // Backward-shift deletion: pull later members of the probe run into the hole.
    for (let j = (i + 1) & mask; keys[j * stride + width] !== 0; j = (j + 1) & mask) {
      const k = j * stride;
      const home = this.hash(keys[k], width === 4 ? keys[k + 1] : 0, width === 4 ? keys[k + 2] : 0, width === 4 ? keys[k + 3] : 0) & mask;
      const stays = i <= j ? i < home && home <= j : i < home || home <= j;
      if (stays) continue;
      keys.copyWithin(i * stride, k, k + stride);
      slots[i] = slots[j];
      i = j;
    }
    keys.fill(0, i * stride, i * stride + stride);
    slots[i] = undefined;
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldSlots = this.slots;
    const { stride, width } = this;
    const capacity = oldSlots.length * 2;
    this.keys = new Int32Array(stride * capacity);
    this.slots = new Array<Slot | undefined>(capacity).fill(undefined);
    this.mask = capacity - 1;
    for (let j = 0; j < oldSlots.length; j++) {
      const slot = oldSlots[j];
      if (slot === undefined) continue;
      const k = j * stride;
      const i = this.slotOf(oldKeys[k], width === 4 ? oldKeys[k + 1] : 0, width === 4 ? oldKeys[k + 2] : 0, width === 4 ? oldKeys[k + 3] : 0);
      this.keys.set(oldKeys.subarray(k, k + stride), i * stride);
      this.slots[i] = slot;
    }
  }
}

/** Everything indexed for one address family. */
class FamilyIndex {
  readonly bits: number;
  /** tables[p]: networks of prefix length p. */
  readonly tables: (NetTable | undefined)[];
  /** masks[4p .. 4p+3]: the int32 word masks of prefix length p. */
  readonly masks: Int32Array;
  /** Prefix lengths with at least one network, ascending: the only ones a lookup probes. */
  lengths: number[] = [];
  /**
   * Which prefix lengths of 16 and more have a network under each /16 (first word >>> 16): bit
   * `lengthBit[p]` of `buckets[top16]`. A lookup skips the lengths its /16 has never held, so an
   * address among 100k decisions probes one or two tables instead of every length present. Bits
   * are set on insert and cleared only by a rebuild (a stale bit costs one probe, never a miss).
   */
  readonly buckets = new Int32Array(1 << 16);
  /** 0 for lengths under 16 (always probed); IPv4 one bit per length, IPv6 one per four lengths. */
  readonly lengthBit: Int32Array;
  #removedSinceRebuild = 0;
  #networks = 0;
  /** Entries ordered by first address when `byFirstSorted`; may hold removed entries. Not kept when lookup-only. */
  byFirst: Entry[] = [];
  byFirstSorted = true;
  byFirstRemoved = 0;
  readonly keepByFirst: boolean;

  constructor(bits: number, keepByFirst: boolean) {
    this.bits = bits;
    this.keepByFirst = keepByFirst;
    this.tables = new Array<NetTable | undefined>(bits + 1).fill(undefined);
    this.masks = new Int32Array(4 * (bits + 1));
    for (let p = 0; p <= bits; p++) {
      for (let i = 0; i < 4; i++) this.masks[4 * p + i] = wordMask(p - 32 * i);
    }
    this.lengthBit = new Int32Array(bits + 1);
    for (let p = 16; p <= bits; p++) this.lengthBit[p] = 1 << (bits === 32 ? p - 16 : Math.min(31, (p - 16) >> 2));
  }

  /** Whether a lookup of an address whose first word is `w0` must probe the networks of length p. */
  private mayHold(p: number, w0: number): boolean {
    const bit = this.lengthBit[p];
    return bit === 0 || (this.buckets[w0 >>> 16] & bit) !== 0;
  }

  private rebuildBuckets(): void {
    this.buckets.fill(0);
    for (let p = 16; p <= this.bits; p++) {
      const table = this.tables[p];
      if (table === undefined || table.size === 0) continue;
      const bit = this.lengthBit[p];
      table.forEachFirstWord((w0) => {
        this.buckets[w0 >>> 16] |= bit;
      });
    }
    this.#removedSinceRebuild = 0;
  }

  add(e: Entry, net: Net): void {
    const p = net.prefixLength;
    let table = this.tables[p];
    if (table === undefined) {
      table = new NetTable(this.bits === 32 ? 1 : 4);
      this.tables[p] = table;
    }
    const w = net.first;
    const wasEmpty = table.size === 0;
    const isNew = this.bits === 32 ? table.add(w[0] | 0, 0, 0, 0, e) : table.add(w[0] | 0, w[1] | 0, w[2] | 0, w[3] | 0, e);
    if (isNew) this.#networks++;
    this.buckets[w[0] >>> 16] |= this.lengthBit[p];
    if (wasEmpty) this.refreshLengths();
    if (!this.keepByFirst) return;
    this.byFirst.push(e);
    this.byFirstSorted = false;
  }

  delete(e: Entry, net: Net): void {
    const table = this.tables[net.prefixLength]!;
    const w = net.first;
    const emptied = this.bits === 32 ? table.removeEntry(w[0] | 0, 0, 0, 0, e) : table.removeEntry(w[0] | 0, w[1] | 0, w[2] | 0, w[3] | 0, e);
    if (emptied) {
      this.#networks--;
      // Stale bits only cost probes; rebuild once as many networks went as remain (amortised O(1)).
      if (++this.#removedSinceRebuild > 1024 && this.#removedSinceRebuild > this.#networks) this.rebuildBuckets();
    }
    if (emptied && table.size === 0) this.refreshLengths();
    if (!this.keepByFirst) return;
    this.byFirstRemoved++;
    if (this.byFirstRemoved > 1024 && this.byFirstRemoved * 2 > this.byFirst.length) this.sweep();
  }

  private refreshLengths(): void {
    const lengths: number[] = [];
    for (let p = 0; p <= this.bits; p++) if ((this.tables[p]?.size ?? 0) > 0) lengths.push(p);
    this.lengths = lengths;
  }

  private sweep(): void {
    this.byFirst = this.byFirst.filter((e) => !e.removed);
    this.byFirstRemoved = 0;
  }

  /** Active decisions on networks of prefix <= maxPrefix that contain `words`, appended to out. */
  collectContaining(words: IpWords, maxPrefix: number, now: number, out: Decision[]): void {
    const v6 = this.bits === 128;
    const w0 = words[0] | 0;
    const w1 = v6 ? words[1] | 0 : 0;
    const w2 = v6 ? words[2] | 0 : 0;
    const w3 = v6 ? words[3] | 0 : 0;
    const { lengths, tables, masks } = this;
    for (let li = 0; li < lengths.length; li++) {
      const p = lengths[li];
      if (p > maxPrefix) break;
      if (!this.mayHold(p, w0)) continue;
      const m = p << 2;
      const slot = tables[p]!.get(w0 & masks[m], w1 & masks[m + 1], w2 & masks[m + 2], w3 & masks[m + 3]);
      if (slot === undefined) continue;
      if (!Array.isArray(slot)) {
        if (slot.until > now) out.push(slot.decision);
        continue;
      }
      for (let bi = 0; bi < slot.length; bi++) {
        const e = slot[bi];
        if (e.until > now) out.push(e.decision);
      }
    }
  }

  /**
   * The active entry on a network containing the address (four int32 words; IPv4 uses the first)
   * whose type `rank` puts highest, ties going to the one that lasts longest. Allocates nothing
   * and reads the decision record only of the winner: the bouncer calls this once per request.
   */
  strongestContaining(w0: number, w1: number, w2: number, w3: number, now: number, rank: (type: string) => number): Entry | undefined {
    const { lengths, tables, masks } = this;
    let best: Entry | undefined;
    let bestRank = 0;
    for (let li = 0; li < lengths.length; li++) {
      const p = lengths[li];
      if (!this.mayHold(p, w0)) continue;
      const m = p << 2;
      const slot = tables[p]!.get(w0 & masks[m], w1 & masks[m + 1], w2 & masks[m + 2], w3 & masks[m + 3]);
      if (slot === undefined) continue;
      const n = Array.isArray(slot) ? slot.length : 1;
      for (let bi = 0; bi < n; bi++) {
        const e = Array.isArray(slot) ? slot[bi] : slot;
        if (e.until <= now) continue;
        const r = rank(e.type);
        if (best === undefined || r > bestRank || (r === bestRank && e.until > best.until)) {
          best = e;
          bestRank = r;
        }
      }
    }
    return best;
  }

  /** Active decisions whose interval lies within [first, last], appended to out. */
  collectInside(first: IpWords, last: IpWords, now: number, out: Decision[]): void {
    if (!this.byFirstSorted) {
      if (this.byFirstRemoved > 0) this.sweep();
      this.byFirst.sort(entryByFirst);
      this.byFirstSorted = true;
    }
    const list = this.byFirst;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareWords(list[mid].net!.first, first) < 0) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < list.length; i++) {
      const e = list[i];
      const net = e.net!;
      if (compareWords(net.first, last) > 0) break;
      if (!e.removed && e.until > now && compareWords(net.last, last) <= 0) out.push(e.decision);
    }
  }
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
