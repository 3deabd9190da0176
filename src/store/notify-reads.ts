import type { HealthIssue } from '../core/model/health-issue.ts';
import type { Bouncer } from '../core/model/records.ts';
import { toBouncer } from './bouncers.ts';
import { toHealthIssue } from './health-issues.ts';
import type { NotifyTrx } from './notify-store.ts';

// The planner's reads, inside its planning transaction (so a replica plans from one snapshot).

export async function openIssuesIn(trx: NotifyTrx): Promise<HealthIssue[]> {
  return (await trx.selectFrom('health_issues').selectAll().where('resolved_at', 'is', null).orderBy('id').execute()).map(toHealthIssue);
}

export async function issuesByIds(trx: NotifyTrx, ids: number[]): Promise<HealthIssue[]> {
  const out: HealthIssue[] = [];
  for (let i = 0; i < ids.length; i += 1000) {
    const rows = await trx
      .selectFrom('health_issues')
      .selectAll()
      .where('id', 'in', ids.slice(i, i + 1000))
      .execute();
    out.push(...rows.map(toHealthIssue));
  }
  return out;
}

export async function bouncersByName(trx: NotifyTrx, names: string[]): Promise<Map<string, Bouncer>> {
  const out = new Map<string, Bouncer>();
  for (let i = 0; i < names.length; i += 1000) {
    const rows = await trx
      .selectFrom('bouncers')
      .selectAll()
      .where('name', 'in', names.slice(i, i + 1000))
      .execute();
    for (const r of rows) out.set(r.name, toBouncer(r));
  }
  return out;
}
