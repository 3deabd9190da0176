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
  /** tails[offsets[i], offsets[i + 1]): decision i's JSON after its duration (`,"id":…}`). */
  readonly offsets: Uint32Array;
  readonly tails: Buffer;
}

/** What the index knows about the active decisions, for the dedup. */
export interface ActiveByValue {
  /** How many decisions the index holds with this value (active or not yet pruned). */
  valueCount(value: string): number;
  /** Its active decisions with this value. */
  byValue(value: string, now: number): readonly Decision[];
}

/** Decisions handled between two pauses of the build (a few ms). */
const SLICE = 10_000;

const byUntilThenId = (a: Decision, b: Decision): number => a.until - b.until || a.id - b.id;

/**
 * Builds the body from the index's active decisions at `now` (ordered by until, id) and the
 * stored expired ones, yielding between slices. Dedup is CrowdSec's longest decision per (value,
 * type, scope) over both lists (query.ts longestPerValue); a value the index holds once and no
 * expired decision shares is kept without grouping, so 1M single-decision values cost 1M lookups.
 */
export function* buildStartupBody(
  active: readonly Decision[],
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
  const keep = (d: Decision, isActive: boolean): boolean => {
    if (d.simulated || !matchesStream(d, q)) return false;
    if (!q.dedup) return true;
    const sameExpired = expiredByValue.get(d.value);
    if (isActive && sameExpired === undefined && index.valueCount(d.value) === 1) return true;
    let longest = Number.NEGATIVE_INFINITY;
    const note = (o: Decision) => {
      if (o.type === d.type && o.scope === d.scope && o.until > longest) longest = o.until;
    };
    for (const o of index.byValue(d.value, now)) note(o);
    if (sameExpired !== undefined) for (const o of sameExpired) note(o);
    return d.until >= longest;
  };

  const chosen: Decision[] = [];
  const lists: Array<[readonly Decision[], boolean]> = [
    [expired, false],
    [active, true],
  ];
  for (const [list, isActive] of lists) {
    for (let i = 0; i < list.length; i++) {
      if (keep(list[i]!, isActive)) chosen.push(list[i]!);
      if (i % SLICE === SLICE - 1) yield;
    }
  }
  // Expired (until <= now) then active (until > now), each ordered: ordered as a whole, unless a
  // decision changed between the index's refresh and the store read (then sort, rarely).
  let ordered = true;
  for (let i = 1; i < chosen.length && ordered; i++) ordered = byUntilThenId(chosen[i - 1]!, chosen[i]!) <= 0;
  if (!ordered) chosen.sort(byUntilThenId);
  return yield* serialize(chosen);
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
  return (
    ',"id":' +
    d.id +
    ',"origin":' +
    quote(d.origin) +
    ',"scenario":' +
    quote(d.scenario) +
    ',"scope":' +
    quote(d.scope) +
    ',"type":' +
    quote(d.type) +
    ',"value":' +
    JSON.stringify(d.value) +
    '}'
  );
}

function* serialize(list: readonly Decision[]): Generator<void, StartupBody> {
  const n = list.length;
  const untils = new Float64Array(n);
  const offsets = new Uint32Array(n + 1);
  let tails = Buffer.allocUnsafe(Math.max(256, n * 96));
  let at = 0;
  for (let i = 0; i < n; i++) {
    const d = list[i]!;
    untils[i] = d.until;
    const tail = decisionTail(d);
    // A tail is at most 3 bytes per UTF-16 unit.
    if (at + tail.length * 3 > tails.length) {
      const bigger = Buffer.allocUnsafe(Math.max(tails.length * 2, at + tail.length * 3));
      tails.copy(bigger, 0, 0, at);
      tails = bigger;
    }
    at += tails.write(tail, at, 'utf8');
    offsets[i + 1] = at;
    if (i % SLICE === SLICE - 1) yield;
  }
  // An exact-size copy: the slack of a 100 MB buffer is not kept for the body's lifetime.
  const exact = Buffer.allocUnsafe(at);
  tails.copy(exact, 0, 0, at);
  return { count: n, untils, offsets, tails: exact };
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
      items[i - from] = '{"duration":"' + formatGoDuration(body.untils[i]! - now) + '"' + body.tails.toString('utf8', body.offsets[i]!, body.offsets[i + 1]!);
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
export function* startupBodyChunks(body: StartupBody, now: number, perChunk: number): Generator<Buffer> {
  const split = expiredCount(body, now);
  yield* arrayChunks(body, '{"deleted":', 0, split, now, perChunk);
  yield* arrayChunks(body, ',"new":', split, body.count, now, perChunk);
  yield Buffer.from('}');
}

function* arrayChunks(body: StartupBody, prefix: string, from: number, to: number, now: number, perChunk: number): Generator<Buffer> {
  if (from === to) {
    // CrowdSec never sends `[]` (crowdsec-wire-protocol.md §7.1).
    yield Buffer.from(prefix + 'null');
    return;
  }
  const { untils, offsets, tails } = body;
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
      size += HEAD.length + durationBytes + 1 + offsets[i + 1]! - offsets[i]!;
    }
    const buf = Buffer.allocUnsafe(size);
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
      at += tails.copy(buf, at, offsets[i]!, offsets[i + 1]!);
    }
    if (last) buf[at++] = 0x5d; // ]
    yield buf;
  }
}
