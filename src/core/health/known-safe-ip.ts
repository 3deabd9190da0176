/**
 * The Console's "Blocking Known Safe IP" (`blocking_safe_ip`; its planned "Decisions Against
 * Legitimate IPs", ⚠️ High: docs/reference/crowdsec-docs-notes.md §1.4, §1.5): an active decision
 * on an address nobody should block: allowlisted, private (RFC 1918, loopback, link-local, CGNAT,
 * IPv6 ULA), documentation (RFC 5737, RFC 3849), or a canary's, outside a canary run. Usually a
 * proxy whose own address is judged (its clients' are not passed), a test left behind, or an
 * allowlist that was not applied. One finding for the fleet, naming the decisions. Pure.
 */
import { intervalContains, tryParseIpOrRange, parseRange, type IpAddress, type IpRange } from '../../lib/ip.ts';
import type { Decision } from '../model/records.ts';
import { ISSUE_CATALOGUE, type Finding } from './types.ts';

export type SafeCategory = 'allowlisted' | 'canary' | 'documentation' | 'private';

export interface KnownSafeInput {
  /**
   * Active decisions that may be on a known-safe address (scope Ip or Range): the store leaves out
   * the ones whose text cannot be (store/known-safe-candidates.ts); every one when an allowlist check is given.
   */
  readonly decisions: ReadonlyArray<Pick<Decision, 'id' | 'scope' | 'value' | 'type' | 'origin' | 'scenario' | 'createdAt'>>;
  /** Addresses canaries test (vigil.yaml `canaries[].address`). */
  readonly canaryAddresses?: readonly string[];
  /**
   * The allowlist check: the allowlist holding the value, or null. The seam to the allowlists store
   * (built in parallel, issue 29 item 1): absent until it is wired, then allowlisted values count.
   */
  readonly allowlistOf?: (value: string) => string | null;
}

const ranges = (list: string[]): IpRange[] => list.map(parseRange);
export const PRIVATE_RANGES = ranges([
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '100.64.0.0/10',
  'fc00::/7',
  'fe80::/10',
  '::1/128',
]);
export const DOCUMENTATION_RANGES = ranges(['192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/24', '2001:db8::/32']);
/** The canary's own test decisions (canary/backend.ts): scenario `vigil-canary NAME`. */
export const CANARY_SCENARIO_PREFIX = 'vigil-canary ';
/** A canary run lasts at most this long (its timeout and the removal); a test decision older than that was left behind. */
export const CANARY_RUN_MAX_MS = 10 * 60_000;

const inAny = (list: readonly IpRange[], x: IpAddress | IpRange) => list.some((r) => intervalContains(r, x));

export function evaluateKnownSafeIp(input: KnownSafeInput | undefined, now: number): Finding[] {
  if (!input || input.decisions.length === 0) return [];
  const canaries = (input.canaryAddresses ?? []).flatMap((a) => {
    const p = tryParseIpOrRange(a);
    return p ? [p] : [];
  });
  const hits: Array<{ d: KnownSafeInput['decisions'][number]; category: SafeCategory; why: string }> = [];
  for (const d of input.decisions) {
    const scope = d.scope.toLowerCase();
    if (scope !== 'ip' && scope !== 'range') continue;
    const x = tryParseIpOrRange(d.value);
    if (!x) continue;
    const canaryRun = d.scenario.startsWith(CANARY_SCENARIO_PREFIX);
    // The canary's own decision during its run is the point of the canary.
    if (canaryRun && now - d.createdAt <= CANARY_RUN_MAX_MS) continue;
    const list = input.allowlistOf?.(d.value) ?? null;
    if (list !== null) hits.push({ d, category: 'allowlisted', why: `in allowlist ${list}` });
    else if (canaryRun) hits.push({ d, category: 'canary', why: 'a canary test decision left behind after its run' });
    else if (canaries.some((c) => intervalContains(c, x))) hits.push({ d, category: 'canary', why: 'a canary test address' });
    else if (inAny(DOCUMENTATION_RANGES, x)) hits.push({ d, category: 'documentation', why: 'a documentation address (RFC 5737 / RFC 3849)' });
    else if (inAny(PRIVATE_RANGES, x)) hits.push({ d, category: 'private', why: 'a private, loopback or link-local address' });
  }
  if (hits.length === 0) return [];
  const counts = new Map<SafeCategory, number>();
  for (const h of hits) counts.set(h.category, (counts.get(h.category) ?? 0) + 1);
  const since = Math.min(...hits.map((h) => h.d.createdAt));
  const shown = hits
    .slice(0, 10)
    .map((h) => `${h.d.type} on ${h.d.value} (decision ${h.d.id}, origin ${h.d.origin}, scenario ${h.d.scenario || '-'}): ${h.why}`);
  const cause = counts.has('allowlisted') ? 'allowlist_not_applied' : counts.has('private') ? 'proxy_address_judged' : 'test_decision_left';
  return [
    {
      kind: 'blocking_safe_ip',
      criticality: ISSUE_CATALOGUE.blocking_safe_ip.criticality,
      subject: 'fleet',
      bouncerName: null,
      since,
      summary: `${hits.length} active decision(s) block known-safe addresses (${[...counts].map(([c, n]) => `${n} ${c}`).join(', ')}): ${hits
        .slice(0, 3)
        .map((h) => h.d.value)
        .join(', ')}${hits.length > 3 ? ', …' : ''}`,
      causes: [{ cause, confidence: 'medium', evidence: [...shown, ...(hits.length > 10 ? [`and ${hits.length - 10} more`] : [])] }],
      notes: [],
    },
  ];
}
