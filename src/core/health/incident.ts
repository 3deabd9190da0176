import type { IssueKind } from './types.ts';

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
export function incidentKey(kind: string, subject: string): string {
  return `${STAGES[kind as IssueKind] ?? kind}|${subject}`;
}
