/** One address family's part of the decision index: a NetTable per prefix length present, and the entries ordered by first address. */
import type { Decision } from '../model/records.ts';
import type { IpWords } from '../../lib/ip.ts';
import { compareWords } from '../../lib/ip.ts';
import type { Entry, Net } from './index-entry.ts';
import { NetTable } from './net-table.ts';

const entryByFirst = (a: Entry, b: Entry): number => compareWords(a.net!.first, b.net!.first);

/** Mask of the `bits` most significant bits of a word, as int32 (bits clamped to 0..32). */
function wordMask(bits: number): number {
  if (bits <= 0) return 0;
  if (bits >= 32) return -1;
  return -1 << (32 - bits);
}

/** Everything indexed for one address family. */
export class FamilyIndex {
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
