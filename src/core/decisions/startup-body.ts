/**
 * A startup stream's body, serialized once per store revision and set of stream filters and shared
 * by every bouncer that asks: at 1M decisions, picking the longest decision per value and writing
 * each decision's JSON is seconds of work that twenty bouncers starting at once must not repeat.
 *
 * What it holds is independent of the time of the request: the decisions a startup sends (after
 * dedup and the filters) ordered by (until, id), each as the bytes after its `duration`. A request
 * at `now` splits that list at the first `until > now` (what expired is `deleted`, the rest `new`,
 * each still ordered by (until, id), as the store and the index order them) and formats only the
 * durations. So the answer is the one computed afresh at `now` from the same decisions.
 */
import type { Decision } from '../model/records.ts';
import { formatGoDuration } from '../../lib/duration.ts';
import { matchesStream, type StreamQuery } from './query.ts';

export interface StartupBody {
  /** Decisions held. */
  readonly count: number;
  /** Each decision's expiry, ascending (ties in id order). */
  readonly untils: Float64Array;
  /**
   * Decision i's JSON after its duration (`,"id":…}`) is bytes [starts[i], ends[i]) of the
   * segments laid end to end, each segment SEGMENT bytes apart (a tail never straddles two).
   */
  readonly starts: Uint32Array;
  readonly ends: Uint32Array;
  readonly segments: readonly Buffer[];
}

/** Tails are written into buffers of this size: no copy of a 100 MB buffer to grow it. */
const SEGMENT = 8 << 20;

/** Copies decision i's tail into `buf` at `at`; returns the bytes copied. */
function copyTail(body: StartupBody, i: number, buf: Buffer, at: number): number {
  const start = body.starts[i]!;
  const seg = Math.floor(start / SEGMENT);
  const base = seg * SEGMENT;
  return body.segments[seg]!.copy(buf, at, start - base, body.ends[i]! - base);
}

function tailText(body: StartupBody, i: number): string {
  const start = body.starts[i]!;
  const seg = Math.floor(start / SEGMENT);
  const base = seg * SEGMENT;
  return body.segments[seg]!.toString('utf8', start - base, body.ends[i]! - base);
}

/** The active decisions, as the index hands them out: in (until, id) order, made as objects slice by slice. */
export interface ActiveDecisions {
  readonly length: number;
  /** Decision i, or undefined when it changed since the list was taken (a later revision sends it). */
  at(i: number): Decision | undefined;
  /** Whether decision i (as `at` returned it) is the only one the index holds with its value: valueCount's answer 1, found without its text. */
  alone?(i: number): boolean;
}

/** What the index knows about the active decisions, for the dedup. */
export interface ActiveByValue {
  /** How many decisions the index holds with this value (active or not yet pruned). */
  valueCount(value: string): number;
  /** Its active decisions with this value. */
  byValue(value: string, now: number): readonly Decision[];
}

/** Decisions handled between two pauses of the build (a few ms). */
const SLICE = 2_000;

/**
 * Builds the body from the index's active decisions at `now` (ordered by until, id) and the
 * stored expired ones, yielding between slices. Dedup is CrowdSec's longest decision per (value,
 * type, scope) over both lists (query.ts longestPerValue); a value the index holds once and no
 * expired decision shares is kept without grouping, so 1M single-decision values cost 1M lookups.
 */
