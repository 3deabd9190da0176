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
 * Storage is columnar (decision-rows.ts): one row per decision in typed arrays, no object per
 * decision, so 1M decisions fit in ~200 MB and load without a million allocations; the few
 * decisions an answer holds are made as objects when asked for.
 *
 * Parts: family-index.ts (one address family), net-table.ts (its hash tables), decision-rows.ts
 * (the rows), until-order.ts (the rows by until).
 */
import type { Decision } from '../model/records.ts';
import type { IpAddress, IpFamily, IpRange } from '../../lib/ip.ts';
import { formatWords, tryParseInterval } from '../../lib/ip.ts';
import { DecisionRows } from './decision-rows.ts';
import { FamilyIndex, type NetColumns } from './family-index.ts';
import { IdTable, ValueTable } from './row-tables.ts';
import { UntilOrder } from './until-order.ts';

/** A match as the index holds it: the decision and its type (kept beside it for ranking). */
export interface IndexMatch {
  readonly decision: Decision;
  readonly type: string;
}

/** An address, or a network with its prefix length: how a value the index can write back looks (canonical, host bits clear). */
function formatInterval(family: IpFamily, words: readonly number[], prefixLength: number): string {
  const text = formatWords(family, words);
  return prefixLength === (family === 4 ? 32 : 128) ? text : text + '/' + prefixLength;
}

function isIpScope(scope: string): boolean {
  const s = scope.toLowerCase();
  return s === 'ip' || s === 'range';
}

export interface DecisionIndexOptions {
  /**
   * Keep only what address lookups need (a bouncer's cache): no value map and no by-address order,
   * so byValue() and insideRange() are unavailable, and decisions that take no part in IP matching
   * are not kept at all. Saves memory per decision.
   */
  lookupOnly?: boolean;
}

/** Retired rows waiting for a sweep of the ordered lists before they are reused. */
const SWEEP_AFTER = 1024;

export class DecisionIndex {
  private readonly rows: DecisionRows;
  private readonly nets: NetColumns;
  /** Per row: 0 (no IP matching), 4 or 6. */
  private netFamily = new Uint8Array(0);
  private readonly byId: IdTable;
  /** The first row with a value; the others follow nextSameValue. Not kept when lookup-only. */
  private readonly byValueHead: ValueTable;
  private nextSameValue = new Int32Array(0);
  private readonly v4: FamilyIndex;
  private readonly v6: FamilyIndex;
  private readonly lookupOnly: boolean;
  private readonly byUntil: UntilOrder;
  /** Rows retired since the last sweep: reused only once no ordered list names them. */
  private retired: number[] = [];

  constructor(options: DecisionIndexOptions = {}) {
    this.lookupOnly = options.lookupOnly === true;
    this.rows = new DecisionRows(this.lookupOnly);
    this.rows.formatValue = (row) => this.formatNetwork(row);
    this.byUntil = new UntilOrder(this.rows);
    const ids = this.rows;
    this.byId = new IdTable((row) => ids.id[row]!);
    this.byValueHead = new ValueTable((row) => this.rows.valueOf(row));
    this.nets = { rows: this.rows, words: new Int32Array(0), prefix: new Uint8Array(0), next: new Int32Array(0) };
    this.v4 = new FamilyIndex(32, !this.lookupOnly, this.nets);
    this.v6 = new FamilyIndex(128, !this.lookupOnly, this.nets);
  }

