import { parseDuration } from '../../lib/duration.ts';
import { VigilError } from '../../lib/errors.ts';
import { intervalContains, parseIp, parseRange, tryParseIpOrRange, type IpAddress, type IpRange } from '../../lib/ip.ts';
import { selectDecisions } from '../decisions/select.ts';
import type { Alert, AlertDetails, Decision } from '../model/records.ts';

/**
 * The query strings of GET/HEAD/DELETE /v1/alerts and DELETE /v1/decisions, read as CrowdSec
 * reads them (docs/reference/crowdsec-1.6-1.7.md §4.1, §8), and the matching they ask for. Pure.
 */
export interface AlertFilter {
  scope?: string;
  value?: string;
  scenario?: string;
  target?: IpAddress | IpRange;
  /** With ip/range: alerts whose source contains the target (true, the default) or lies inside it. */
  contains: boolean;
  /** Created at or after (epoch ms). */
  since?: number;
  /** Created at or before (epoch ms). */
  until?: number;
  decisionType?: string;
  origin?: string;
  includeCapi: boolean;
  hasActiveDecision?: boolean;
  /** Simulated alerts are left out unless asked for. */
  simulated: boolean;
  withDecisions: boolean;
  kind?: string;
  /** null = no limit (`limit=0`). */
  limit: number | null;
  sort: 'asc' | 'desc';
}

/** CrowdSec's own default when a client sends no limit. */
export const DEFAULT_ALERTS_LIMIT = 100;
/** Most alerts one answer carries, whatever the client asks. */
export const MAX_ALERTS_LIMIT = 10_000;

/** `ip`/`range`/`country`/`as` as CrowdSec capitalises them; any other scope as typed. */
export function normaliseScope(s: string): string {
  const m: Record<string, string> = { ip: 'Ip', range: 'Range', country: 'Country', as: 'AS' };
  return m[s.toLowerCase()] ?? s;
}

const badIp = (v: string) => new VigilError('E_BAD_IP', `unable to convert '${v.slice(0, 64)}' to int: invalid address: invalid ip address / range`);

/** `parse(v)`, or CrowdSec's error for a bad address or range in a filter. */
function addressParam<T>(v: string, parse: (text: string) => T): T {
  try {
    return parse(v);
  } catch {
    throw badIp(v);
  }
}

function bool(name: string, v: string): boolean {
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw new VigilError('E_BAD_PARAM', `${name}: "${v.slice(0, 32)}" is not a boolean; use true or false`);
}

type ParamReader = (f: AlertFilter, v: string, now: number) => void;

/** How each filter parameter of `GET /v1/alerts` sets the filter; any other is refused, as CrowdSec does. */
const ALERT_PARAMS: Record<string, ParamReader> = {
  scope: (f, v) => {
    f.scope = normaliseScope(v);
  },
  value: (f, v) => {
    f.value = v;
  },
  scenario: (f, v) => {
    f.scenario = v;
  },
  ip: (f, v) => {
    f.target = addressParam(v, parseIp);
  },
  range: (f, v) => {
    f.target = addressParam(v, parseRange);
  },
  contains: (f, v) => {
    f.contains = bool('contains', v);
  },
  since: (f, v, now) => {
    f.since = now - parseDuration(v, 'since', { allowZero: true });
  },
  until: (f, v, now) => {
    f.until = now - parseDuration(v, 'until', { allowZero: true });
  },
  created_before: (f, v) => {
    const t = Date.parse(v);
    if (!Number.isFinite(t)) throw new VigilError('E_BAD_PARAM', `created_before: "${v.slice(0, 64)}" is not a time; use RFC 3339, e.g. 2026-11-24T04:18:06Z`);
    f.until = Math.min(f.until ?? t, t);
  },
  decision_type: (f, v) => {
    f.decisionType = v;
  },
  origin: (f, v) => {
    f.origin = v;
  },
  include_capi: (f, v) => {
    f.includeCapi = bool('include_capi', v);
  },
  has_active_decision: (f, v) => {
    f.hasActiveDecision = bool('has_active_decision', v);
  },
  simulated: (f, v) => {
    f.simulated = bool('simulated', v);
  },
  with_decisions: (f, v) => {
    f.withDecisions = bool('with_decisions', v);
  },
  kind: (f, v) => {
    f.kind = v;
  },
  sort: (f, v) => {
    if (v.toLowerCase() !== 'asc' && v.toLowerCase() !== 'desc') throw new VigilError('E_BAD_PARAM', `sort: "${v.slice(0, 16)}": use ASC or DESC`);
    f.sort = v.toLowerCase() as 'asc' | 'desc';
  },
  limit: (f, v) => {
    const n = Number(v);
    if (!/^\d+$/.test(v) || !Number.isSafeInteger(n))
      throw new VigilError('E_BAD_PARAM', `limit: "${v.slice(0, 16)}" is not a whole number; use e.g. 100 (0 = all)`);
    f.limit = n === 0 ? null : n;
  },
  // 1.6: accepted and ignored, all alerts here are local.
  alert_source: () => {},
};

