/**
 * POST /v1/alerts bodies, checked as CrowdSec 1.4.6 checks them (docs/reference/crowdsec-wire-protocol.md §5):
 * a body that does not decode into the Go types is a 400 with Go's json message; a decoded one
 * missing a required field is CrowdSec's `validation failure list:` with status 500 (CrowdSec's
 * status, kept on purpose so clients see what they see from CrowdSec). Pure.
 */

import { runToEnd } from '../../lib/turns.ts';
import { fieldTooLong, keptEvents, keptMeta, MAX_PUSH_DETAIL_BYTES, metaBytes } from './alert-caps.ts';

export { ALERT_TEXT_LIMITS, MAX_EVENTS_PER_ALERT } from './alert-caps.ts';

/** Most alerts one request may carry: an agent pushes its buffer in batches far smaller. */
export const MAX_ALERTS_PER_REQUEST = 1_000;
/**
 * Most decisions one request may carry, all alerts together: `cscli decisions import` of 100k
 * rows sends one alert with 100k decisions, so well above that.
 */
export const MAX_DECISIONS_PER_REQUEST = 250_000;
/** Items (alerts, decisions, events) checked between two pauses: a few ms of work. */
const CHECK_SLICE = 5_000;

export interface IncomingDecision {
  duration: string;
  origin: string;
  scenario: string;
  scope: string;
  type: string;
  value: string;
  simulated: boolean;
}

export interface IncomingSource {
  scope: string;
  value: string;
  ip: string;
  range: string;
  asName: string;
  asNumber: string;
  cn: string;
  latitude: number;
  longitude: number;
}

export interface IncomingAlert {
  capacity: number;
  /** Epoch ms, or null when the client sent none. */
  createdAt: number | null;
  /** null when the alert carries none (an agent's alert: profiles decide). */
  decisions: IncomingDecision[] | null;
  events: unknown[];
  eventsCount: number;
  labels: string[] | null;
  leakspeed: string;
  message: string;
  meta: unknown[] | null;
  remediation: boolean;
  scenario: string;
  scenarioHash: string;
  scenarioVersion: string;
  simulated: boolean;
  source: IncomingSource;
  startAt: number;
  stopAt: number;
  /** 1.7.7+: `cscli`, `crowdsec`, … ('' when absent). */
  kind: string;
  uuid: string;
  /** Events and meta entries cut or not kept, as CrowdSec cuts them (alert-caps.ts); 0 for a real agent's alert. */
  cut: number;
}

export type AlertsPayload = { ok: true; alerts: IncomingAlert[] } | { ok: false; status: 400 | 413 | 500; message: string };

// Swagger's required fields, in the order go-swagger reports them (alphabetical).
const REQUIRED_ALERT = [
  'capacity',
  'events',
  'events_count',
  'leakspeed',
  'message',
  'scenario',
  'scenario_hash',
  'scenario_version',
  'simulated',
  'source',
  'start_at',
  'stop_at',
] as const;
const REQUIRED_DECISION = ['duration', 'origin', 'scenario', 'scope', 'type', 'value'] as const;
const REQUIRED_SOURCE = ['scope', 'value'] as const;

type Kind = 'string' | 'int32' | 'bool' | 'float64' | 'array' | 'object';
const ALERT_TYPES: Record<string, Kind> = {
  capacity: 'int32',
  created_at: 'string',
  decisions: 'array',
  events: 'array',
  events_count: 'int32',
  labels: 'array',
  leakspeed: 'string',
  message: 'string',
  meta: 'array',
  remediation: 'bool',
  scenario: 'string',
  scenario_hash: 'string',
  scenario_version: 'string',
  simulated: 'bool',
  source: 'object',
  start_at: 'string',
  stop_at: 'string',
  kind: 'string',
  uuid: 'string',
  machine_id: 'string',
};
const DECISION_TYPES: Record<string, Kind> = {
  duration: 'string',
  origin: 'string',
  scenario: 'string',
  scope: 'string',
  type: 'string',
  value: 'string',
  simulated: 'bool',
  until: 'string',
  uuid: 'string',
};
const SOURCE_TYPES: Record<string, Kind> = {
  as_name: 'string',
  as_number: 'string',
  cn: 'string',
  ip: 'string',
  latitude: 'float64',
  longitude: 'float64',
  range: 'string',
  scope: 'string',
  value: 'string',
};

const GO_TYPE_OF: Record<Kind, string> = { string: 'string', int32: 'int32', bool: 'bool', float64: 'float32', array: 'array', object: 'models.Source' };

function jsonKind(v: unknown): string {
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return 'number';
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v)) return 'array';
  return 'object';
}

