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
 * as int32) followed by its row + 1 (0 = empty), all in one typed array: a probe reads one cache
 * line, and nothing is allocated. Deletion shifts back: no tombstones.
 */
export class NetTable {
  private readonly width: 1 | 4;
  private readonly stride: number;
  private slots: Int32Array;
  private mask = 7;
  size = 0;

  constructor(width: 1 | 4) {
    this.width = width;
    this.stride = width + 1;
    this.slots = new Int32Array(this.stride * 8);
  }

  private hash(a: number, b: number, c: number, d: number): number {
    return this.width === 1 ? hash1(a) : hash4(a, b, c, d);
  }

  /** The slot index holding the network, or the empty one where it would go. */
  private slotOf(a: number, b: number, c: number, d: number): number {
    const { slots, mask } = this;
    let i = this.hash(a, b, c, d) & mask;
    if (this.width === 1) {
      for (;;) {
        const k = i << 1;
        if (slots[k + 1] === 0 || slots[k] === a) return i;
        i = (i + 1) & mask;
      }
    }
    for (;;) {
      const k = i * 5;
      if (slots[k + 4] === 0 || (slots[k] === a && slots[k + 1] === b && slots[k + 2] === c && slots[k + 3] === d)) return i;
      i = (i + 1) & mask;
    }
  }

  /** The first row on the network, or -1. */
  get(a: number, b: number, c: number, d: number): number {
    return this.slots[this.slotOf(a, b, c, d) * this.stride + this.width]! - 1;
  }

  /** Calls `fn` with the first key word of every network held. */
  forEachFirstWord(fn: (w0: number) => void): void {
    const { slots, stride, width } = this;
    for (let k = 0; k < slots.length; k += stride) if (slots[k + width] !== 0) fn(slots[k]!);
  }

  /** Sets the first row on a network (adding the network when new); returns the row it replaced, or -1. */
  setHead(a: number, b: number, c: number, d: number, row: number): number {
    const k = this.slotOf(a, b, c, d) * this.stride;
    const head = k + this.width;
    const old = this.slots[head]! - 1;
    this.slots[head] = row + 1;
    if (old !== -1) return old;
    this.slots[k] = a;
    if (this.width === 4) {
      this.slots[k + 1] = b;
      this.slots[k + 2] = c;
      this.slots[k + 3] = d;
    }
    this.size++;
    if (this.size * 2 > this.mask + 1) this.grow();
    return -1;
  }

  /** Forgets a network. */
  delete(a: number, b: number, c: number, d: number): void {
    const i = this.slotOf(a, b, c, d);
    if (this.slots[i * this.stride + this.width] === 0) return;
    this.deleteAt(i);
  }

  private deleteAt(hole: number): void {
    const { slots, mask, stride, width } = this;
    let i = hole;
    this.size--;
    // Backward-shift deletion: pull later members of the probe run into the hole.
    for (let j = (i + 1) & mask; slots[j * stride + width] !== 0; j = (j + 1) & mask) {
      const k = j * stride;
      const home = this.hash(slots[k]!, width === 4 ? slots[k + 1]! : 0, width === 4 ? slots[k + 2]! : 0, width === 4 ? slots[k + 3]! : 0) & mask;
      const stays = i <= j ? i < home && home <= j : i < home || home <= j;
      if (stays) continue;
      slots.copyWithin(i * stride, k, k + stride);
      i = j;
    }
    slots.fill(0, i * stride, i * stride + stride);
  }

  private grow(): void {
    const old = this.slots;
    const { stride, width } = this;
    const capacity = (this.mask + 1) * 2;
    this.slots = new Int32Array(stride * capacity);
    this.mask = capacity - 1;
    for (let k = 0; k < old.length; k += stride) {
      if (old[k + width] === 0) continue;
      const i = this.slotOf(old[k]!, width === 4 ? old[k + 1]! : 0, width === 4 ? old[k + 2]! : 0, width === 4 ? old[k + 3]! : 0);
      this.slots.set(old.subarray(k, k + stride), i * stride);
    }
  }
}