export function parseAlertFilter(params: URLSearchParams, now: number): AlertFilter {
  const f: AlertFilter = { contains: true, includeCapi: true, simulated: false, withDecisions: true, limit: DEFAULT_ALERTS_LIMIT, sort: 'desc' };
  for (const [k, v] of params) {
    const read = Object.hasOwn(ALERT_PARAMS, k) ? ALERT_PARAMS[k] : undefined;
    if (!read) throw new VigilError('E_BAD_PARAM', `Filter parameter '${k.slice(0, 64)}' is unknown (=${v.slice(0, 64)}): invalid filter`);
    read(f, v, now);
  }
  if (f.limit === null || f.limit > MAX_ALERTS_LIMIT) f.limit = MAX_ALERTS_LIMIT;
  return f;
}

const CAPI_ORIGINS = new Set(['CAPI', 'lists']);

function sourceTarget(a: Alert): IpAddress | IpRange | null {
  const scope = a.sourceScope.toLowerCase();
  if (scope === 'ip' || scope === 'range') return tryParseIpOrRange(a.sourceValue);
  return a.sourceIp ? tryParseIpOrRange(a.sourceIp) : null;
}

/** Whether an alert (with all its decisions) passes the filter at `now`. */
export function alertMatches(a: Alert & AlertDetails, decisions: readonly Decision[], f: AlertFilter, now: number): boolean {
  if (!f.simulated && a.simulated) return false;
  if (f.scope !== undefined && a.sourceScope !== f.scope) return false;
  if (f.value !== undefined && a.sourceValue !== f.value) return false;
  if (f.scenario !== undefined && a.scenario !== f.scenario) return false;
  if (f.kind !== undefined && a.kind !== f.kind) return false;
  if (f.since !== undefined && a.createdAt < f.since) return false;
  if (f.until !== undefined && a.createdAt > f.until) return false;
  if (f.target) {
    const own = sourceTarget(a);
    if (!own || own.family !== f.target.family) return false;
    if (!(f.contains ? intervalContains(own, f.target) : intervalContains(f.target, own))) return false;
  }
  if (f.decisionType !== undefined && !decisions.some((d) => d.type === f.decisionType)) return false;
  if (f.origin !== undefined && !decisions.some((d) => d.origin === f.origin)) return false;
  if (!f.includeCapi && decisions.some((d) => CAPI_ORIGINS.has(d.origin))) return false;
  if (f.hasActiveDecision !== undefined && decisions.some((d) => d.until > now) !== f.hasActiveDecision) return false;
  return true;
}

const DECISION_DELETE_PARAMS = new Set(['scopes', 'scope', 'uuid', 'origin', 'value', 'type', 'ip', 'range', 'scenario', 'contains']);

export interface DecisionDeleteFilter {
  scopes?: string[];
  origin?: string;
  value?: string;
  type?: string;
  scenario?: string;
  target?: { ip?: IpAddress; range?: IpRange };
  contains: boolean;
}

/** DELETE /v1/decisions's parameters (CrowdSec is strict here: an unknown one is an error). */
export function parseDecisionDeleteFilter(params: URLSearchParams): DecisionDeleteFilter {
  const f: DecisionDeleteFilter = { contains: true };
  for (const [k, v] of params) {
    if (!DECISION_DELETE_PARAMS.has(k)) throw new VigilError('E_BAD_PARAM', `'${k.slice(0, 64)}' doesn't exist: invalid filter`);
    switch (k) {
      case 'scopes':
      case 'scope':
        f.scopes = v
          .split(',')
          .map((s) => normaliseScope(s.trim()))
          .filter((s) => s !== '');
        break;
      case 'origin':
        f.origin = v;
        break;
      case 'value':
        f.value = v;
        break;
      case 'type':
        f.type = v;
        break;
      case 'scenario':
        f.scenario = v;
        break;
      case 'ip':
        f.target = { ip: addressParam(v, parseIp) };
        break;
      case 'range':
        f.target = { range: addressParam(v, parseRange) };
        break;
      case 'contains':
        f.contains = bool(k, v);
        break;
      // uuid (1.6): Vigil's decisions have none; accepted so a 1.6 client is not refused.
    }
  }
  return f;
}

/** The active decisions a DELETE /v1/decisions removes. */
export function decisionsToDelete(active: readonly Decision[], f: DecisionDeleteFilter): Decision[] {
  const picked = selectDecisions(active, { ...f.target, contained: !f.contains, type: f.type, value: f.value, origin: f.origin });
  return picked.filter((d) => (f.scenario === undefined || d.scenario === f.scenario) && (f.scopes === undefined || f.scopes.includes(d.scope)));
}
