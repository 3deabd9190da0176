import type { HealthIssue } from '../core/model/health-issue.ts';
import { issueLabels, type Silence } from '../core/notify/silences.ts';
import { bouncersByName, type NotifyStore, type NotifyTrx } from '../store/notify-store.ts';

/**
 * What holds notifications back at a planning run: the stored silences (`vigil issues silence`)
 * and vigil.yaml's maintenance windows; with, when a silence matches labels, each issue's labels
 * including its bouncer's (type, kind), read once per run.
 */
export async function holdsForPlanning(
  store: NotifyStore,
  trx: NotifyTrx,
  now: number,
  windows: Silence[],
  openIssues: HealthIssue[],
): Promise<{ silences: Silence[]; labelsOf?: (issue: HealthIssue) => Record<string, string> }> {
  const silences = [...(await store.silences(now, {}, trx)), ...windows];
  if (!silences.some((s) => s.labels !== null)) return { silences };
  const names = [...new Set(openIssues.map((i) => i.bouncerName).filter((n): n is string => n !== null))];
  const bouncers = await bouncersByName(trx, names);
  return { silences, labelsOf: (i) => issueLabels(i, i.bouncerName ? bouncers.get(i.bouncerName) : undefined) };
}
