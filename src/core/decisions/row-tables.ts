/**
 * Hash tables from a decision's id, and from its value, to its row: open addressing over typed
 * arrays. At 1M decisions a Map costs ~40 bytes an entry and a cache miss or two per operation
 * on a heap the garbage collector walks; these cost ~12 bytes an entry and are invisible to it.
 */

function mixInt(x: number): number {
  // Ids come from the store's sequence. Runs of 64 consecutive ids stay in consecutive slots (a
  // first load in id order writes the table in cache-friendly runs); the runs themselves are
  // scattered, so ids left at a regular stride (every other one expired) never pile up in one
  // place. Ids above 2^32 fold their high part in.
  const hi = (x / 4294967296) | 0;
  return (x & 63) | (Math.imul((x >>> 6) ^ hi, 0x9e3779b1) << 6);
}

/** id → row. Keys are read from the rows (`idAt`): a table of 2M slots is 8 MB, not 24. */
export class IdTable {
  /** Row + 1; 0 = empty. */
  #rows = new Int32Array(16);
  #mask = 15;
  size = 0;
  readonly #idAt: (row: number) => number;

  constructor(idAt: (row: number) => number) {
    this.#idAt = idAt;
  }

  #slot(id: number): number {
    let i = mixInt(id) & this.#mask;
    for (;;) {
      const r = this.#rows[i]!;
      if (r === 0 || this.#idAt(r - 1) === id) return i;
      i = (i + 1) & this.#mask;
    }
  }

  /** Room for `count` ids without growing. */
  reserve(count: number): void {
    while (count * 2 > this.#rows.length) this.#grow();
  }

  get(id: number): number | undefined {
    const r = this.#rows[this.#slot(id)]!;
    return r === 0 ? undefined : r - 1;
  }

  /** Maps `id` to `row`, whose id `idAt(row)` already answers. */
  set(id: number, row: number): void {
    const i = this.#slot(id);
    if (this.#rows[i] === 0) this.size++;
    this.#rows[i] = row + 1;
    if (this.size * 2 > this.#rows.length) this.#grow();
  }

  /** Forgets `id` (call while `idAt` still answers it for its row). */
  delete(id: number): void {
    let hole = this.#slot(id);
    if (this.#rows[hole] === 0) return;
    this.size--;
    const mask = this.#mask;
    // Backward-shift deletion: no tombstones.
    for (let j = (hole + 1) & mask; this.#rows[j] !== 0; j = (j + 1) & mask) {
      const home = mixInt(this.#idAt(this.#rows[j]! - 1)) & mask;
      const stays = hole <= j ? hole < home && home <= j : hole < home || home <= j;
      if (stays) continue;
      this.#rows[hole] = this.#rows[j]!;
      hole = j;
    }
    this.#rows[hole] = 0;
  }

  #grow(): void {
    const rows = this.#rows;
    this.#rows = new Int32Array(rows.length * 2);
    this.#mask = this.#rows.length - 1;
    for (let j = 0; j < rows.length; j++) {
      if (rows[j] === 0) continue;
      let i = mixInt(this.#idAt(rows[j]! - 1)) & this.#mask;
      while (this.#rows[i] !== 0) i = (i + 1) & this.#mask;
      this.#rows[i] = rows[j]!;
    }
  }
}

function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ (h >>> 15), 0x85ebca6b);
  return h ^ (h >>> 13);
}

/** value → the first row holding it (the others are chained by the index). Keys are read from the rows (`valueAt`). */
export class ValueTable {
  /** Row + 1; 0 = empty. */
  #rows = new Int32Array(16);
  /** Each slot's value hash: probes compare it before the strings, growing never rehashes. */
  #hashes = new Int32Array(16);
  #mask = 15;
  size = 0;
  readonly #valueAt: (row: number) => string;

  constructor(valueAt: (row: number) => string) {
    this.#valueAt = valueAt;
  }

  #slot(value: string, h: number): number {
    let i = h & this.#mask;
    for (;;) {
      const r = this.#rows[i]!;
      if (r === 0 || (this.#hashes[i] === h && this.#valueAt(r - 1) === value)) return i;
      i = (i + 1) & this.#mask;
    }
  }

  /** Room for `count` values without growing. */
  reserve(count: number): void {
    while (count * 2 > this.#rows.length) this.#grow();
  }

  get(value: string): number {
    return this.#rows[this.#slot(value, hashString(value))]! - 1;
  }

  /** Makes `row` the first row of its value (which `valueAt(row)` already answers); returns the previous first row, or -1. */
  setHead(value: string, row: number): number {
    const h = hashString(value);
    const i = this.#slot(value, h);
    const previous = this.#rows[i]! - 1;
    if (previous === -1) {
      this.size++;
      this.#hashes[i] = h;
    }
    this.#rows[i] = row + 1;
    if (this.size * 2 > this.#rows.length) this.#grow();
    return previous;
  }

  delete(value: string): void {
    let hole = this.#slot(value, hashString(value));
    if (this.#rows[hole] === 0) return;
    this.size--;
    const mask = this.#mask;
    for (let j = (hole + 1) & mask; this.#rows[j] !== 0; j = (j + 1) & mask) {
      const home = this.#hashes[j]! & mask;
      const stays = hole <= j ? hole < home && home <= j : hole < home || home <= j;
      if (stays) continue;
      this.#rows[hole] = this.#rows[j]!;
      this.#hashes[hole] = this.#hashes[j]!;
      hole = j;
    }
    this.#rows[hole] = 0;
  }

  #grow(): void {
    const rows = this.#rows;
    const hashes = this.#hashes;
    this.#rows = new Int32Array(rows.length * 2);
    this.#hashes = new Int32Array(rows.length * 2);
    this.#mask = this.#rows.length - 1;
    for (let j = 0; j < rows.length; j++) {
      if (rows[j] === 0) continue;
      let i = hashes[j]! & this.#mask;
      while (this.#rows[i] !== 0) i = (i + 1) & this.#mask;
      this.#rows[i] = rows[j]!;
      this.#hashes[i] = hashes[j]!;
    }
  }
}