  /**
   * Insert or replace by id (a soft delete arrives as an upsert with a new `until`). Returns whether
   * the decision takes part in IP matching (scope Ip or Range with a parsable value).
   */
  upsert(d: Decision): boolean {
    const old = this.byId.get(d.id);
    if (old !== undefined && this.rows.valueOf(old) === d.value && (this.netFamily[old] !== 0) === isIpScope(d.scope)) {
      // Same value, same role: the network stands; only the row and maybe its order change.
      if (this.rows.until[old] !== d.until) this.byUntil.untilChanging();
      this.rows.set(old, d, !this.rows.hasValueText(old));
      return this.netFamily[old] !== 0;
    }
    if (old !== undefined) this.detach(old);
    const net = isIpScope(d.scope) ? tryParseInterval(d.value) : null;
    if (net === null && this.lookupOnly) return false;
    const row = this.rows.add(d, net !== null && formatInterval(net.family, net.first, net.prefixLength) === d.value);
    if (row >= this.netFamily.length) this.grow(this.rows.id.length);
    this.byId.set(d.id, row);
    // Rows on a network are found by value through their network (sameValueOnNetwork): only the others are in the value table.
    if (!this.lookupOnly && net === null) {
      this.nextSameValue[row] = this.byValueHead.setHead(d.value, row);
    }
    this.byUntil.add(row);
    if (net === null) {
      this.netFamily[row] = 0;
      return false;
    }
    this.netFamily[row] = net.family;
    this.nets.prefix[row] = net.prefixLength;
    const k = row << 2;
    const w = this.nets.words;
    for (let i = 0; i < 4; i++) w[k + i] = i < net.first.length ? net.first[i]! | 0 : 0;
    this.family(net.family).add(row);
    return true;
  }

  /**
   * Makes room for `count` more decisions at once: a first load of 1M sizes its columns and tables
   * once instead of doubling them twenty times (the copies' freed memory stays with the process).
   */
  reserve(count: number): void {
    const total = this.byId.size + count;
    this.rows.reserve(total);
    if (total > this.netFamily.length) this.grow(this.rows.id.length);
    this.byId.reserve(total);
    this.byUntil.reserve(total);
  }

  remove(id: number): void {
    const row = this.byId.get(id);
    if (row !== undefined) this.detach(row);
  }

  get(id: number): Decision | undefined {
    const row = this.byId.get(id);
    return row === undefined ? undefined : this.rows.decision(row, false);
  }

  get size(): number {
    return this.byId.size;
  }

  /** Active (until > now) decisions whose interval contains the address: Ip decisions equal to it and Range decisions containing it. */
  matchIp(ip: IpAddress, now: number): Decision[] {
    const found: number[] = [];
    const fam = this.family(ip.family);
    fam.collectContaining(ip.words, fam.bits, now, found);
    return this.decisionsOf(found, true);
  }

  /**
   * The one active decision that applies to an address, for a bouncer: among the Ip and Range
   * decisions containing it, the one whose type `rank` puts highest (ban before captcha), ties going to the
   * longest-lasting. `words` are the address's unsigned words (one for IPv4, four for IPv6), e.g.
   * from parseIpInto.
   */
  strongestMatch(family: IpFamily, words: ArrayLike<number>, now: number, rank: (type: string) => number): Decision | undefined {
    return this.strongestEntry(family, words, now, rank)?.decision;
  }

  /** strongestMatch, with the winner's type beside its decision. */
  strongestEntry(family: IpFamily, words: ArrayLike<number>, now: number, rank: (type: string) => number): IndexMatch | undefined {
    const row =
      family === 4
        ? this.v4.strongestContaining(words[0]! | 0, 0, 0, 0, now, rank)
        : this.v6.strongestContaining(words[0]! | 0, words[1]! | 0, words[2]! | 0, words[3]! | 0, now, rank);
    if (row === -1) return undefined;
    const decision = this.rows.decision(row, true);
    return { decision, type: decision.type };
  }

  /** contains=true semantics: active decisions whose interval contains the whole queried range. */
  containingRange(r: IpRange | IpAddress, now: number): Decision[] {
    const found: number[] = [];
    const fam = this.family(r.family);
    if (r.kind === 'address') fam.collectContaining(r.words, fam.bits, now, found);
    else fam.collectContaining(r.first, r.prefixLength, now, found);
    return this.decisionsOf(found, true);
  }

  /** contains=false semantics: active decisions whose interval lies inside the queried range. */
  insideRange(r: IpRange | IpAddress, now: number): Decision[] {
    if (this.lookupOnly) throw new Error('DecisionIndex: insideRange() needs an index built without lookupOnly');
    const found: number[] = [];
    const fam = this.family(r.family);
    if (r.kind === 'address') fam.collectInside(r.words, r.words, now, found);
    else fam.collectInside(r.first, r.last, now, found);
    return this.decisionsOf(found, false);
  }

