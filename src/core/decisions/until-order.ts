import { type DecisionRows, RowList } from './decision-rows.ts';

/**
 * The index's rows ordered by (until, id): "which decisions are active at `now`" is then a binary
 * search (active lists, the active count, pruning expired rows). Kept lazily: a row that comes out
 * of order, or whose until changes, marks the order unsorted; a retired row marks it stale; both
 * are repaired when the order is next read (TimSort makes a mostly sorted re-sort near linear).
 */
export class UntilOrder {
  readonly #list = new RowList();
  #sorted = true;
  /** Retired rows still in the list. */
  #stale = 0;
  readonly #rows: DecisionRows;

  constructor(rows: DecisionRows) {
    this.#rows = rows;
  }

  readonly compare = (a: number, b: number): number => {
    const { until, id } = this.#rows;
    return until[a]! - until[b]! || id[a]! - id[b]!;
  };

  reserve(total: number): void {
    this.#list.reserve(total);
  }

  /** A new row: appended in order (an import: one until, ascending ids), the list stays sorted without a sort. */
  add(row: number): void {
    const list = this.#list;
    if (this.#sorted && list.length > 0 && this.compare(list.rows[list.length - 1]!, row) > 0) this.#sorted = false;
    list.push(row);
  }

  /** A row's until is about to change. */
  untilChanging(): void {
    this.#sorted = false;
  }

  /** A row in the list was retired: dropped at the next read or sweep. */
  retired(): void {
    this.#stale++;
  }

  /** Drops every row `isLive` refuses (the index's sweep). */
  sweep(isLive: (row: number) => boolean): void {
    this.#list.filter(isLive);
    this.#stale = 0;
  }

  /** Live rows ordered by (until, id). */
  ordered(): RowList {
    if (this.#stale > 0) this.sweep((r) => this.#rows.live[r] === 1);
    if (!this.#sorted) {
      this.#list.sort(this.compare);
      this.#sorted = true;
    }
    return this.#list;
  }

  /** Position of the first row with until > now in the ordered list. */
  firstActive(now: number): number {
    const list = this.ordered();
    const { until } = this.#rows;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (until[list.rows[mid]!]! > now) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** How many rows are active, without sorting an unsorted list just to count them. */
  activeCount(now: number): number {
    if (this.#sorted) return this.ordered().length - this.firstActive(now);
    // Out of order (an import older than the decisions before it): counted, not sorted. A scrape
    // sorting 250k rows just to count them held pulls ~20 ms (issue 27 item 5); this is ~1 ms.
    const { live, until } = this.#rows;
    const list = this.#list;
    let n = 0;
    for (let i = 0; i < list.length; i++) {
      const r = list.rows[i]!;
      if (live[r] === 1 && until[r]! > now) n++;
    }
    return n;
  }

  /** Takes the expired rows (until <= now) off the front of the order and returns them. */
  takeExpired(now: number): Int32Array {
    const end = this.firstActive(now);
    const expired = this.#list.rows.slice(0, end);
    if (end > 0) this.#list.dropFirst(end);
    return expired;
  }
}
