import type { HealthIssue } from '../core/model/health-issue.ts';
import type { Bouncer } from '../core/model/records.ts';
import { toBouncer } from './bouncers.ts';
import { toHealthIssue } from './health-issues.ts';
import type { NotifyTrx } from './notify-store.ts';
import { readInChunks } from './in-chunks.ts';

// The planner's reads, inside its planning transaction (so a replica plans from one snapshot).

export async function openIssuesIn(trx: NotifyTrx): Promise<HealthIssue[]> {
  return (await trx.selectFrom('health_issues').selectAll().where('resolved_at', 'is', null).orderBy('id').execute()).map(toHealthIssue);
}

export async function issuesByIds(trx: NotifyTrx, ids: number[]): Promise<HealthIssue[]> {
  const rows = await readInChunks(ids, (chunk) => trx.selectFrom('health_issues').selectAll().where('id', 'in', chunk).execute());
  return rows.map(toHealthIssue);
}

export async function bouncersByName(trx: NotifyTrx, names: string[]): Promise<Map<string, Bouncer>> {
  const rows = await readInChunks(names, (chunk) => trx.selectFrom('bouncers').selectAll().where('name', 'in', chunk).execute());
  return new Map(rows.map((r) => [r.name, toBouncer(r)]));
}