  /** Active decisions with exactly this value (any scope), case-sensitive. */
  byValue(value: string, now: number): Decision[] {
    if (this.lookupOnly) throw new Error('DecisionIndex: byValue() needs an index built without lookupOnly');
    const found: number[] = [];
    const { until } = this.rows;
    for (let r = this.byValueHead.get(value); r !== -1; r = this.nextSameValue[r]!) if (until[r]! > now) found.push(r);
    this.sameValueOnNetwork(value, (r) => {
      if (until[r]! > now) found.push(r);
    });
    return this.decisionsOf(found, false);
  }

  /** How many decisions (active or not yet pruned) have exactly this value: 1 means no other to dedup against. */
  valueCount(value: string): number {
    if (this.lookupOnly) throw new Error('DecisionIndex: valueCount() needs an index built without lookupOnly');
    let n = 0;
    for (let r = this.byValueHead.get(value); r !== -1; r = this.nextSameValue[r]!) n++;
    this.sameValueOnNetwork(value, () => n++);
    return n;
  }

  /** All active decisions. */
  active(now: number): Decision[] {
    const list = this.byUntil.ordered();
    const out: Decision[] = [];
    for (let i = this.byUntil.firstActive(now); i < list.length; i++) out.push(this.rows.decision(list.rows[i]!, false));
    return out;
  }

  /**
   * The active decisions at `now` in (until, id) order, made as objects only when read (a startup
   * body built in slices over 1M decisions holds one slice of objects at a time). A decision that
   * changed or went after the list was taken reads as undefined.
   */
  activeList(now: number): { readonly length: number; at(i: number): Decision | undefined; alone(i: number): boolean } {
    const list = this.byUntil.ordered();
    const from = this.byUntil.firstActive(now);
    const rows = list.rows.slice(from, list.length);
    // Plain loops: a callback per row would hold the event loop ~50 ms at 1M.
    const ids = new Float64Array(rows.length);
    const until = new Float64Array(rows.length);
    for (let i = 0; i < rows.length; i++) {
      ids[i] = this.rows.id[rows[i]!]!;
      until[i] = this.rows.until[rows[i]!]!;
    }
    return {
      length: rows.length,
      at: (i: number) => {
        const r = rows[i]!;
        const same = this.rows.live[r] === 1 && this.rows.id[r] === ids[i] && this.rows.until[r] === until[i];
        return same ? this.rows.decision(r, false) : undefined;
      },
      alone: (i: number) => this.aloneWithValue(rows[i]!),
    };
  }

  /** How many decisions are active (a gauge: no list is built). */
  activeCount(now: number): number {
    return this.byUntil.activeCount(now);
  }

  /** Forget decisions with until <= now (memory hygiene); returns how many. */
  pruneExpired(now: number): number {
    // They are a prefix of the ordered list: cut off there instead of left to a sweep (first,
    // since detaching may sweep the list).
    const expired = this.byUntil.takeExpired(now);
    for (let i = 0; i < expired.length; i++) this.detach(expired[i]!, false);
    return expired.length;
  }

  /**
   * Whether a row is the only one with its value (valueCount(value) === 1): a row alone on its
   * network is, without writing its value (a startup body asks this of 1M rows).
   */
  private aloneWithValue(row: number): boolean {
    const fam = this.netFamily[row]!;
    if (fam !== 0 && this.nets.next[row] === -1) {
      const w = this.nets.words;
      const k = row << 2;
      const table = this.family(fam === 4 ? 4 : 6).tables[this.nets.prefix[row]!]!;
      // Alone on its network, and no decision of another scope (the value table) has its text.
      if (table.get(w[k]!, w[k + 1]!, w[k + 2]!, w[k + 3]!) === row) return this.byValueHead.size === 0 || this.byValueHead.get(this.rows.valueOf(row)) === -1;
    }
    return this.valueCount(this.rows.valueOf(row)) === 1;
  }

