import { formatGoDuration, formatGoTimeString, formatRfc3339 } from '../../lib/duration.ts';
import type { Alert, AlertDetails, Decision } from '../model/records.ts';
import type { IncomingAlert } from './payload.ts';
import { decisionTailJson } from '../decisions/wire.ts';

/**
 * Alerts as CrowdSec 1.4.6 answers GET /v1/alerts (docs/reference/crowdsec-wire-protocol.md §3 and
 * fixtures/cscli-decisions-list.json): keys in Go's (alphabetical) order, `created_at` RFC 3339 but
 * `start_at`/`stop_at` in Go's time.String() form, decisions with their remaining duration. Pure.
 */

/** What `alerts.extra` holds (JSON): the fields Vigil round-trips without querying them. */
export interface AlertExtra {
  labels?: string[] | null;
  events?: unknown[] | null;
  meta?: unknown[] | null;
  uuid?: string;
  source?: { as_name?: string; as_number?: string; cn?: string; range?: string; latitude?: number; longitude?: number };
}

/** The `extra` column of an incoming alert. */
export function extraOf(a: IncomingAlert): string {
  const s = a.source;
  const source: AlertExtra['source'] = {};
  if (s.asName) source.as_name = s.asName;
  if (s.asNumber) source.as_number = s.asNumber;
  if (s.cn) source.cn = s.cn;
  if (s.range) source.range = s.range;
  if (s.latitude) source.latitude = s.latitude;
  if (s.longitude) source.longitude = s.longitude;
  const extra: AlertExtra = { labels: a.labels, events: a.events.length > 0 ? a.events : null, meta: a.meta };
  if (a.uuid) extra.uuid = a.uuid;
  if (Object.keys(source).length > 0) extra.source = source;
  return JSON.stringify(extra);
}

function parseExtra(text: string): AlertExtra {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null ? (v as AlertExtra) : {};
  } catch {
    return {};
  }
}

/** One decision inside an alert: Go's models.Decision order (duration, id, origin, scenario, scope, simulated, type, value). */
export function alertDecisionJson(d: Decision, now: number): string {
  return '{"duration":"' + formatGoDuration(d.until - now) + '"' + decisionTailJson(d, true);
}

/** Decisions per piece of {@link alertJsonPieces}: an alert of 250k decisions is written in slices. */
const DECISIONS_PER_PIECE = 1000;

export function alertJson(a: Alert & AlertDetails, decisions: readonly Decision[], now: number): string {
  let out = '';
  for (const piece of alertJsonPieces(a, decisions, now)) out += piece;
  return out;
}

/**
 * {@link alertJson} in pieces: the fields before `decisions`, the decisions {@link DECISIONS_PER_PIECE}
 * at a time, then the rest, so an answer is written (and the event loop turns) between pieces.
 */
export function* alertJsonPieces(a: Alert & AlertDetails, decisions: readonly Decision[], now: number): Generator<string, void> {
  const x = parseExtra(a.extra);
  const xs = x.source ?? {};
  // models.Source: as_name, as_number, cn, ip, latitude, longitude, range, scope, value (empty ones omitted).
  let source = '{';
  if (xs.as_name) source += `"as_name":${JSON.stringify(xs.as_name)},`;
  if (xs.as_number) source += `"as_number":${JSON.stringify(xs.as_number)},`;
  if (xs.cn) source += `"cn":${JSON.stringify(xs.cn)},`;
  if (a.sourceIp) source += `"ip":${JSON.stringify(a.sourceIp)},`;
  if (typeof xs.latitude === 'number' && xs.latitude) source += `"latitude":${xs.latitude},`;
  if (typeof xs.longitude === 'number' && xs.longitude) source += `"longitude":${xs.longitude},`;
  if (xs.range) source += `"range":${JSON.stringify(xs.range)},`;
  source += `"scope":${JSON.stringify(a.sourceScope)},"value":${JSON.stringify(a.sourceValue)}}`;
  yield `{"capacity":${a.capacity},"created_at":"${formatRfc3339(a.createdAt)}","decisions":`;
  if (decisions.length === 0) yield 'null';
  for (let i = 0; i < decisions.length; i += DECISIONS_PER_PIECE) {
    const end = Math.min(decisions.length, i + DECISIONS_PER_PIECE);
    let piece = i === 0 ? '[' : ',';
    for (let j = i; j < end; j++) piece += (j > i ? ',' : '') + alertDecisionJson(decisions[j]!, now);
    yield end === decisions.length ? `${piece}]` : piece;
  }
  const parts = [
    `"events":${x.events && x.events.length > 0 ? JSON.stringify(x.events) : 'null'}`,
    `"events_count":${a.eventsCount}`,
    `"id":${a.id}`,
    `"labels":${x.labels && x.labels.length > 0 ? JSON.stringify(x.labels) : 'null'}`,
    `"leakspeed":${JSON.stringify(a.leakspeed)}`,
    `"machine_id":${JSON.stringify(a.machineId)}`,
    `"message":${JSON.stringify(a.message)}`,
  ];
  if (x.meta && x.meta.length > 0) parts.push(`"meta":${JSON.stringify(x.meta)}`);
  if (a.remediation) parts.push('"remediation":true');
  parts.push(
    `"scenario":${JSON.stringify(a.scenario)}`,
    `"scenario_hash":${JSON.stringify(a.scenarioHash)}`,
    `"scenario_version":${JSON.stringify(a.scenarioVersion)}`,
    `"simulated":${a.simulated}`,
    `"source":${source}`,
    `"start_at":"${formatGoTimeString(a.startAt)}"`,
    `"stop_at":"${formatGoTimeString(a.stopAt)}"`,
  );
  if (x.uuid) parts.push(`"uuid":${JSON.stringify(x.uuid)}`);
  yield `,${parts.join(',')}}`;
}
