import type { IncomingAlert } from './payload.ts';
import type { DecisionRequest } from '../decisions/new-decisions.ts';

/**
 * Profiles: how an agent's alert (one without decisions) becomes decisions, a structured subset
 * of CrowdSec's profiles.yaml (no expr language: a profile matches on fields, every filter given
 * must hold). Pure.
 */
export interface Profile {
  name: string;
  filters: {
    /** Source scopes (case-insensitive), e.g. [Ip]. */
    scopes?: string[];
    /** The alert's `remediation` flag (an agent sets it for scenarios that should ban). */
    remediation?: boolean;
    /** Scenario names, exact, or a prefix ending in `*` (`crowdsecurity/http-*`). */
    scenarios?: string[];
    /** The origin the decisions would carry: `crowdsec` for an agent's alert. */
    origins?: string[];
  };
  decisions: Array<{ type: string; duration: string /** Ip (the default: the source's own scope) or Range (the source's range). */; scope?: string }>;
  onSuccess: 'break' | 'continue';
}

/** CrowdSec's default /etc/crowdsec/profiles.yaml: `Alert.Remediation == true && Alert.GetScope() == "Ip"` → ban 4h, break. */
export const DEFAULT_PROFILES: readonly Profile[] = [
  { name: 'default_ip_remediation', filters: { remediation: true, scopes: ['Ip'] }, decisions: [{ type: 'ban', duration: '4h' }], onSuccess: 'break' },
];

/** The origin of decisions a profile makes from an agent's alert (CrowdSec's `types.CrowdSecOrigin`). */
export const AGENT_ORIGIN = 'crowdsec';

/** A decision a profile asks for, before validation (core/decisions/new-decisions.ts buildDecision). */
export interface ProfileDecision extends DecisionRequest {
  /** The profile that asked for it. */
  profile: string;
}

function scenarioMatches(patterns: readonly string[], scenario: string): boolean {
  return patterns.some((p) => (p.endsWith('*') ? scenario.startsWith(p.slice(0, -1)) : p === scenario));
}

export function profileMatches(p: Profile, alert: IncomingAlert, origin = AGENT_ORIGIN): boolean {
  const f = p.filters;
  if (f.remediation !== undefined && alert.remediation !== f.remediation) return false;
  if (f.scopes && !f.scopes.some((s) => s.toLowerCase() === alert.source.scope.toLowerCase())) return false;
  if (f.scenarios && !scenarioMatches(f.scenarios, alert.scenario)) return false;
  if (f.origins && !f.origins.includes(origin)) return false;
  return true;
}

/**
 * The decisions the profiles make for an alert, in profile order: each matching profile adds its
 * decisions, `break` stops at the first match. Decisions take the alert's scenario, source scope
 * and value (a `Range` decision the source's range, skipped when the source has none).
 */
export function decisionsFromProfiles(alert: IncomingAlert, profiles: readonly Profile[]): ProfileDecision[] {
  const out: ProfileDecision[] = [];
  for (const p of profiles) {
    if (!profileMatches(p, alert)) continue;
    for (const d of p.decisions) {
      const toRange = d.scope !== undefined && d.scope.toLowerCase() === 'range' && alert.source.scope.toLowerCase() !== 'range';
      const value = toRange ? alert.source.range : alert.source.value;
      if (value === '') continue;
      out.push({
        profile: p.name,
        scope: toRange ? 'Range' : alert.source.scope,
        value,
        type: d.type,
        duration: d.duration,
        reason: alert.scenario,
        origin: AGENT_ORIGIN,
      });
    }
    if (p.onSuccess === 'break') break;
  }
  return out;
}
