import { parseUserAgent } from '../bouncers/user-agent.ts';
import { isMachineRefusal } from './machine-causes.ts';
import type { LikelyCause } from './types.ts';

/**
 * Whose is a refused or misrouted request? One set of rules for the health engine's evidence, the
 * dashboard's bouncer page and `vigil bouncers inspect`: a bouncer's own key first (same key = same
 * bouncer), then its address and User-Agent product when exactly one bouncer has that pair, its
 * address alone only when the request names no other product, and its User-Agent from elsewhere
 * when no other bouncer has it. On a shared address (several bouncers on 127.0.0.1), nothing but
 * the key tells them apart: low confidence, and said so.
 */
export type Match = 'own' | 'pair' | 'ip' | 'agent' | 'shared' | 'other';
export type Attributed = Exclude<Match, 'other'>;

export const MATCH_CONFIDENCE: Record<Attributed, LikelyCause['confidence']> = {
  own: 'high',
  pair: 'high',
  ip: 'medium',
  agent: 'medium',
  shared: 'low',
};

/** The few facts about a bouncer the rules read. */
export interface AttributableBouncer {
  name: string;
  ipAddress: string;
  type: string;
  version: string;
}
export interface AttributableRequest {
  peerIp: string;
  userAgent: string;
  /** The bouncer whose key the request carried (revoked key, wrong path), else ''. */
  bouncerName: string;
  reason: string;
}

/** What the rules need to know of the fleet, built once per evaluation or per view. */
export interface AttributionIndex {
  /** Bouncers per address (names, in registration order). */
  bouncersByIp: Map<string, string[]>;
  /** Bouncers per address and product (`ip\0type`): a refused request with that pair is theirs. */
  pairOwners: Map<string, number>;
  /** The product (type) of each refused request's User-Agent, parsed as for a bouncer. */
  productOf: Map<string, string>;
}

export function userAgentOf(b: Pick<AttributableBouncer, 'type' | 'version'>): string {
  if (!b.type) return '';
  return b.version && b.version !== 'N/A' ? `${b.type}/${b.version}` : b.type;
}

/**
 * How surely `r` is this bouncer's. The caller passes requests that carried its key, came from its
 * address, or carry a User-Agent no other bouncer has; `agent` is the last of these.
 */
export function matchOf(b: AttributableBouncer, r: AttributableRequest, idx: AttributionIndex): Match {
  if (r.bouncerName) return r.bouncerName === b.name ? 'own' : 'other';
  if (b.ipAddress !== '' && r.peerIp === b.ipAddress) {
    const product = productOf(idx, r.userAgent);
    if (b.type !== '' && product === b.type) return (idx.pairOwners.get(`${r.peerIp}\0${b.type}`) ?? 0) === 1 ? 'pair' : 'shared';
    // A request that names another product is another client on that host (curl, a script, another bouncer).
    if (product !== '' && b.type !== '') return 'other';
    return (idx.bouncersByIp.get(r.peerIp)?.length ?? 0) === 1 ? 'ip' : 'shared';
  }
  return 'agent';
}

function productOf(idx: AttributionIndex, userAgent: string): string {
  let product = idx.productOf.get(userAgent);
  if (product === undefined) {
    product = userAgent ? parseUserAgent(userAgent).type : '';
    idx.productOf.set(userAgent, product);
  }
  return product;
}

/** In the operator's words, for a view's "whose" column. */
export function matchLabel(match: Attributed, b: AttributableBouncer, idx: AttributionIndex): string {
  switch (match) {
    case 'own':
      return 'its key';
    case 'pair':
      return 'its address and User-Agent';
    case 'ip':
      return 'its address only (medium confidence)';
    case 'agent':
      return 'its User-Agent, from another address (medium confidence)';
    case 'shared':
      return `its address, shared with ${(idx.bouncersByIp.get(b.ipAddress)?.length ?? 1) - 1} other bouncer(s) (low confidence)`;
  }
}

/**
 * For the views: the requests in `refused` that are `b`'s by the rules above, each with how sure
 * and why, newest order kept; machines' refused logins are not bouncers'.
 */
export function refusedOf<R extends AttributableRequest>(
  b: AttributableBouncer,
  fleet: readonly AttributableBouncer[],
  refused: readonly R[],
): Array<{ request: R; match: Attributed; confidence: LikelyCause['confidence']; label: string }> {
  const requests = refused.filter((r) => !isMachineRefusal(r.reason));
  const ips = new Set(requests.map((r) => r.peerIp));
  const idx: AttributionIndex = { bouncersByIp: new Map(), pairOwners: new Map(), productOf: new Map() };
  const agentOwners = new Map<string, number>();
  for (const x of fleet) {
    const ua = userAgentOf(x);
    if (ua) agentOwners.set(ua, (agentOwners.get(ua) ?? 0) + 1);
    if (x.ipAddress && ips.has(x.ipAddress)) {
      idx.bouncersByIp.set(x.ipAddress, [...(idx.bouncersByIp.get(x.ipAddress) ?? []), x.name]);
      if (x.type) idx.pairOwners.set(`${x.ipAddress}\0${x.type}`, (idx.pairOwners.get(`${x.ipAddress}\0${x.type}`) ?? 0) + 1);
    }
  }
  const ua = userAgentOf(b);
  const out: Array<{ request: R; match: Attributed; confidence: LikelyCause['confidence']; label: string }> = [];
  for (const r of requests) {
    const candidate =
      r.bouncerName === b.name || (b.ipAddress !== '' && r.peerIp === b.ipAddress) || (ua !== '' && r.userAgent === ua && agentOwners.get(ua) === 1);
    if (!candidate) continue;
    const match = matchOf(b, r, idx);
    if (match === 'other') continue;
    out.push({ request: r, match, confidence: MATCH_CONFIDENCE[match], label: matchLabel(match, b, idx) });
  }
  return out;
}
