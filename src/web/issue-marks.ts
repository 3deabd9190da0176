import { sql } from 'kysely';
import type { Store } from '../store/store.ts';
import type { HealthIssue } from '../core/model/health-issue.ts';
import { NotifyStore } from '../notify/notify-store.ts';
import { silencing } from '../core/notify/silences.ts';
import type { IssueMarks } from './pages/issues.ts';

/** Which issues are silenced (by issue or by bouncer) or acknowledged: the notifications' records. */
export async function issueMarks(store: Store, issues: ReadonlyArray<Pick<HealthIssue, 'id' | 'bouncerName'>>, now: number): Promise<Map<number, IssueMarks>> {
  const out = new Map<number, IssueMarks>();
  if (issues.length === 0) return out;
  const notify = new NotifyStore(store);
  const silences = await notify.silences(now);
  const acks = await notify.acknowledgements(issues.map((i) => i.id));
  for (const i of issues) {
    const s = silencing(i, silences, now);
    const a = acks.get(i.id);
    if (!s && !a) continue;
    out.set(i.id, {
      silence: s ? { id: s.id, endsAt: s.endsAt, reason: s.reason, byBouncer: s.issueId === null } : null,
      acknowledged: a ? { at: a.createdAt, by: a.createdBy } : null,
    });
  }
  return out;
}

/** Changes to silences and acknowledgements, for the live-update digest. */
export async function issueMarksDigest(store: Store): Promise<string> {
  const db = new NotifyStore(store).db;
  const s = await db
    .selectFrom('notify_silences')
    .select([sql<number>`count(*)`.as('n'), sql<number>`max(id)`.as('m'), sql<number>`max(coalesce(removed_at, 0))`.as('r')])
    .executeTakeFirstOrThrow();
  const a = await db
    .selectFrom('notify_acks')
    .select([sql<number>`count(*)`.as('n'), sql<number>`max(created_at)`.as('m')])
    .executeTakeFirstOrThrow();
  return [s.n, s.m, s.r, a.n, a.m].join(':');
}