export function* buildStartupBody(
  active: ActiveDecisions | readonly Decision[],
  expired: readonly Decision[],
  index: ActiveByValue,
  q: StreamQuery,
  now: number,
): Generator<void, StartupBody> {
  const expiredByValue = new Map<string, Decision[]>();
  if (q.dedup) {
    for (const d of expired) {
      const g = expiredByValue.get(d.value);
      if (g === undefined) expiredByValue.set(d.value, [d]);
      else g.push(d);
    }
  }
  // Scopes and the other filtered fields are a few shared strings: the filters' verdict is kept
  // per (scope, origin, scenario) seen last, so 1M decisions of one import are matched once.
  let lastScope = '';
  let lastOrigin = '';
  let lastScenario = '';
  let lastMatch = false;
  const matches = (d: Decision): boolean => {
    if (d.scope !== lastScope || d.origin !== lastOrigin || d.scenario !== lastScenario) {
      lastScope = d.scope;
      lastOrigin = d.origin;
      lastScenario = d.scenario;
      lastMatch = matchesStream(d, q);
    }
    return lastMatch;
  };
  const alone = !Array.isArray(active) ? (active as ActiveDecisions).alone?.bind(active) : undefined;
  /** `at`: the decision's place in the active list (-1: an expired one). */
  const keep = (d: Decision, at: number): boolean => {
    if (d.simulated || !matches(d)) return false;
    if (!q.dedup) return true;
    const sameExpired = expiredByValue.get(d.value);
    if (at >= 0 && sameExpired === undefined && (alone !== undefined ? alone(at) : index.valueCount(d.value) === 1)) return true;
    let longest = Number.NEGATIVE_INFINITY;
    const note = (o: Decision) => {
      if (o.type === d.type && o.scope === d.scope && o.until > longest) longest = o.until;
    };
    for (const o of index.byValue(d.value, now)) note(o);
    if (sameExpired !== undefined) for (const o of sameExpired) note(o);
    return d.until >= longest;
  };

  const out = new BodyWriter(expired.length + active.length);
  for (let i = 0; i < expired.length; i++) {
    if (keep(expired[i]!, -1)) out.add(expired[i]!);
    if (i % SLICE === SLICE - 1) yield;
  }
  const activeAt = Array.isArray(active) ? (i: number) => (active as readonly Decision[])[i] : (i: number) => (active as ActiveDecisions).at(i);
  for (let i = 0; i < active.length; i++) {
    const d = activeAt(i);
    if (d !== undefined && keep(d, i)) out.add(d);
    if (i % SLICE === SLICE - 1) yield;
  }
  return out.finish();
}

/** Serializes the chosen decisions as they come (expired, then active: already in order but for a race). */
class BodyWriter {
  #count = 0;
  #untils: Float64Array;
  #ids: Float64Array;
  #starts: Uint32Array;
  #ends: Uint32Array;
  readonly #segments: Buffer[] = [];
  #segment: Buffer | undefined;
  #at = 0;
  #ordered = true;

  constructor(capacity: number) {
    this.#untils = new Float64Array(capacity);
    this.#ids = new Float64Array(capacity);
    this.#starts = new Uint32Array(capacity);
    this.#ends = new Uint32Array(capacity);
  }

