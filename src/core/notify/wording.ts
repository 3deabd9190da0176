import { humanDuration } from '../../lib/human-time.ts';
import type { IssueSnapshot, MessageContent } from './types.ts';
import { isFall } from './plan.ts';

/** `RC Integration Offline: bouncer web`, `LP Offline: machine agent1`, or, for a fleet-level issue, its title alone. */
export function issueLabel(i: IssueSnapshot): string {
  if (i.bouncer !== null) return `${i.title}: bouncer ${i.bouncer}`;
  return i.subject.startsWith('machine:') ? `${i.title}: machine ${i.subject.slice('machine:'.length)}` : i.title;
}

/** The one line that says what happened: subject line, Slack text, notification preview. */
export function headline(c: MessageContent): string {
  const n = c.issues.length;
  const first = c.issues[0];
  const part = c.part.of > 1 ? ` (part ${c.part.index} of ${c.part.of})` : '';
  if (c.event === 'test') return 'Test notification from Vigil: this channel works';
  if (!first) return 'Vigil';
  const more = n > 1 ? ` and ${n - 1} more` : '';
  switch (c.event) {
    case 'opened': {
      const worst = first.criticality.toUpperCase();
      return n === 1 ? `${worst}: ${issueLabel(first)}` : `${n} issues opened: ${issueLabel(first)}${more}${part}`;
    }
    case 'acknowledged':
      return n === 1 ? `Acknowledged: ${issueLabel(first)}` : `${n} issues acknowledged: ${issueLabel(first)}${more}${part}`;
    case 'resolved':
      return n === 1 ? `Resolved: ${issueLabel(first)}` : `${n} issues resolved: ${issueLabel(first)}${more}${part}`;
    case 'reminder': {
      const open = humanDuration(c.createdAt - first.openedAt);
      return n === 1 ? `Still open after ${open}: ${issueLabel(first)}` : `${n} issues still open: ${issueLabel(first)}${more}${part}`;
    }
    case 'updated': {
      if (n > 1) return `${n} issues updated: ${issueLabel(first)}${more}${part}`;
      const was = first.previous;
      if (was && was.criticality !== first.criticality) {
        // A fall is sent only when the component's own traffic resumed (core/notify/plan.ts): say so.
        const better = isFall(was.criticality, first.criticality) ? 'Heard from again, now' : 'Now';
        return `${better} ${first.criticality.toUpperCase()} (was ${was.criticality}): ${issueLabel(first)}`;
      }
      return `Likely cause changed: ${issueLabel(first)}${first.likelyCause ? `: ${first.likelyCause.text}` : ''}`;
    }
  }
}

/** In an update, one line saying what changed since the channel was last told; null otherwise. */
export function issueChange(i: IssueSnapshot): string | null {
  const was = i.previous;
  if (!was) return null;
  const parts: string[] = [];
  if (was.criticality !== i.criticality)
    parts.push(
      `criticality ${was.criticality} → ${i.criticality}${isFall(was.criticality, i.criticality) ? ' (its own traffic resumed, but it is not back to normal)' : ''}`,
    );
  const now = i.likelyCause?.text ?? null;
  if (i.likelyCause?.cause !== (was.cause ?? undefined)) parts.push(`likely cause ${was.causeText ?? 'none'} → ${now ?? 'none'}`);
  return parts.length > 0 ? `Changed since the last message: ${parts.join('; ')}.` : null;
}

/** Critical issues first, then by id: the group's most severe issue leads. */
export function bySeverity(a: IssueSnapshot, b: IssueSnapshot): number {
  const rank: Record<string, number> = { critical: 0, high: 1, warning: 2, recommended: 3 };
  return (rank[a.criticality] ?? 9) - (rank[b.criticality] ?? 9) || a.id - b.id;
}

/** One line under an issue: when it opened, or how long it lasted. */
export function issueTiming(i: IssueSnapshot, c: MessageContent): string {
  if (i.resolvedAt !== null) return `Resolved ${iso(i.resolvedAt)} after ${humanDuration(i.resolvedAt - i.openedAt)} open (condition since ${iso(i.since)}).`;
  if (c.event === 'reminder') return `Open for ${humanDuration(c.createdAt - i.openedAt)} (since ${iso(i.openedAt)}; condition since ${iso(i.since)}).`;
  return `Opened ${iso(i.openedAt)} (condition since ${iso(i.since)}).`;
}

export function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.000Z$/, 'Z');
}
