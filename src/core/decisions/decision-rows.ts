/**
 * The decision index's storage: one row per decision, in columns (typed arrays for numbers, plain
 * arrays of shared strings) instead of one object per decision. At 1M decisions a Decision object,
 * its boxed times and its index entry cost ~600 bytes; a row ~100. Decision objects are made on
 * demand (an answer's few), and kept for the rows a lookup returned (`cache`), so a bouncer asking
 * about the same address again gets the same object (and wire.ts its cached JSON).
 *
 * Two things a row does not hold as strings: origin, type, scope and scenario (a few strings
 * shared by many decisions) are codes into one table of strings, and a value that is the address
 * or range the index holds, written as formatValue writes it (nearly every Ip and Range decision),
 * is not kept at all but written again when asked for. At 1M decisions that is ~70 MB of heap less.
 */
import type { Decision } from '../model/records.ts';

/** Codes of the shared strings fit 16 bits until a store holds more distinct ones (then 32). */
type Codes = Uint16Array | Uint32Array;

export class DecisionRows {
  /** Rows ever used (row numbers are below this). */
  used = 0;
  id = new Float64Array(0);
  alertId = new Float64Array(0);
  createdAt = new Float64Array(0);
  until = new Float64Array(0);
  deletedAt = new Float64Array(0);
  /** 1 = simulated. */
  simulated = new Uint8Array(0);
  /** 1 = holds a decision (0 = free, or freed and waiting for the lists that may name it to be swept). */
  live = new Uint8Array(0);
  #origin: Codes = new Uint16Array(0);
  #type: Codes = new Uint16Array(0);
  #scope: Codes = new Uint16Array(0);
  #scenario: Codes = new Uint16Array(0);
  /** The shared strings, by code, and their codes. */
  #strings: string[] = [];
  #codes = new Map<string, number>();
  /** The table's size after its last compaction: it is compacted again once it doubles (strings no row uses are dropped). */
  #stringsCompacted = 0;
  /** A row's value when formatValue would not write it back as it was given (undefined: it would). */
  #values: (string | undefined)[] = [];
  /** Writes a row's value from what the index holds of it (its network), for rows stored without their value text. */
  formatValue: (row: number) => string = () => '';
  /** Decision objects made for a row and kept (see the file comment); cleared when the row changes. */
  #objects: (Decision | undefined)[] = [];
  #objectCount = 0;
  readonly #keepAll: boolean;
  #free: number[] = [];

  /** keepAll: keep every decision object given (a bouncer's small cache: no re-making on its hot path). */
  constructor(keepAll: boolean) {
    this.#keepAll = keepAll;
  }

  /** Makes room for `count` rows at once (a first load: no chain of doubling copies left to the allocator). */
  reserve(count: number): void {
    if (count > this.id.length) this.#grow(count);
  }

  /** Stores a decision in a free row and returns the row; `valueFormatted`: formatValue(row) will write d.value. */
  add(d: Decision, valueFormatted = false): number {
    const row = this.#free.length > 0 ? this.#free.pop()! : this.used++;
    if (row >= this.id.length) this.#grow(Math.max(1024, this.id.length * 2));
    this.set(row, d, valueFormatted);
    this.live[row] = 1;
    return row;
  }

