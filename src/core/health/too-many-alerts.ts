/**
 * The Console's "Security Engine Too Many Alerts" (`issue_se_too_many_alerts`, ⚠️ High): more than
 * 250,000 alerts in 6 hours (docs/reference/crowdsec-docs-notes.md §1.3). Pure: the count comes
 * from the store (store/alert-volume.ts); the finding clears once the window holds fewer.
 */
import { ISSUE_CATALOGUE, type Finding } from './types.ts';

export const TOO_MANY_ALERTS = { count: 250_000, windowMs: 6 * 3_600_000 } as const;

/** Alerts received in the last `windowMs`, and the machines that pushed most of them. */
export interface AlertVolumeInput {
  readonly windowMs: number;
  /** An upper bound up to the threshold (the id span), threshold + 1 past it: the count itself is never needed. */
  readonly count: number;
  /** Top senders in the window (machine id → alerts), most first; may be empty. */
  readonly topMachines: ReadonlyArray<{ readonly machineId: string; readonly count: number }>;
  /** Top scenarios in the window, most first; may be empty. */
  readonly topScenarios: ReadonlyArray<{ readonly scenario: string; readonly count: number }>;
}

export function evaluateTooManyAlerts(volume: AlertVolumeInput | undefined, now: number, threshold = TOO_MANY_ALERTS.count): Finding[] {
  if (!volume || volume.count <= threshold) return [];
  const hours = Math.round(volume.windowMs / 3_600_000);
  return [
    {
      kind: 'se_too_many_alerts',
      criticality: ISSUE_CATALOGUE.se_too_many_alerts.criticality,
      subject: 'fleet',
      bouncerName: null,
      since: now,
      summary: `more than ${threshold.toLocaleString('en-US')} alerts in the last ${hours} h: a scenario or parser floods the Local API, or a large attack is under way`,
      causes: [
        {
          cause: 'alert_flood',
          confidence: 'medium',
          evidence: [
            ...volume.topScenarios.slice(0, 5).map((s) => `scenario ${s.scenario || '(none)'}: ${s.count.toLocaleString('en-US')} of the latest alerts`),
            ...volume.topMachines.slice(0, 5).map((m) => `agent ${m.machineId || '(cscli / Vigil)'}: ${m.count.toLocaleString('en-US')} of the latest alerts`),
          ],
        },
      ],
      notes: [],
    },
  ];
}
