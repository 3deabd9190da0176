import { VigilError } from '../../lib/errors.ts';
import { parseIp, parseRange, type IpAddress, type IpRange } from '../../lib/ip.ts';
import type { Decision } from '../model/records.ts';

/**
 * Filters of `GET /v1/decisions`, as CrowdSec 1.4.6 reads them (docs/reference/crowdsec-wire-protocol.md §4): the first value of
 * a repeated parameter wins, unknown parameters are ignored, and `scope` is ignored entirely.
 */
export interface LiveQuery {
  ip?: IpAddress;
  range?: IpRange;
  /** true: decisions containing the ip/range; false: decisions inside the range. */
  contains: boolean;
  value?: string;
  type?: string;
  origins?: string[];
  scenariosContaining?: string[];
  scenariosNotContaining?: string[];
}

export function parseLiveQuery(params: URLSearchParams): LiveQuery {
  const q: LiveQuery = { contains: true };
  const ip = params.get('ip');
  if (ip !== null) q.ip = parseIpParam(ip, 'ip');
  const range = params.get('range');
  if (range !== null) q.range = parseRangeParam(range);
  const contains = params.get('contains');
  if (contains !== null) q.contains = parseBool(contains, 'contains');
  const value = params.get('value');
  if (value !== null) q.value = value;
  const type = params.get('type');
  if (type !== null) q.type = type;
  Object.assign(q, parseCommonFilters(params));
  return q;
}

/**
 * The same from the raw query string. A bouncer's usual query is a lone `ip=ADDRESS` (nothing to
 * decode): read it directly, without building URLSearchParams, on the busiest route.
 */
export function parseLiveQueryString(search: string): LiveQuery {
  if (search.startsWith('ip=') && !/[&%+;#]/.test(search)) return { contains: true, ip: parseIpParam(search.slice(3), 'ip') };
  return parseLiveQuery(new URLSearchParams(search));
}

/** Filters of `GET /v1/decisions/stream`. */
export interface StreamQuery {
  startup: boolean;
  /**
   * Only the longest decision per (value, type, scope) (CrowdSec's default, docs/reference/crowdsec-1.6-1.7.md §4.3);
   * `dedup=false` sends every one.
   */
  dedup: boolean;
  /** Lower-cased scopes; CrowdSec's default is ip and range. */
  scopes: string[];
  origins?: string[];
  scenariosContaining?: string[];
  scenariosNotContaining?: string[];
}

export function parseStreamQuery(params: URLSearchParams): StreamQuery {
  // Only the exact string "true" means startup, as in CrowdSec (docs/reference/crowdsec-wire-protocol.md §7.6).
  const startup = params.get('startup') === 'true';
  const scopesText = params.get('scopes');
  const scopes = scopesText ? splitList(scopesText).map((s) => s.toLowerCase()) : ['ip', 'range'];
  return { startup, dedup: params.get('dedup') !== 'false', scopes, ...parseCommonFilters(params) };
}

/**
 * CrowdSec's `longestDecisionForScopeTypeValue` (docs/reference/crowdsec-1.6-1.7.md §4.3): a decision is sent only when
 * no other decision with the same (value, type, scope) lasts longer, whatever its origin, simulated
 * flag or expiry, so a bouncer filtering on origins may get nothing for a value, and a shorter
 * decision's expiry is not sent while a longer one is active. Applied before the stream's filters.
 * `othersFor(value)`: the active decisions of that value (the in-memory index); the candidates
 * themselves cover the expired ones that matter.
 */
export function longestPerValue(candidates: readonly Decision[], othersFor: (value: string) => readonly Decision[]): Set<Decision> {
  // By value first: nearly every value has one candidate and no other decision, kept without
  // building a key (a delta after a 100k import is 100k values). A decision's value never changes,
  // so the index's copy of a candidate is always among that value's own candidates.
  const byValue = new Map<string, Decision | Decision[]>();
  for (const d of candidates) {
    const g = byValue.get(d.value);
    if (g === undefined) byValue.set(d.value, d);
    else if (Array.isArray(g)) g.push(d);
    else byValue.set(d.value, [g, d]);
  }
  const keep = new Set<Decision>();
  for (const [value, g] of byValue) {
    const others = othersFor(value);
    if (!Array.isArray(g) && (others.length === 0 || (others.length === 1 && others[0]!.id === g.id))) {
      keep.add(g);
      continue;
    }
    const group = Array.isArray(g) ? g : [g];
    const longest = new Map<string, number>();
    const note = (d: Decision) => {
      const k = `${d.type}\0${d.scope}`;
      const cur = longest.get(k);
      if (cur === undefined || d.until > cur) longest.set(k, d.until);
    };
    for (const d of group) note(d);
    // A candidate read from the store is newer than the index's copy of it (a deletion not synced yet).
    for (const d of others) if (!group.some((c) => c.id === d.id)) note(d);
    for (const d of group) if (d.until >= longest.get(`${d.type}\0${d.scope}`)!) keep.add(d);
  }
  return keep;
}

function parseCommonFilters(params: URLSearchParams): Pick<LiveQuery, 'origins' | 'scenariosContaining' | 'scenariosNotContaining'> {
  const out: Pick<LiveQuery, 'origins' | 'scenariosContaining' | 'scenariosNotContaining'> = {};
  const origins = params.get('origins');
  if (origins) out.origins = splitList(origins);
  const sc = params.get('scenarios_containing');
  if (sc) out.scenariosContaining = splitList(sc).map((s) => s.toLowerCase());
  const snc = params.get('scenarios_not_containing');
  if (snc) out.scenariosNotContaining = splitList(snc).map((s) => s.toLowerCase());
  return out;
}

/** The filters that are not about addresses, applied to candidates. */
export function matchesCommon(d: Decision, q: Pick<LiveQuery, 'origins' | 'scenariosContaining' | 'scenariosNotContaining'>): boolean {
  if (q.origins && !q.origins.includes(d.origin)) return false;
  if (q.scenariosContaining || q.scenariosNotContaining) {
    const s = d.scenario.toLowerCase();
    if (q.scenariosContaining && !q.scenariosContaining.some((w) => s.includes(w))) return false;
    if (q.scenariosNotContaining?.some((w) => s.includes(w))) return false;
  }
  return true;
}

export function matchesStream(d: Decision, q: StreamQuery): boolean {
  return q.scopes.includes(d.scope.toLowerCase()) && matchesCommon(d, q);
}

function splitList(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function parseBool(text: string, field: string): boolean {
  const t = text.toLowerCase();
  if (t === 'true' || t === '1') return true;
  if (t === 'false' || t === '0') return false;
  throw new VigilError('E_BAD_PARAM', `${field} "${text}": use true or false`);
}

function parseIpParam(text: string, field: string): IpAddress {
  try {
    return parseIp(text);
  } catch {
    throw new VigilError('E_BAD_PARAM', `${field} "${text}": not an IPv4 or IPv6 address; use e.g. 192.0.2.1 or 2001:db8::1`);
  }
}

function parseRangeParam(text: string): IpRange {
  try {
    return parseRange(text);
  } catch {
    throw new VigilError('E_BAD_PARAM', `range "${text}": not a CIDR range; use e.g. 198.51.100.0/24 or 2001:db8::/48`);
  }
}
