import { CRITICALITIES, type Criticality, type IssueKind } from './types.ts';

/**
 * Kinds that are stages of one incident on one subject: a steady bouncer that stops pulling is late
 * (Warning), then offline (Critical); a machine likewise. The engine keeps one issue per incident and
 * changes its kind and criticality in place, so a person follows one thread (one id, one set of
 * notifications: opened, updated, resolved), not a "resolved" late issue and an unrelated new one.
 */
const STAGES: Partial<Record<IssueKind, string>> = {
  integration_late: 'bouncer-silent',
  rc_integration_offline: 'bouncer-silent',
  fw_integration_offline: 'bouncer-silent',
  lp_late: 'machine-silent',
  lp_offline: 'machine-silent',
};

/** The key of the incident an issue of `kind` on `subject` belongs to: its stages share it. */
export function incidentKey(kind: IssueKind, subject: string): string {
  return `${STAGES[kind] ?? kind}|${subject}`;
}

/** 0 for the most severe (CRITICALITIES order); unknown ones last. */
const severity = (c: Criticality) => {
  const i = CRITICALITIES.indexOf(c);
  return i < 0 ? CRITICALITIES.length : i;
};

/**
 * The stage an open issue moves to for a new finding of its incident. A rise (late → offline) is
 * taken at once. A fall (offline → late) only when the component's own traffic says so
 * (`Finding.ownTraffic`): a probe or key check made with a dead bouncer's key, or a cscli login
 * with an agent's credentials, does not bring it back, so the issue keeps its graver stage and
 * nobody is told "Now WARNING" about a bouncer that is still dead.
 */
export function settleStage(
  open: { kind: IssueKind; criticality: Criticality },
  found: { kind: IssueKind; criticality: Criticality; ownTraffic?: boolean },
): { kind: IssueKind; criticality: Criticality } {
  const falls = severity(found.criticality) > severity(open.criticality);
  if (falls && found.ownTraffic === false) return { kind: open.kind, criticality: open.criticality };
  return { kind: found.kind, criticality: found.criticality };
}