  add(d: Decision): void {
    const i = this.#count++;
    if (i > 0 && (this.#untils[i - 1]! > d.until || (this.#untils[i - 1] === d.until && this.#ids[i - 1]! > d.id))) this.#ordered = false;
    this.#untils[i] = d.until;
    this.#ids[i] = d.id;
    const tail = decisionTail(d);
    // At most 3 bytes per UTF-16 unit: start a new segment when it might not fit.
    const room = tail.length * 3;
    if (this.#segment === undefined || this.#at + room > SEGMENT) {
      // Values and scenarios are capped far below this (config/listener-limits.ts body caps).
      if (room > SEGMENT) throw new Error(`a decision of ${room} bytes of JSON: larger than a startup body segment`);
      if (this.#segment !== undefined) this.#segments[this.#segments.length - 1] = this.#segment.subarray(0, this.#at);
      this.#segment = Buffer.allocUnsafe(SEGMENT);
      this.#segments.push(this.#segment);
      this.#at = 0;
    }
    const start = (this.#segments.length - 1) * SEGMENT + this.#at;
    this.#at += this.#segment.write(tail, this.#at, 'utf8');
    this.#starts[i] = start;
    this.#ends[i] = (this.#segments.length - 1) * SEGMENT + this.#at;
  }

  finish(): StartupBody {
    const n = this.#count;
    // The last segment trimmed to what it holds (a view: the rest of it is not copied).
    if (this.#segment !== undefined) this.#segments[this.#segments.length - 1] = this.#segment.subarray(0, this.#at);
    let untils = this.#untils.subarray(0, n);
    let starts = this.#starts.subarray(0, n);
    let ends = this.#ends.subarray(0, n);
    if (!this.#ordered) {
      // A decision changed between the index's refresh and the store read: put them in order.
      const ids = this.#ids;
      const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => untils[a]! - untils[b]! || ids[a]! - ids[b]!);
      untils = Float64Array.from(order, (i) => this.#untils[i]!);
      starts = Uint32Array.from(order, (i) => this.#starts[i]!);
      ends = Uint32Array.from(order, (i) => this.#ends[i]!);
    }
    return { count: n, untils: untils.slice(), starts: starts.slice(), ends: ends.slice(), segments: this.#segments };
  }
}

/** JSON of origin, scenario, scope and type: a few distinct strings shared by many decisions. */
const quoted = new Map<string, string>();
function quote(s: string): string {
  let q = quoted.get(s);
  if (q === undefined) {
    q = JSON.stringify(s);
    if (quoted.size < 10_000) quoted.set(s, q);
  }
  return q;
}

/** The part of a decision's JSON after `duration`, as wire.ts writes it. */
export function decisionTail(d: Decision): string {
  return ',"id":' + d.id + middleOf(d) + ',"value":' + JSON.stringify(d.value) + '}';
}

/** `,"origin":…,"type":…` of the last decision seen: the same for every decision of an import. */
let middle = { origin: '', scenario: '', scope: '', type: '', text: '' };
function middleOf(d: Decision): string {
  const m = middle;
  if (d.origin === m.origin && d.scenario === m.scenario && d.scope === m.scope && d.type === m.type && m.text !== '') return m.text;
  const text = ',"origin":' + quote(d.origin) + ',"scenario":' + quote(d.scenario) + ',"scope":' + quote(d.scope) + ',"type":' + quote(d.type);
  middle = { origin: d.origin, scenario: d.scenario, scope: d.scope, type: d.type, text };
  return text;
}

/** How many of the body's decisions have expired at `now` (they are sent as `deleted`). */
export function expiredCount(body: StartupBody, now: number): number {
  const { untils } = body;
  let lo = 0;
  let hi = body.count;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (untils[mid]! > now) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * The same body as one string (small bodies: a string on V8's heap is young garbage, where 10k
 * bouncers' small buffers outside it raised the peak RSS, see server/decision-routes.ts).
 */
export function startupBodyJson(body: StartupBody, now: number): string {
  const split = expiredCount(body, now);
  const part = (from: number, to: number): string => {
    if (from === to) return 'null';
    const items = new Array<string>(to - from);
    for (let i = from; i < to; i++) {
      items[i - from] = '{"duration":"' + formatGoDuration(body.untils[i]! - now) + '"' + tailText(body, i);
    }
    return '[' + items.join(',') + ']';
  };
  return '{"deleted":' + part(0, split) + ',"new":' + part(split, body.count) + '}';
}

const HEAD = Buffer.from('{"duration":"');

/**
 * The body at `now`, in pieces of at most `perChunk` decisions, the bytes wire.ts streamJson
 * would write for the same decisions. Durations repeat across decisions that expire together
 * (an import shares one `until`): the last one formatted is reused.
 */
export function* startupBodyChunks(body: StartupBody, now: number, perChunk: number, alloc: (size: number) => Buffer = Buffer.allocUnsafe): Generator<Buffer> {
  const split = expiredCount(body, now);
  yield* arrayChunks(body, '{"deleted":', 0, split, now, perChunk, alloc);
  yield* arrayChunks(body, ',"new":', split, body.count, now, perChunk, alloc);
  yield Buffer.from('}');
}

/** `alloc(size)`: a buffer of at least `size` bytes (a writer may hand back one the socket is done with). */
function* arrayChunks(
  body: StartupBody,
  prefix: string,
  from: number,
  to: number,
  now: number,
  perChunk: number,
  alloc: (size: number) => Buffer,
): Generator<Buffer> {
  if (from === to) {
    // CrowdSec never sends `[]` (crowdsec-wire-protocol.md §7.1).
    yield Buffer.from(prefix + 'null');
    return;
  }
  const { untils, starts, ends } = body;
  let lastUntil = Number.NaN;
  let duration = '';
  let durationBytes = 0;
  for (let start = from; start < to; start += perChunk) {
    const end = Math.min(to, start + perChunk);
    const first = start === from;
    const last = end === to;
    // Sizes first (durations cached per until), then one buffer of the exact size.
    let size = (first ? prefix.length : 0) + 1 + (last ? 1 : 0) + (end - start - 1);
    for (let i = start; i < end; i++) {
      if (untils[i] !== lastUntil) {
        lastUntil = untils[i]!;
        duration = formatGoDuration(lastUntil - now);
        durationBytes = Buffer.byteLength(duration);
      }
      size += HEAD.length + durationBytes + 1 + ends[i]! - starts[i]!;
    }
    const buf = alloc(size);
    let at = first ? buf.write(prefix, 0, 'latin1') : 0;
    buf[at++] = first ? 0x5b : 0x2c; // [ or ,
    lastUntil = Number.NaN;
    for (let i = start; i < end; i++) {
      if (i > start) buf[at++] = 0x2c;
      at += HEAD.copy(buf, at);
      if (untils[i] !== lastUntil) {
        lastUntil = untils[i]!;
        duration = formatGoDuration(lastUntil - now);
      }
      at += buf.write(duration, at, 'utf8');
      buf[at++] = 0x22; // "
      at += copyTail(body, i, buf, at);
    }
    if (last) buf[at++] = 0x5d; // ]
    yield buf.length === at ? buf : buf.subarray(0, at);
  }
}
