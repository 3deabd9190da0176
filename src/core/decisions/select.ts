import { intervalContains, tryParseIpOrRange, type IpAddress, type IpRange } from '../../lib/ip.ts';
import type { Decision } from '../model/records.ts';

/** The filters of `vigil decisions list|delete`, with cscli's flag names. */
export interface DecisionSelector {
  id?: number;
  ip?: IpAddress;
  range?: IpRange;
  /** With --range: select decisions inside the range instead of those containing it (cscli's --contained). */
  contained?: boolean;
  type?: string;
  scope?: string;
  value?: string;
  scenario?: string;
  origin?: string;
}

/**
 * Picks decisions for the CLI. A one-off command may look at every active decision (the server
 * never does: it asks the DecisionIndex); the matching rules are the LAPI's.
 */
export function selectDecisions(decisions: readonly Decision[], s: DecisionSelector): Decision[] {
  const target = s.ip ?? s.range;
  return decisions.filter((d) => {
    if (s.id !== undefined && d.id !== s.id) return false;
    if (s.type !== undefined && d.type !== s.type) return false;
    if (s.scope !== undefined && d.scope.toLowerCase() !== s.scope.toLowerCase()) return false;
    if (s.value !== undefined && d.value !== s.value) return false;
    if (s.origin !== undefined && d.origin !== s.origin) return false;
    if (s.scenario !== undefined && !d.scenario.toLowerCase().includes(s.scenario.toLowerCase())) return false;
    if (target) {
      const scope = d.scope.toLowerCase();
      if (scope !== 'ip' && scope !== 'range') return false;
      const own = tryParseIpOrRange(d.value);
      if (!own || own.family !== target.family) return false;
      return s.range && s.contained ? intervalContains(target, own) : intervalContains(own, target);
    }
    return true;
  });
}
