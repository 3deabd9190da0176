/**
 * How much of an alert Vigil keeps (issue 27: alerts of 20 MB were stored as sent and answered back
 * whole). Where CrowdSec's database bounds a field (its ent schema: an event's `serialized` ≤ 8,191
 * bytes, a meta `value` ≤ 4,095), Vigil cuts as CrowdSec cuts, so an agent's alert is never refused
 * for it; where CrowdSec has no bound (its columns are `text`), Vigil's own, far above what real
 * agents send (an ssh-bf alert: 6 events of 421 bytes, scenario names under 64 characters), and an
 * alert over one is refused naming the field. Pure.
 */

/** Longest text fields of an alert, in characters (Vigil's bounds). */
export const ALERT_TEXT_LIMITS = {
  scenario: 1024,
  message: 16 * 1024,
  sourceScope: 64,
  sourceValue: 1024,
  sourceIp: 64,
  sourceRange: 64,
  asName: 256,
  asNumber: 32,
  cn: 16,
  leakspeed: 64,
  scenarioHash: 256,
  scenarioVersion: 256,
  kind: 64,
  uuid: 64,
} as const;
/** Labels per alert, and characters per label (Vigil's bounds). */
export const MAX_LABELS = 64;
export const MAX_LABEL_LENGTH = 256;
/** Meta entries per alert (Vigil's bound: an agent's alert context has a handful). */
export const MAX_META_PER_ALERT = 64;
/** CrowdSec's meta table: longer keys and values are cut, as CrowdSec cuts them. */
export const META_KEY_MAX = 255;
export const META_VALUE_MAX = 4095;
/** CrowdSec's events.serialized: an event's meta as JSON, in bytes; its longest values go first until it fits. */
export const EVENT_SERIALIZED_MAX = 8191;
/** Events kept per alert (the first ones; `events_count` still says how many there were). */
export const MAX_EVENTS_PER_ALERT = 250;
/** An alert's events and meta together, as stored, in bytes: events past it are not kept. */
export const MAX_ALERT_DETAIL_BYTES = 512 * 1024;
/**
 * All the events and meta of one push together, in bytes: events past it are not kept (a real
 * agent's push of 1,000 alerts carries ~3 MB). A push is one SQLite transaction, written on the
 * event loop at COMMIT: 28 MB of events took 100-600 ms there.
 */
export const MAX_PUSH_DETAIL_BYTES = 8 * 1024 * 1024;

