import type { Decision } from '../model/records.ts';
import { formatGoDuration } from '../../lib/duration.ts';

/**
 * Everything after `duration` in a decision's JSON never changes: keep it per decision object, so a
 * stream startup of 100k decisions served from the in-memory index only formats durations.
 */
const tails = new WeakMap<Decision, string>();

function tailOf(d: Decision): string {
  let tail = tails.get(d);
  if (tail === undefined) {
    tail =
      ',"id":' +
      d.id +
      ',"origin":' +
      JSON.stringify(d.origin) +
      ',"scenario":' +
      JSON.stringify(d.scenario) +
      ',"scope":' +
      JSON.stringify(d.scope) +
      ',"type":' +
      JSON.stringify(d.type) +
      ',"value":' +
      JSON.stringify(d.value) +
      '}';
    tails.set(d, tail);
  }
  return tail;
}

/**
 * One decision as the CrowdSec LAPI sends it to bouncers: exactly these seven keys, in this
 * (alphabetical) order, `duration` the remaining time as Go prints it, negative once expired
 * (docs/reference/crowdsec-wire-protocol.md §4, §7.2). A Go duration needs no JSON escaping (digits, `hms.µ-`).
 */
export function decisionJson(d: Decision, now: number): string {
  return '{"duration":"' + formatGoDuration(d.until - now) + '"' + tailOf(d);
}

/** An array of decisions, or `null` when empty: CrowdSec never sends `[]` (docs/reference/crowdsec-wire-protocol.md §7.1). */
export function decisionsJson(list: readonly Decision[], now: number): string {
  if (list.length === 0) return 'null';
  if (list.length === 1) return '[' + decisionJson(list[0]!, now) + ']';
  const parts = new Array<string>(list.length);
  for (let i = 0; i < list.length; i++) parts[i] = decisionJson(list[i]!, now);
  return '[' + parts.join(',') + ']';
}

/** The stream body: `deleted` before `new`, as CrowdSec orders them. */
export function streamJson(deleted: readonly Decision[], added: readonly Decision[], now: number): string {
  return '{"deleted":' + decisionsJson(deleted, now) + ',"new":' + decisionsJson(added, now) + '}';
}

/**
 * The same stream body in pieces of at most `perChunk` decisions, so a 100k startup is written to
 * the socket as it is built instead of held whole in memory. Joined, the pieces equal streamJson.
 */
export function* streamJsonChunks(deleted: readonly Decision[], added: readonly Decision[], now: number, perChunk = 2000): Generator<string> {
  yield* arrayChunks('{"deleted":', deleted, now, perChunk);
  yield* arrayChunks(',"new":', added, now, perChunk);
  yield '}';
}

function* arrayChunks(prefix: string, list: readonly Decision[], now: number, perChunk: number): Generator<string> {
  if (list.length === 0) {
    yield prefix + 'null';
    return;
  }
  for (let start = 0; start < list.length; start += perChunk) {
    const end = Math.min(list.length, start + perChunk);
    const parts = new Array<string>(end - start);
    for (let i = start; i < end; i++) parts[i - start] = decisionJson(list[i]!, now);
    const head = start === 0 ? prefix + '[' : ',';
    yield head + parts.join(',') + (end === list.length ? ']' : '');
  }
}