  /** Overwrites a row with a decision (same id). */
  set(row: number, d: Decision, valueFormatted = false): void {
    this.id[row] = d.id;
    this.alertId[row] = d.alertId ?? Number.NaN;
    this.createdAt[row] = d.createdAt;
    this.until[row] = d.until;
    this.deletedAt[row] = d.deletedAt ?? Number.NaN;
    this.simulated[row] = d.simulated ? 1 : 0;
    // Before coding this row's strings: a compaction in between would renumber codes already given.
    if (this.#strings.length >= 2 * this.#stringsCompacted + 1024) this.#compactStrings();
    this.#origin[row] = this.#code(d.origin);
    this.#type[row] = this.#code(d.type);
    this.#scope[row] = this.#code(d.scope);
    this.#scenario[row] = this.#code(d.scenario);
    this.#values[row] = valueFormatted ? undefined : d.value;
    if (this.#keepAll) this.#objects[row] = d;
    else if (this.#objects[row] !== undefined) {
      this.#objects[row] = undefined;
      this.#objectCount--;
    }
  }

  /** How many shared strings the table holds (tests: it stays bounded). */
  get sharedStrings(): number {
    return this.#strings.length;
  }

  originOf(row: number): string {
    return this.#strings[this.#origin[row]!]!;
  }

  typeOf(row: number): string {
    return this.#strings[this.#type[row]!]!;
  }

  scopeOf(row: number): string {
    return this.#strings[this.#scope[row]!]!;
  }

  scenarioOf(row: number): string {
    return this.#strings[this.#scenario[row]!]!;
  }

  /** Whether the row keeps its value as text (false: formatValue writes it). */
  hasValueText(row: number): boolean {
    return this.#values[row] !== undefined;
  }

  valueOf(row: number): string {
    return this.#values[row] ?? this.formatValue(row);
  }

  /** Marks a row as no longer holding a decision; `release` later makes it reusable. */
  retire(row: number): void {
    this.live[row] = 0;
    if (this.#objects[row] !== undefined) {
      this.#objects[row] = undefined;
      if (!this.#keepAll) this.#objectCount--;
    }
    this.#values[row] = undefined;
  }

  /** Rows retired earlier that no list names any more. */
  release(rows: readonly number[]): void {
    for (const r of rows) this.#free.push(r);
  }

  /** The decision in a row; `cache`: keep the object for the next lookup of it. */
  decision(row: number, cache: boolean): Decision {
    const kept = this.#objects[row];
    if (kept !== undefined) return kept;
    const alertId = this.alertId[row]!;
    const deletedAt = this.deletedAt[row]!;
    const d: Decision = {
      id: this.id[row]!,
      alertId: Number.isNaN(alertId) ? null : alertId,
      origin: this.originOf(row),
      type: this.typeOf(row),
      scope: this.scopeOf(row),
      value: this.valueOf(row),
      scenario: this.scenarioOf(row),
      createdAt: this.createdAt[row]!,
      until: this.until[row]!,
      deletedAt: Number.isNaN(deletedAt) ? null : deletedAt,
      simulated: this.simulated[row] === 1,
    };
    if (cache) {
      // Bounded: a scan of many addresses does not end up holding every decision as an object.
      if (this.#objectCount >= 100_000) {
        this.#objects = [];
        this.#objectCount = 0;
      }
      this.#objects[row] = d;
      this.#objectCount++;
    }
    return d;
  }

  #code(s: string): number {
    const known = this.#codes.get(s);
    if (known !== undefined) return known;
    const code = this.#strings.length;
    if (code === 65_536) {
      this.#origin = Uint32Array.from(this.#origin);
      this.#type = Uint32Array.from(this.#type);
      this.#scope = Uint32Array.from(this.#scope);
      this.#scenario = Uint32Array.from(this.#scenario);
    }
    this.#strings.push(s);
    this.#codes.set(s, code);
    return code;
  }

  /** Drops the strings no live row uses and renumbers the rest (a long run of distinct scenarios must not grow the table for ever). */
  #compactStrings(): void {
    const columns = [this.#origin, this.#type, this.#scope, this.#scenario];
    const renumber = new Int32Array(this.#strings.length).fill(-1);
    const strings: string[] = [];
    for (let row = 0; row < this.used; row++) {
      if (this.live[row] !== 1) continue;
      for (const c of columns) {
        const old = c[row]!;
        if (renumber[old] === -1) {
          renumber[old] = strings.length;
          strings.push(this.#strings[old]!);
        }
        c[row] = renumber[old]!;
      }
    }
    this.#strings = strings;
    this.#codes = new Map(strings.map((s, i) => [s, i]));
    this.#stringsCompacted = strings.length;
  }

  #grow(capacity: number): void {
    const grow64 = (a: Float64Array) => {
      const b = new Float64Array(capacity);
      b.set(a);
      return b;
    };
    const grow8 = (a: Uint8Array) => {
      const b = new Uint8Array(capacity);
      b.set(a);
      return b;
    };
    const growCodes = (a: Codes): Codes => {
      const b = a instanceof Uint16Array ? new Uint16Array(capacity) : new Uint32Array(capacity);
      b.set(a);
      return b;
    };
    this.id = grow64(this.id);
    this.alertId = grow64(this.alertId);
    this.createdAt = grow64(this.createdAt);
    this.until = grow64(this.until);
    this.deletedAt = grow64(this.deletedAt);
    this.simulated = grow8(this.simulated);
    this.live = grow8(this.live);
    this.#origin = growCodes(this.#origin);
    this.#type = growCodes(this.#type);
    this.#scope = growCodes(this.#scope);
    this.#scenario = growCodes(this.#scenario);
  }
}

/** A growable list of row numbers (an Int32Array and a length). */
export class RowList {
  rows = new Int32Array(16);
  length = 0;

  reserve(count: number): void {
    if (count <= this.rows.length) return;
    const bigger = new Int32Array(count);
    bigger.set(this.rows.subarray(0, this.length));
    this.rows = bigger;
  }

  push(row: number): void {
    if (this.length === this.rows.length) {
      const bigger = new Int32Array(this.rows.length * 2);
      bigger.set(this.rows);
      this.rows = bigger;
    }
    this.rows[this.length++] = row;
  }

  /** Keeps the rows `keep` accepts, in order. */
  filter(keep: (row: number) => boolean): void {
    let n = 0;
    for (let i = 0; i < this.length; i++) {
      const r = this.rows[i]!;
      if (keep(r)) this.rows[n++] = r;
    }
    this.length = n;
  }

  /** Drops the first `count` rows. */
  dropFirst(count: number): void {
    this.rows.copyWithin(0, count, this.length);
    this.length -= count;
  }

  sort(compare: (a: number, b: number) => number): void {
    // Through a plain array: its TimSort is near linear on a mostly sorted list (the usual re-sort).
    const plain = Array.from(this.rows.subarray(0, this.length));
    plain.sort(compare);
    this.rows.set(plain);
  }
}
