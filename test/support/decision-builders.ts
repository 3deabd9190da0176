import type { Decision, NewDecision } from '../../src/core/model/records.ts';

const MIN = 60_000;

/**
 * A decision as the core index holds it: a cscli ban made a minute before `now`, lasting four hours
 * (the cscli default), its alert numbered as itself; `over` changes any field.
 */
export function indexedDecision(now: number, id: number, scope: string, value: string, over: Partial<Decision> = {}): Decision {
  return {
    id,
    alertId: id,
    origin: 'cscli',
    type: 'ban',
    scope,
    value,
    scenario: 'test',
    createdAt: now - MIN,
    until: now + 4 * 60 * MIN,
    deletedAt: null,
    simulated: false,
    ...over,
  };
}

/**
 * A decision as the store is given it (with its alert): a cscli ban on an IP, made an hour before
 * `until`; `over` changes any field.
 */
export function newDecision(value: string, until: number, over: Partial<NewDecision> = {}): NewDecision {
  return { origin: 'cscli', type: 'ban', scope: 'Ip', value, scenario: 's', createdAt: until - 60 * MIN, until, simulated: false, ...over };
}
