// The refused requests and pulls grouped once per evaluation, and the requests that can be tied to
// one bouncer (by its key, its address and product, or a User-Agent only it has: attribution.ts).
import { parseUserAgent } from '../bouncers/user-agent.ts';
import type { BouncerChange, RefusedSummary } from '../model/records.ts';
import { matchOf, userAgentOf, type Attributed } from './attribution.ts';
import { pushTo, summaryOf } from './evidence.ts';
import { TOO_MANY_INSTANCES } from './key-spread.ts';
import { isMachineRefusal } from './machine-causes.ts';
import type { BouncerHealthInput, FleetSnapshot } from './types.ts';

export interface EvidenceIndex {
  refusedByIp: Map<string, RefusedSummary[]>;
  /** Only for User-Agents that exactly one registered bouncer has: shared ones name nobody. */
  refusedByAgent: Map<string, RefusedSummary[]>;
  /** Requests that carried a bouncer's own key (revoked, or sent to a wrong path): certainly it. */
  refusedByBouncer: Map<string, RefusedSummary[]>;
  /** Bouncers per address (names, in registration order). */
  bouncersByIp: Map<string, string[]>;
  /** Bouncers per address and product (`ip\0type`): a refused request with that pair is theirs. */
  pairOwners: Map<string, number>;
  /** The product (type) of each refused request's User-Agent, parsed as for a bouncer. */
  productOf: Map<string, string>;
  /** The newest pullers of each address (a few, newest first): other bouncers on a shared host that kept pulling. */
  pullersByIp: Map<string, Array<{ name: string; lastPullAt: number }>>;
  lapiStarts: number[];
  changesByBouncer: Map<number, BouncerChange[]>;
  requestsRecorded: boolean;
}

/** Group the evidence once, so 100k bouncers cost 100k map lookups, not 100k scans. */
export function indexEvidence(s: FleetSnapshot): EvidenceIndex {
  const idx: EvidenceIndex = {
    refusedByIp: new Map(),
    refusedByAgent: new Map(),
    refusedByBouncer: new Map(),
    bouncersByIp: new Map(),
    pairOwners: new Map(),
    productOf: new Map(),
    pullersByIp: new Map(),
    lapiStarts: [...s.lapiStarts].sort((a, b) => a - b),
    changesByBouncer: new Map(),
    requestsRecorded: s.requestsRecorded !== false,
  };
  const refused = s.refused.map(summaryOf);
  for (const r of s.refusedSummaries ?? []) refused.push(r);
  // Refused logins and tokens are machines' (evaluate-machines.ts), not bouncer keys.
  removeMachineRefusals(refused);
  // Only the addresses refused requests came from matter: 100k bouncers are not grouped for nothing.
  const refusedIps = new Set<string>();
  for (const r of refused) if (r.peerIp) refusedIps.add(r.peerIp);
  // A thousand nginx bouncers share one User-Agent: a refused request with it says nothing about
  // which of them it was. Attribute by User-Agent only when one bouncer alone has it.
  const agentOwners = new Map<string, number>();
  for (const b of s.bouncers) {
    const ua = userAgentOf(b);
    if (ua) agentOwners.set(ua, (agentOwners.get(ua) ?? 0) + 1);
    if (b.ipAddress && b.lastPullAt !== null) keepNewest(idx.pullersByIp, b.ipAddress, { name: b.name, lastPullAt: b.lastPullAt });
    if (b.ipAddress && refusedIps.has(b.ipAddress)) {
      const names = idx.bouncersByIp.get(b.ipAddress);
      if (names) names.push(b.name);
      else idx.bouncersByIp.set(b.ipAddress, [b.name]);
      if (b.type) {
        const pair = `${b.ipAddress}\0${b.type}`;
        idx.pairOwners.set(pair, (idx.pairOwners.get(pair) ?? 0) + 1);
      }
    }
  }
  for (const r of refused) {
    if (r.peerIp) pushTo(idx.refusedByIp, r.peerIp, r);
    if (r.userAgent && agentOwners.get(r.userAgent) === 1) pushTo(idx.refusedByAgent, r.userAgent, r);
    if (r.bouncerName) pushTo(idx.refusedByBouncer, r.bouncerName, r);
    if (!idx.productOf.has(r.userAgent)) idx.productOf.set(r.userAgent, r.userAgent ? parseUserAgent(r.userAgent).type : '');
  }
  for (const c of s.bouncerChanges) pushTo(idx.changesByBouncer, c.bouncerId, c);
  return idx;
}

const PULLERS_KEPT = 4;

function keepNewest(m: Map<string, Array<{ name: string; lastPullAt: number }>>, ip: string, p: { name: string; lastPullAt: number }): void {
  const list = m.get(ip) ?? [];
  if (list.length === PULLERS_KEPT && list[PULLERS_KEPT - 1]!.lastPullAt >= p.lastPullAt) return;
  list.push(p);
  list.sort((a, b) => b.lastPullAt - a.lastPullAt);
  if (list.length > PULLERS_KEPT) list.length = PULLERS_KEPT;
  m.set(ip, list);
}

function removeMachineRefusals(list: RefusedSummary[]): void {
  let kept = 0;
  // A new address refused past the instance cap is the key's spread (key-spread.ts), not this row's silence.
  for (const r of list) if (!isMachineRefusal(r.reason) && r.reason !== TOO_MANY_INSTANCES) list[kept++] = r;
  list.length = kept;
}

export interface Related {
  blamed: Array<{ r: RefusedSummary; match: Attributed }>;
  /** From its address, but plainly another client's. */
  others: RefusedSummary[];
}

/** Requests since the silence began that came from this bouncer's IP, with its User-Agent, or with its own key. */
export function relatedRequests(b: BouncerHealthInput, since: number, idx: EvidenceIndex): Related {
  const seen = new Set<RefusedSummary>();
  const out: Related = { blamed: [], others: [] };
  const add = (list: RefusedSummary[] | undefined) => {
    for (const r of list ?? []) {
      if (r.lastAt > since && !seen.has(r)) {
        seen.add(r);
        const match = matchOf(b, r, idx);
        if (match === 'other') {
          if (r.peerIp === b.ipAddress) out.others.push(r);
        } else out.blamed.push({ r, match });
      }
    }
  };
  add(idx.refusedByBouncer.get(b.name));
  if (b.ipAddress) add(idx.refusedByIp.get(b.ipAddress));
  const ua = userAgentOf(b);
  if (ua) add(idx.refusedByAgent.get(ua));
  return out;
}
