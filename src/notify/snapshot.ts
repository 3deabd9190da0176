import type { HealthIssue } from '../store/health-types.ts';
import type { Bouncer } from '../store/types.ts';
import { CAUSE_TEXT, issueRunbook, topCause } from '../health/issue-view.ts';
import { formatRunbookMarkdown } from '../health/runbooks.ts';
import { ISSUE_CATALOGUE, type CauseKind, type IssueKind, type LikelyCause } from '../health/types.ts';
import type { IssueSnapshot } from './types.ts';
import type { RunbookSettings } from '../health/runbook-settings.ts';

/** One issue as messages carry it, with its likely cause in words and the runbook for its bouncer. */
export function snapshotIssue(issue: HealthIssue, bouncer: Bouncer | undefined, lapiUrl: string, runbookSettings?: RunbookSettings): IssueSnapshot {
  const top = topCause(issue);
  // Host deployment: the message cannot know where the bouncer runs; `vigil issues show --deployment` can.
  // A resolved issue needs no runbook.
  // `vigil watch` passes CrowdSec's settings: cscli commands, where CrowdSec runs.
  const runbook = issue.resolvedAt === null ? (issueRunbook(issue, bouncer, lapiUrl, runbookSettings?.deployment ?? 'host', runbookSettings) ?? null) : null;
  return {
    id: issue.id,
    kind: issue.kind,
    title: ISSUE_CATALOGUE[issue.kind as IssueKind]?.title ?? issue.kind,
    criticality: issue.criticality,
    subject: issue.subject,
    bouncer: issue.bouncerName,
    summary: issue.summary,
    openedAt: issue.openedAt,
    since: issue.since,
    lastSeenAt: issue.lastSeenAt,
    resolvedAt: issue.resolvedAt,
    likelyCause: top ? { ...top, text: CAUSE_TEXT[top.cause as CauseKind] ?? top.cause } : null,
    causes: issue.evidence.causes as LikelyCause[],
    notes: issue.evidence.notes,
    runbook,
    runbookMarkdown: runbook ? formatRunbookMarkdown(runbook) : null,
  };
}
