/** One address family's part of the decision index: a NetTable per prefix length present, and the rows ordered by first address. */
import type { DecisionRows } from './decision-rows.ts';
import { RowList } from './decision-rows.ts';
import { NetTable } from './net-table.ts';

/** Where each row's network is (rows taking part in IP matching), shared by both families. */
export interface NetColumns {
  readonly rows: DecisionRows;
  /** words[4 row .. 4 row + 3]: the network's first address (host bits cleared) as int32 words; IPv4 uses the first. */
  words: Int32Array;
  prefix: Uint8Array;
  /** The next row on the same network, or -1. */
  next: Int32Array;
}

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
  /** Rows ordered by first address when `byFirstSorted`; may hold retired rows. Not kept when lookup-only. */
  readonly byFirst = new RowList();
  byFirstSorted = true;
  readonly keepByFirst: boolean;
  readonly #nets: NetColumns;

  constructor(bits: number, keepByFirst: boolean, nets: NetColumns) {
    this.bits = bits;
    this.keepByFirst = keepByFirst;
    this.#nets = nets;
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
    const bit = this.lengthBit[p]!;
    return bit === 0 || (this.buckets[w0 >>> 16]! & bit) !== 0;
  }

  private rebuildBuckets(): void {
    this.buckets.fill(0);
    for (let p = 16; p <= this.bits; p++) {
      const table = this.tables[p];
      if (table === undefined || table.size === 0) continue;
      const bit = this.lengthBit[p]!;
      table.forEachFirstWord((w0) => {
        this.buckets[w0 >>> 16]! |= bit;
      });
    }
    this.#removedSinceRebuild = 0;
  }

  private key(row: number): [number, number, number, number] {
    const w = this.#nets.words;
    const k = row << 2;
    return this.bits === 32 ? [w[k]!, 0, 0, 0] : [w[k]!, w[k + 1]!, w[k + 2]!, w[k + 3]!];
  }

  add(row: number): void {
    const nets = this.#nets;
    const p = nets.prefix[row]!;
    let table = this.tables[p];
    if (table === undefined) {
      table = new NetTable(this.bits === 32 ? 1 : 4);
      this.tables[p] = table;
    }
    const [a, b, c, d] = this.key(row);
    const wasEmpty = table.size === 0;
    const previous = table.setHead(a, b, c, d, row);
    nets.next[row] = previous;
    if (previous === -1) this.#networks++;
    this.buckets[a >>> 16]! |= this.lengthBit[p]!;
    if (wasEmpty) this.refreshLengths();
    if (!this.keepByFirst) return;
    this.byFirst.push(row);
    this.byFirstSorted = false;
  }

  /** Unlinks a row from its network (the byFirst list keeps it until a sweep). */
  delete(row: number): void {
    const nets = this.#nets;
    const table = this.tables[nets.prefix[row]!]!;
    const [a, b, c, d] = this.key(row);
    const head = table.get(a, b, c, d);
    if (head === row) {
      const next = nets.next[row]!;
      if (next !== -1) {
        table.setHead(a, b, c, d, next);
        return;
      }
      table.delete(a, b, c, d);
      this.#networks--;
      // Stale bits only cost probes; rebuild once as many networks went as remain (amortised O(1)).
      if (++this.#removedSinceRebuild > 1024 && this.#removedSinceRebuild > this.#networks) this.rebuildBuckets();
      if (table.size === 0) this.refreshLengths();
      return;
    }
    for (let r = head; r !== -1; r = nets.next[r]!) {
      if (nets.next[r] === row) {
        nets.next[r] = nets.next[row]!;
        return;
      }
    }
  }

  private refreshLengths(): void {
    const lengths: number[] = [];
    for (let p = 0; p <= this.bits; p++) if ((this.tables[p]?.size ?? 0) > 0) lengths.push(p);
    this.lengths = lengths;
  }

  /** Active rows on networks of prefix <= maxPrefix that contain `words`, appended to out. */
  collectContaining(words: ArrayLike<number>, maxPrefix: number, now: number, out: number[]): void {
    const v6 = this.bits === 128;
    const w0 = words[0]! | 0;
    const w1 = v6 ? words[1]! | 0 : 0;
    const w2 = v6 ? words[2]! | 0 : 0;
    const w3 = v6 ? words[3]! | 0 : 0;
    const { lengths, tables, masks } = this;
    const { next } = this.#nets;
    const until = this.#nets.rows.until;
    for (let li = 0; li < lengths.length; li++) {
      const p = lengths[li]!;
      if (p > maxPrefix) break;
      if (!this.mayHold(p, w0)) continue;
      const m = p << 2;
      for (let r = tables[p]!.get(w0 & masks[m]!, w1 & masks[m + 1]!, w2 & masks[m + 2]!, w3 & masks[m + 3]!); r !== -1; r = next[r]!) {
        if (until[r]! > now) out.push(r);
      }
    }
  }

  /**
   * The active row on a network containing the address (four int32 words; IPv4 uses the first)
   * whose type `rank` puts highest, ties going to the one that lasts longest; -1 when none.
   * Allocates nothing: the bouncer calls this once per request.
   */
  strongestContaining(w0: number, w1: number, w2: number, w3: number, now: number, rank: (type: string) => number): number {
    const { lengths, tables, masks } = this;
    const { next, rows } = this.#nets;
    const { until } = rows;
    let best = -1;
    let bestRank = 0;
    for (let li = 0; li < lengths.length; li++) {
      const p = lengths[li]!;
      if (!this.mayHold(p, w0)) continue;
      const m = p << 2;
      for (let r = tables[p]!.get(w0 & masks[m]!, w1 & masks[m + 1]!, w2 & masks[m + 2]!, w3 & masks[m + 3]!); r !== -1; r = next[r]!) {
        if (until[r]! <= now) continue;
        const rk = rank(rows.typeOf(r));
        if (best === -1 || rk > bestRank || (rk === bestRank && until[r]! > until[best]!)) {
          best = r;
          bestRank = rk;
        }
      }
    }
    return best;
  }

  /** Unsigned comparison of row `r`'s first address with words[0..n). */
  private compareFirst(r: number, words: ArrayLike<number>): number {
    const w = this.#nets.words;
    const n = this.bits === 32 ? 1 : 4;
    for (let i = 0; i < n; i++) {
      const a = w[(r << 2) + i]! >>> 0;
      const b = words[i]! >>> 0;
      if (a !== b) return a < b ? -1 : 1;
    }
    return 0;
  }

  /** Row `r`'s last address, word i (unsigned). */
  private lastWord(r: number, i: number): number {
    const m = this.masks[(this.#nets.prefix[r]! << 2) + i]!;
    return (this.#nets.words[(r << 2) + i]! | ~m) >>> 0;
  }

  /** Active rows whose interval lies within [first, last], appended to out. */
  collectInside(first: ArrayLike<number>, last: ArrayLike<number>, now: number, out: number[]): void {
    const { rows } = this.#nets;
    const list = this.byFirst;
    if (!this.byFirstSorted) {
      list.filter((r) => rows.live[r] === 1);
      const w = this.#nets.words;
      list.sort((x, y) => {
        for (let i = 0; i < 4; i++) {
          const a = w[(x << 2) + i]! >>> 0;
          const b = w[(y << 2) + i]! >>> 0;
          if (a !== b) return a < b ? -1 : 1;
        }
        return 0;
      });
      this.byFirstSorted = true;
    }
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.compareFirst(list.rows[mid]!, first) < 0) lo = mid + 1;
      else hi = mid;
    }
    const n = this.bits === 32 ? 1 : 4;
    for (let i = lo; i < list.length; i++) {
      const r = list.rows[i]!;
      if (this.compareFirst(r, last) > 0) break;
      if (rows.live[r] !== 1 || rows.until[r]! <= now) continue;
      let inside = true;
      for (let j = 0; j < n && inside; j++) {
        const a = this.lastWord(r, j);
        const b = last[j]! >>> 0;
        if (a !== b) inside = a < b;
      }
      if (inside) out.push(r);
    }
  }

  /** Drops rows that `keep` refuses from the by-address list (a sweep before rows are reused). */
  sweep(keep: (r: number) => boolean): void {
    if (!this.keepByFirst) return;
    this.byFirst.filter(keep);
  }
}
