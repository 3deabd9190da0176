import type { Store } from '../store/store.ts';
import { NotifyStore } from '../store/notify-store.ts';
import { silencing, type SilencedIssue } from '../core/notify/silences.ts';
import type { IssueMarks } from './pages/issues.ts';

/** Which issues are silenced (by issue or by bouncer) or acknowledged: the notifications' records. */
export async function issueMarks(store: Store, issues: ReadonlyArray<SilencedIssue>, now: number): Promise<Map<number, IssueMarks>> {
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