type Meta = { key: string; value: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const bytes = (v: unknown): number => Buffer.byteLength(JSON.stringify(v));

/** A string cut to `max` UTF-8 bytes (CrowdSec's Go `value[:max]` counts bytes), never inside a character. */
function cutBytes(s: string, max: number): string {
  if (s.length * 3 <= max || Buffer.byteLength(s) <= max) return s;
  let out = Buffer.from(s).subarray(0, max).toString('utf8');
  // A character cut in half decodes to U+FFFD: drop it.
  if (out.endsWith('\ufffd')) out = out.slice(0, -1);
  return out;
}

/**
 * Meta items as Go decodes them into models.Meta (key, value; other fields dropped); `columns`: cut
 * to CrowdSec's meta table (an alert's meta; an event's is stored serialized, cut as a whole).
 */
function metaItems(list: unknown[], columns: boolean): { items: Meta[]; cut: number } {
  let cut = 0;
  const items: Meta[] = [];
  for (const m of list) {
    if (!isObject(m)) continue;
    const key = columns ? cutBytes(str(m.key), META_KEY_MAX) : str(m.key);
    const value = columns ? cutBytes(str(m.value), META_VALUE_MAX) : str(m.value);
    if (key !== m.key || value !== m.value) cut++;
    items.push({ key, value });
  }
  return { items, cut };
}

/** The alert's meta as kept, and how many entries were cut; null when it has none. */
export function keptMeta(meta: unknown[] | null): { meta: Meta[] | null; cut: number } {
  if (meta === null) return { meta: null, cut: 0 };
  const { items, cut } = metaItems(meta, true);
  return { meta: items, cut };
}

/**
 * An event as Go decodes it into models.Event (meta and timestamp only); when its meta is over
 * CrowdSec's 8,191 bytes, the longest values are dropped until it fits, as CrowdSec does.
 */
function keptEvent(e: unknown): { event: { meta: Meta[] | null; timestamp: string | null }; cut: number } {
  if (!isObject(e)) return { event: { meta: null, timestamp: null }, cut: 1 };
  const timestamp = typeof e.timestamp === 'string' ? e.timestamp.slice(0, 64) : null;
  if (!Array.isArray(e.meta)) return { event: { meta: null, timestamp }, cut: 0 };
  const { items, cut } = metaItems(e.meta, false);
  if (bytes(items) <= EVENT_SERIALIZED_MAX) return { event: { meta: items, timestamp }, cut };
  const shortestFirst = items.map((m, i) => ({ m, i })).sort((a, b) => a.m.value.length - b.m.value.length);
  let size = bytes(items);
  while (shortestFirst.length > 0 && size > EVENT_SERIALIZED_MAX) size -= bytes(shortestFirst.pop()!.m) + 1;
  const kept = shortestFirst.sort((a, b) => a.i - b.i).map((x) => x.m);
  return { event: { meta: kept, timestamp }, cut: cut + 1 };
}

/**
 * The events kept: the first {@link MAX_EVENTS_PER_ALERT}, each cut as CrowdSec cuts it, while
 * they and the alert's meta (`metaBytes`) fit in {@link MAX_ALERT_DETAIL_BYTES} and what is left of
 * the push's budget (`pushLeft`). `bytes`: what the kept events weigh.
 */
export function keptEvents(events: readonly unknown[], metaBytes: number, pushLeft = MAX_PUSH_DETAIL_BYTES): { events: unknown[]; cut: number; bytes: number } {
  const out: unknown[] = [];
  const budget = Math.min(MAX_ALERT_DETAIL_BYTES, pushLeft);
  let cut = 0;
  let size = metaBytes;
  for (const e of events.slice(0, MAX_EVENTS_PER_ALERT)) {
    const k = keptEvent(e);
    const weight = bytes(k.event) + 1;
    if (size + weight > budget) break;
    size += weight;
    out.push(k.event);
    cut += k.cut;
  }
  return { events: out, cut: cut + events.length - out.length, bytes: size - metaBytes };
}

export function metaBytes(meta: Meta[] | null): number {
  return meta === null ? 0 : bytes(meta);
}

interface CappedFields {
  scenario: string;
  message: string;
  leakspeed: string;
  scenarioHash: string;
  scenarioVersion: string;
  kind: string;
  uuid: string;
  labels: string[] | null;
  meta: unknown[] | null;
  source: { scope: string; value: string; ip: string; range: string; asName: string; asNumber: string; cn: string };
}

/** The first field of alert `i` over Vigil's bounds, named with the bound, or null. */
export function fieldTooLong(a: CappedFields, i: number): string | null {
  const max = ALERT_TEXT_LIMITS;
  if (a.scenario.length > max.scenario) return `${i}.scenario: ${a.scenario.length} characters; at most ${max.scenario}`;
  if (a.message.length > max.message) return `${i}.message: ${a.message.length} characters; at most ${max.message}`;
  if (a.source.value.length > max.sourceValue || a.source.scope.length > max.sourceScope)
    return `${i}.source: scope at most ${max.sourceScope} and value at most ${max.sourceValue} characters`;
  const texts: Array<[string, string, number]> = [
    ['source.ip', a.source.ip, max.sourceIp],
    ['source.range', a.source.range, max.sourceRange],
    ['source.as_name', a.source.asName, max.asName],
    ['source.as_number', a.source.asNumber, max.asNumber],
    ['source.cn', a.source.cn, max.cn],
    ['leakspeed', a.leakspeed, max.leakspeed],
    ['scenario_hash', a.scenarioHash, max.scenarioHash],
    ['scenario_version', a.scenarioVersion, max.scenarioVersion],
    ['kind', a.kind, max.kind],
    ['uuid', a.uuid, max.uuid],
  ];
  for (const [name, value, limit] of texts) if (value.length > limit) return `${i}.${name}: ${value.length} characters; at most ${limit}`;
  if (a.labels && a.labels.length > MAX_LABELS) return `${i}.labels: ${a.labels.length} labels; at most ${MAX_LABELS}`;
  const long = a.labels?.findIndex((l) => l.length > MAX_LABEL_LENGTH) ?? -1;
  if (long >= 0) return `${i}.labels.${long}: ${a.labels![long]!.length} characters; at most ${MAX_LABEL_LENGTH}`;
  if (a.meta && a.meta.length > MAX_META_PER_ALERT) return `${i}.meta: ${a.meta.length} entries; at most ${MAX_META_PER_ALERT}`;
  return null;
}
