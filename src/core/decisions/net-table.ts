/** The decision index's hash table from a masked network to the first row on it (one per family and prefix length). */

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

/**
 * Open-addressing (linear probing) hash table from a masked network to the first decision row on
 * it (the family index chains the others). A slot is `width` key words (1 for IPv4, 4 for IPv6,
 * as int32) followed by an occupied flag, all in one typed array, and its row in another: a probe
 * reads one cache line, and nothing is allocated. Deletion shifts back: no tombstones.
 */
export class NetTable {
  private readonly width: 1 | 4;
  private readonly stride: number;
  private keys: Int32Array;
  private heads: Int32Array;
  private mask = 7;
  size = 0;

  constructor(width: 1 | 4) {
    this.width = width;
    this.stride = width + 1;
    this.keys = new Int32Array(this.stride * 8);
    this.heads = new Int32Array(8).fill(-1);
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

  /** The first row on the network, or -1. */
  get(a: number, b: number, c: number, d: number): number {
    return this.heads[this.slotOf(a, b, c, d)]!;
  }

  /** Calls `fn` with the first key word of every network held. */
  forEachFirstWord(fn: (w0: number) => void): void {
    const { keys, heads, stride } = this;
    for (let i = 0; i < heads.length; i++) if (heads[i] !== -1) fn(keys[i * stride]!);
  }

  /** Sets the first row on a network (adding the network when new); returns the row it replaced, or -1. */
  setHead(a: number, b: number, c: number, d: number, row: number): number {
    const i = this.slotOf(a, b, c, d);
    const old = this.heads[i]!;
    if (old !== -1) {
      this.heads[i] = row;
      return old;
    }
    const k = i * this.stride;
    this.keys[k] = a;
    if (this.width === 4) {
      this.keys[k + 1] = b;
      this.keys[k + 2] = c;
      this.keys[k + 3] = d;
    }
    this.keys[k + this.width] = 1;
    this.heads[i] = row;
    this.size++;
    if (this.size * 2 > this.heads.length) this.grow();
    return -1;
  }

  /** Forgets a network. */
  delete(a: number, b: number, c: number, d: number): void {
    const i = this.slotOf(a, b, c, d);
    if (this.heads[i] === -1) return;
    this.deleteAt(i);
  }

  private deleteAt(hole: number): void {
    const { keys, heads, mask, stride, width } = this;
    let i = hole;
    this.size--;
    // Backward-shift deletion: pull later members of the probe run into the hole.
    for (let j = (i + 1) & mask; keys[j * stride + width] !== 0; j = (j + 1) & mask) {
      const k = j * stride;
      const home = this.hash(keys[k]!, width === 4 ? keys[k + 1]! : 0, width === 4 ? keys[k + 2]! : 0, width === 4 ? keys[k + 3]! : 0) & mask;
      const stays = i <= j ? i < home && home <= j : i < home || home <= j;
      if (stays) continue;
      keys.copyWithin(i * stride, k, k + stride);
      heads[i] = heads[j]!;
      i = j;
    }
    keys.fill(0, i * stride, i * stride + stride);
    heads[i] = -1;
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldHeads = this.heads;
    const { stride, width } = this;
    const capacity = oldHeads.length * 2;
    this.keys = new Int32Array(stride * capacity);
    this.heads = new Int32Array(capacity).fill(-1);
    this.mask = capacity - 1;
    for (let j = 0; j < oldHeads.length; j++) {
      if (oldHeads[j] === -1) continue;
      const k = j * stride;
      const i = this.slotOf(oldKeys[k]!, width === 4 ? oldKeys[k + 1]! : 0, width === 4 ? oldKeys[k + 2]! : 0, width === 4 ? oldKeys[k + 3]! : 0);
      this.keys.set(oldKeys.subarray(k, k + stride), i * stride);
      this.heads[i] = oldHeads[j]!;
    }
  }
}