  /** Calls `fn` with each row on the network `value` names whose value is exactly `value` ("10.0.0.7/24" and "10.0.0.0/24" share a network). */
  private sameValueOnNetwork(value: string, fn: (row: number) => void): void {
    const net = tryParseInterval(value);
    if (net === null) return;
    const table = this.family(net.family).tables[net.prefixLength];
    if (table === undefined) return;
    const f = net.first;
    const head = net.family === 4 ? table.get(f[0]! | 0, 0, 0, 0) : table.get(f[0]! | 0, f[1]! | 0, f[2]! | 0, f[3]! | 0);
    if (head === -1) return;
    // Rows kept without their value text hold the network's own text: written once here, not per row.
    const isNetworkText = formatInterval(net.family, net.first, net.prefixLength) === value;
    const rows = this.rows;
    for (let r = head; r !== -1; r = this.nets.next[r]!) {
      if (rows.hasValueText(r) ? rows.valueOf(r) === value : isNetworkText) fn(r);
    }
  }

  /** A row's network as text (rows whose value is that text keep no copy of it: decision-rows.ts). */
  private formatNetwork(row: number): string {
    const family: IpFamily = this.netFamily[row] === 4 ? 4 : 6;
    const w = this.nets.words;
    const k = row << 2;
    const words = family === 4 ? [w[k]! >>> 0] : [w[k]! >>> 0, w[k + 1]! >>> 0, w[k + 2]! >>> 0, w[k + 3]! >>> 0];
    return formatInterval(family, words, this.nets.prefix[row]!);
  }

  private family(f: IpFamily): FamilyIndex {
    return f === 4 ? this.v4 : this.v6;
  }

  /** Rows as decisions ordered by (until, id). */
  private decisionsOf(found: number[], cache: boolean): Decision[] {
    if (found.length > 1) found.sort(this.byUntil.compare);
    const out = new Array<Decision>(found.length);
    for (let i = 0; i < found.length; i++) out[i] = this.rows.decision(found[i]!, cache);
    return out;
  }

  private grow(capacity: number): void {
    const nets = this.nets;
    const words = new Int32Array(capacity * 4);
    words.set(nets.words);
    nets.words = words;
    const prefix = new Uint8Array(capacity);
    prefix.set(nets.prefix);
    nets.prefix = prefix;
    const next = new Int32Array(capacity);
    next.set(nets.next);
    nets.next = next;
    const family = new Uint8Array(capacity);
    family.set(this.netFamily);
    this.netFamily = family;
    if (!this.lookupOnly) {
      const sameValue = new Int32Array(capacity);
      sameValue.set(this.nextSameValue);
      this.nextSameValue = sameValue;
    }
  }

  /** Unlinks a row everywhere and retires it; `inByUntil` = it stays in byUntil until a sweep. */
  private detach(row: number, inByUntil = true): void {
    const rows = this.rows;
    this.byId.delete(rows.id[row]!);
    if (!this.lookupOnly && this.netFamily[row] === 0) {
      const value = rows.valueOf(row);
      const head = this.byValueHead.get(value);
      const next = this.nextSameValue[row]!;
      if (head === row) {
        if (next === -1) this.byValueHead.delete(value);
        else this.byValueHead.setHead(value, next);
      } else {
        for (let r = head; r !== -1; r = this.nextSameValue[r]!) {
          if (this.nextSameValue[r] === row) {
            this.nextSameValue[r] = next;
            break;
          }
        }
      }
    }
    const fam = this.netFamily[row]!;
    if (fam !== 0) this.family(fam === 4 ? 4 : 6).delete(row);
    rows.retire(row);
    this.retired.push(row);
    if (inByUntil) this.byUntil.retired();
    if (this.retired.length > SWEEP_AFTER && this.retired.length * 2 > this.byId.size) this.sweep();
  }

  /** Drops retired rows from every ordered list, then lets them be reused. */
  private sweep(): void {
    const live = this.rows.live;
    const isLive = (r: number) => live[r] === 1;
    this.byUntil.sweep(isLive);
    this.v4.sweep(isLive);
    this.v6.sweep(isLive);
    this.rows.release(this.retired);
    this.retired = [];
  }
}
