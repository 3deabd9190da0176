/** The decision index's hash table from a masked network to its entries (one per family and prefix length). */
import type { Entry } from './index-entry.ts';

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
export type Slot = Entry | Entry[];

/**
 * Open-addressing (linear probing) hash table from a masked network to the entries on it. A slot
 * is `width` key words (1 for IPv4, 4 for IPv6, as int32) followed by an occupied flag, all in one
 * typed array, so a probe that misses reads one cache line and nothing else. Lookups take the
 * words as arguments: the hot path allocates nothing. Deletion shifts back: no tombstones.
 */
export class NetTable {
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
