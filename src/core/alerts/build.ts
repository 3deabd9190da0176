import { VigilError } from '../../lib/errors.ts';
import { buildDecision } from '../decisions/new-decisions.ts';
import type { NewAlert, NewAlertWithDecisions, NewDecision } from '../model/records.ts';
import { extraOf } from './alert-json.ts';
import type { IncomingAlert } from './payload.ts';
import { decisionsFromProfiles, type Profile } from './profiles.ts';

/**
 * A validated POST /v1/alerts payload turned into the alerts and decisions to store: an alert's own
 * decisions (cscli, an import), or what the profiles make of it (an agent's). Every decision is
 * checked before anything is stored. Pure.
 */

/** Decisions checked between two pauses (a few ms of work; 5,000 and their garbage took 20-30 ms beside a big push). */
export const BUILD_SLICE = 2_000;

/** The alert as stored, for machine `machineId`, received at `now`. */
export function alertToStore(a: IncomingAlert, machineId: string, now: number): NewAlert {
  return {
    createdAt: now,
    scenario: a.scenario,
    message: a.message,
    machineId,
    sourceScope: a.source.scope,
    sourceValue: a.source.value,
    sourceIp: a.source.ip,
    eventsCount: a.eventsCount,
    leakspeed: a.leakspeed,
    startAt: a.startAt,
    stopAt: a.stopAt,
    simulated: a.simulated,
    capacity: a.capacity,
    scenarioHash: a.scenarioHash,
    scenarioVersion: a.scenarioVersion,
    remediation: a.remediation,
    kind: a.kind,
    extra: extraOf(a),
  };
}

/** The decisions [from, to) of alert `i`: its own, or what the profiles make of it. */
export function decisionsOfAlert(
  a: IncomingAlert,
  i: number,
  profiles: readonly Profile[],
  now: number,
  from = 0,
  to = Number.POSITIVE_INFINITY,
): NewDecision[] {
  // An alert's stop_at anchors its decisions, as in CrowdSec; never in the future.
  const base = Math.min(a.stopAt, now);
  const built = (
    req: { scope: string; value: string; type: string; duration: string; reason: string; origin: string },
    field: string,
    simulated: boolean,
  ): NewDecision => {
    if (req.origin === '') throw new VigilError('E_BAD_VALUE', `${field}: origin is empty; use e.g. cscli`);
    const d = buildDecision(req, base, field);
    return { ...d, createdAt: now, simulated: simulated || a.simulated };
  };
  if (a.decisions && a.decisions.length > 0) {
    const own = a.decisions.slice(from, to);
    return own.map((d, j) => built({ ...d, reason: d.scenario }, `${i}.decisions.${from + j}`, d.simulated));
  }
  return decisionsFromProfiles(a, profiles).map((d, j) => built(d, `${i}.profiles.${d.profile}.${j}`, false));
}

/**
 * Every alert of a push with its decisions, in order. A generator that pauses (yields) about every
 * {@link BUILD_SLICE} decisions, so the caller can let the event loop turn while a 100k import is
 * checked (lib/turns.ts runInTurns); throws a VigilError naming the first bad decision.
 */
export function* buildAlerts(
  alerts: readonly IncomingAlert[],
  profiles: readonly Profile[],
  machineId: string,
  now: number,
): Generator<void, NewAlertWithDecisions[]> {
  const out: NewAlertWithDecisions[] = [];
  let built = 0;
  for (const [i, a] of alerts.entries()) {
    if (a.decisions && a.decisions.length > BUILD_SLICE) {
      const list: NewDecision[] = [];
      for (let j = 0; j < a.decisions.length; j += BUILD_SLICE) {
        yield;
        list.push(...decisionsOfAlert(a, i, profiles, now, j, j + BUILD_SLICE));
      }
      out.push({ alert: alertToStore(a, machineId, now), decisions: list });
      continue;
    }
    const own = decisionsOfAlert(a, i, profiles, now);
    out.push({ alert: alertToStore(a, machineId, now), decisions: own });
    // An alert's events are serialised here (alertToStore): they weigh as much as decisions.
    built += own.length + a.events.length;
    if (built >= BUILD_SLICE) {
      built = 0;
      yield;
    }
  }
  return out;
}
