import { VigilError } from '../../lib/errors.ts';
import { parseIp, parseRange } from '../../lib/ip.ts';
import { parseDuration } from '../../lib/duration.ts';
import type { NewAlert, NewDecision } from '../model/records.ts';

/**
 * New decisions (CLI, dashboard, imports, agents' alerts), validated before anything is stored. Pure.
 */

/** What an operator asks for with `decisions add` or one import row, before validation. */
export interface DecisionRequest {
  scope: string;
  value: string;
  type: string;
  duration: string;
  reason: string;
  origin: string;
}

export const DEFAULT_DECISION = { duration: '4h', type: 'ban', scope: 'Ip' } as const;

/**
 * Longest fields a decision may carry. Value and origin: 255, the width CrowdSec's own schema gets
 * on MySQL (ent's default varchar(255)), so whatever Vigil holds CrowdSec could hold and bouncers
 * already handle. Reason (the scenario): 1024, as before. Scope 64 and type 32 by their patterns.
 */
export const DECISION_LIMITS = { value: 255, origin: 255, reason: 1024, scope: 64, type: 32 } as const;

function tooLong(at: string, field: string, text: string, max: number): VigilError {
  return new VigilError('E_TOO_LONG', `${at}${field}: ${text.length} characters; at most ${max}`);
}

/**
 * Validates and normalises one decision. `ip`/`range` scopes are matched case-insensitively and
 * stored as `Ip`/`Range` (how every CrowdSec component writes them); other scopes stay as typed.
 * `field` prefixes messages (`row 7: …`) so a bad import row is named.
 */
export function buildDecision(req: DecisionRequest, now: number, field = ''): NewDecision {
  const at = field ? `${field}: ` : '';
  let scope = req.scope.trim();
  const value = req.value.trim();
  if (scope === '') throw new VigilError('E_BAD_SCOPE', `${at}scope is empty: use Ip, Range or another scope such as Country`);
  if (scope.length > DECISION_LIMITS.scope) throw tooLong(at, 'scope', scope, DECISION_LIMITS.scope);
  if (!/^[A-Za-z][A-Za-z0-9_.:-]{0,63}$/.test(scope)) {
    throw new VigilError('E_BAD_SCOPE', `${at}scope "${scope}": use letters, digits, '_', '.', ':' or '-' (e.g. Ip, Range, Country)`);
  }
  if (value === '') throw new VigilError('E_BAD_VALUE', `${at}value is empty: give the IP, range or value the decision applies to`);
  if (value.length > DECISION_LIMITS.value) throw tooLong(at, 'value', value, DECISION_LIMITS.value);
  const lower = scope.toLowerCase();
  if (lower === 'ip') {
    scope = 'Ip';
    try {
      parseIp(value);
    } catch {
      const hint = value.includes('/') ? ' (a CIDR goes with scope Range / --range)' : '';
      throw new VigilError('E_BAD_IP', `${at}ip "${value}": not an IPv4 or IPv6 address${hint}; use e.g. 192.0.2.1`);
    }
  } else if (lower === 'range') {
    scope = 'Range';
    try {
      parseRange(value);
    } catch {
      throw new VigilError('E_BAD_RANGE', `${at}range "${value}": not a CIDR range; use e.g. 198.51.100.0/24 or 2001:db8::/48`);
    }
  }
  const type = req.type.trim();
  if (type.length > DECISION_LIMITS.type) throw tooLong(at, 'type', type, DECISION_LIMITS.type);
  if (!/^[a-z][a-z0-9_-]{0,31}$/i.test(type)) {
    throw new VigilError('E_BAD_TYPE', `${at}type "${req.type}": use ban, captcha or another remediation name (letters, digits, - or _)`);
  }
  const ms = parseDuration(req.duration.trim(), `${at}duration`);
  if (ms <= 0) throw new VigilError('E_BAD_DURATION', `${at}duration "${req.duration}": must be positive, e.g. 4h`);
  const scenario = req.reason;
  if (scenario.length > DECISION_LIMITS.reason) throw tooLong(at, 'reason', scenario, DECISION_LIMITS.reason);
  if (req.origin.length > DECISION_LIMITS.origin) throw tooLong(at, 'origin', req.origin, DECISION_LIMITS.origin);
  return { origin: req.origin, type, scope, value, scenario, createdAt: now, until: now + ms, simulated: false };
}

/** The synthetic alert cscli creates around manual decisions (docs/reference/crowdsec-wire-protocol.md §3). */
export function manualAlert(opts: { now: number; scenario: string; scope: string; value: string; count: number; machineId: string }): NewAlert {
  return {
    createdAt: opts.now,
    scenario: opts.scenario,
    message: opts.scenario,
    machineId: opts.machineId,
    sourceScope: opts.scope,
    sourceValue: opts.value,
    sourceIp: opts.value,
    eventsCount: opts.count,
    leakspeed: '0',
    startAt: opts.now,
    stopAt: opts.now,
    simulated: false,
  };
}

/**
 * The alert that carries decisions moved in bulk between CrowdSec and Vigil (an import, an export),
 * as cscli's own imports do: no source of its own, `sourceScope` naming the move.
 */
export function bulkAlert(opts: { now: number; scenario: string; message: string; sourceScope: string; count: number }): NewAlert {
  return {
    createdAt: opts.now,
    scenario: opts.scenario,
    message: opts.message,
    machineId: '',
    sourceScope: opts.sourceScope,
    sourceValue: '',
    sourceIp: '',
    eventsCount: opts.count,
    leakspeed: '0',
    startAt: opts.now,
    stopAt: opts.now,
    simulated: false,
  };
}