function fits(v: unknown, kind: Kind): boolean {
  if (v === null) return true; // Go's json leaves a null alone
  switch (kind) {
    case 'string':
      return typeof v === 'string';
    case 'int32':
      return typeof v === 'number' && Number.isInteger(v) && v >= -2147483648 && v <= 2147483647;
    case 'float64':
      return typeof v === 'number';
    case 'bool':
      return typeof v === 'boolean';
    case 'array':
      return Array.isArray(v);
    case 'object':
      return typeof v === 'object' && !Array.isArray(v);
  }
}

/** Go's message for a field of the wrong JSON type, e.g. `json: cannot unmarshal string into Go struct field Alert.capacity of type int32`. */
function typeCheck(obj: Record<string, unknown>, types: Record<string, Kind>, struct: string): string | null {
  for (const [key, kind] of Object.entries(types)) {
    if (obj[key] === undefined || fits(obj[key], kind)) continue;
    return `json: cannot unmarshal ${jsonKind(obj[key])} into Go struct field ${struct}.${key} of type ${GO_TYPE_OF[kind]}`;
  }
  return null;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const present = (o: Record<string, unknown>, k: string) => o[k] !== undefined && o[k] !== null;

/** Go's time.Parse(time.RFC3339, …): an offset or Z is required; fractions allowed. */
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
function parseTime(text: string): number | null {
  if (!RFC3339.test(text)) return null;
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? ms : null;
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

type Refusal = Extract<AlertsPayload, { ok: false }>;

/** Checks and converts a decoded POST /v1/alerts body. */
export function parseAlertsPayload(data: unknown): AlertsPayload {
  return runToEnd(parseAlertsPayloadInTurns(data));
}

/**
 * {@link parseAlertsPayload} as a sliced computation (lib/turns.ts runInTurns): it pauses about
 * every {@link CHECK_SLICE} items, so a 250k-decision body is checked between pulls.
 */
export function* parseAlertsPayloadInTurns(data: unknown): Generator<void, AlertsPayload> {
  if (!Array.isArray(data)) {
    return { ok: false, status: 400, message: `json: cannot unmarshal ${jsonKind(data)} into Go value of type models.AddAlertsRequest` };
  }
  if (data.length > MAX_ALERTS_PER_REQUEST) {
    return { ok: false, status: 413, message: `body: ${data.length} alerts; send at most ${MAX_ALERTS_PER_REQUEST} per request` };
  }
  // Decoding first (400), as Go's json does for the whole body before any validation.
  const undecodable = yield* decodeFailure(data);
  if (undecodable) return undecodable;
  // Then swagger's required fields, every failure listed.
  const failures = yield* requiredFailures(data);
  if (failures.length > 0) return { ok: false, status: 500, message: `validation failure list:\n${failures.join('\n')}` };
  const alerts: IncomingAlert[] = [];
  const pace = pacer();
  for (const [i, a] of data.entries()) {
    const alert = incomingAlert(a as Record<string, unknown>, i);
    if ('ok' in alert) return alert;
    alerts.push(alert);
    if (pace(1 + (alert.decisions?.length ?? 0) + alert.events.length)) yield;
  }
  for (const [i, a] of alerts.entries()) {
    const tooLong = fieldTooLong(a, i);
    if (tooLong !== null) return { ok: false, status: 400, message: tooLong };
  }
  // Kept as CrowdSec keeps them: cut, never refused (an agent's alert is never lost for its events).
  // One push's events together are bounded too: they are written in one transaction.
  let pushBytes = 0;
  for (const a of alerts) {
    const meta = keptMeta(a.meta);
    let own = metaBytes(meta.meta);
    if (pushBytes + own > MAX_PUSH_DETAIL_BYTES) {
      meta.cut += meta.meta?.length ?? 0;
      meta.meta = null;
      own = 0;
    }
    const events = keptEvents(a.events, own, MAX_PUSH_DETAIL_BYTES - pushBytes);
    pushBytes += own + events.bytes;
    a.meta = meta.meta;
    a.events = events.events;
    a.cut = meta.cut + events.cut;
    if (pace(1 + events.events.length)) yield;
  }
  return { ok: true, alerts };
}

/** True once about {@link CHECK_SLICE} items were counted since the last true. */
function pacer(): (items: number) => boolean {
  let done = 0;
  return (items) => {
    done += items;
    if (done < CHECK_SLICE) return false;
    done = 0;
    return true;
  };
}

/** The first field Go's json would not decode into its type (400), or too much of something (413). */
function* decodeFailure(data: unknown[]): Generator<void, Refusal | null> {
  let decisionCount = 0;
  const pace = pacer();
  for (const a of data) {
    if (a === null) continue;
    if (!isObject(a)) return { ok: false, status: 400, message: `json: cannot unmarshal ${jsonKind(a)} into Go value of type models.Alert` };
    const bad = typeCheck(a, ALERT_TYPES, 'Alert');
    if (bad) return { ok: false, status: 400, message: bad };
    if (isObject(a.source)) {
      const badSource = typeCheck(a.source, SOURCE_TYPES, 'Source');
      if (badSource) return { ok: false, status: 400, message: badSource };
    }
    if (pace(1)) yield;
    if (Array.isArray(a.decisions)) {
      decisionCount += a.decisions.length;
      if (decisionCount > MAX_DECISIONS_PER_REQUEST) {
        return { ok: false, status: 413, message: `body: more than ${MAX_DECISIONS_PER_REQUEST} decisions; split them over several requests` };
      }
      for (const d of a.decisions) {
        if (pace(1)) yield;
        if (d === null) continue;
        if (!isObject(d)) return { ok: false, status: 400, message: `json: cannot unmarshal ${jsonKind(d)} into Go value of type models.Decision` };
        const badDecision = typeCheck(d, DECISION_TYPES, 'Decision');
        if (badDecision) return { ok: false, status: 400, message: badDecision };
      }
    }
  }
  return null;
}

/** Swagger's required fields missing, in go-swagger's order. */
function* requiredFailures(data: unknown[]): Generator<void, string[]> {
  const failures: string[] = [];
  const pace = pacer();
  for (const [i, a] of data.entries()) {
    if (pace(1)) yield;
    if (!isObject(a)) {
      failures.push(`${i} in body is required`);
      continue;
    }
    for (const k of REQUIRED_ALERT) if (!present(a, k)) failures.push(`${i}.${k} in body is required`);
    if (isObject(a.source)) for (const k of REQUIRED_SOURCE) if (!present(a.source, k)) failures.push(`${i}.source.${k} in body is required`);
    if (!Array.isArray(a.decisions)) continue;
    for (const [j, d] of (a.decisions as unknown[]).entries()) {
      if (pace(1)) yield;
      if (!isObject(d)) failures.push(`${i}.decisions.${j} in body is required`);
      else for (const k of REQUIRED_DECISION) if (!present(d, k)) failures.push(`${i}.decisions.${j}.${k} in body is required`);
    }
  }
  return failures;
}

/** One decoded alert with its times parsed, or the refusal of a time that is not RFC 3339. */
function incomingAlert(a: Record<string, unknown>, i: number): IncomingAlert | Refusal {
  const s = a.source as Record<string, unknown>;
  const times: Record<string, number | null> = {};
  for (const k of ['start_at', 'stop_at', 'created_at'] as const) {
    if (!present(a, k)) continue;
    const t = parseTime(a[k] as string);
    if (t === null)
      return { ok: false, status: 400, message: `${i}.${k}: "${String(a[k]).slice(0, 64)}" is not an RFC 3339 time; send e.g. 2026-11-24T04:18:06Z` };
    times[k] = t;
  }
  return {
    capacity: a.capacity as number,
    createdAt: times.created_at ?? null,
    decisions: Array.isArray(a.decisions)
      ? (a.decisions as Array<Record<string, unknown>>).map((d) => ({
          duration: d.duration as string,
          origin: d.origin as string,
          scenario: d.scenario as string,
          scope: d.scope as string,
          type: d.type as string,
          value: d.value as string,
          simulated: d.simulated === true,
        }))
      : null,
    events: a.events as unknown[],
    eventsCount: a.events_count as number,
    labels: Array.isArray(a.labels) ? a.labels.filter((l): l is string => typeof l === 'string') : null,
    leakspeed: a.leakspeed as string,
    message: a.message as string,
    meta: Array.isArray(a.meta) ? a.meta : null,
    remediation: a.remediation === true,
    scenario: a.scenario as string,
    scenarioHash: a.scenario_hash as string,
    scenarioVersion: a.scenario_version as string,
    simulated: a.simulated as boolean,
    source: {
      scope: s.scope as string,
      value: s.value as string,
      ip: str(s.ip),
      range: str(s.range),
      asName: str(s.as_name),
      asNumber: str(s.as_number),
      cn: str(s.cn),
      latitude: typeof s.latitude === 'number' ? s.latitude : 0,
      longitude: typeof s.longitude === 'number' ? s.longitude : 0,
    },
    startAt: times.start_at!,
    stopAt: times.stop_at!,
    kind: str(a.kind),
    uuid: str(a.uuid),
    cut: 0,
  };
}
