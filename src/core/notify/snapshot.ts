import type { HealthIssue } from '../model/health-issue.ts';
import type { Bouncer } from '../model/records.ts';
import { causeText } from '../health/causes.ts';
import { issueRunbook, topCause } from '../health/issue-view.ts';
import type { Runbook } from '../health/runbooks/index.ts';
import { ISSUE_CATALOGUE } from '../health/types.ts';
import type { IssueSnapshot, MessageContent } from './types.ts';

/** One issue as messages carry it: what it is, its likely cause in words, and what its runbook is made from. */
export function snapshotIssue(issue: HealthIssue, bouncer: Pick<Bouncer, 'type' | 'kindOverride'> | undefined): IssueSnapshot {
  const top = topCause(issue);
  return {
    id: issue.id,
    kind: issue.kind,
    title: ISSUE_CATALOGUE[issue.kind]?.title ?? issue.kind,
    criticality: issue.criticality,
    subject: issue.subject,
    bouncer: issue.bouncerName,
    bouncerType: bouncer?.type ?? '',
    bouncerKindOverride: bouncer?.kindOverride ?? null,
    summary: issue.summary,
    openedAt: issue.openedAt,
    since: issue.since,
    lastSeenAt: issue.lastSeenAt,
    resolvedAt: issue.resolvedAt,
    likelyCause: top ? { ...top, text: causeText(top.cause) } : null,
    causes: [...issue.evidence.causes],
    notes: [...issue.evidence.notes],
  };
}

/**
 * The runbook of an open bouncer or machine issue, built when the message is rendered rather than stored
 * with it: it is most of a message's size (about 9 KB an issue), and the same snapshot and code
 * give the same text on every retry. The deployment is the one the store's runbook settings name
 * (`vigil watch`), else host: a message cannot know where a bouncer runs; `vigil issues show
 * --deployment` can.
 */
export function snapshotRunbook(s: IssueSnapshot, content: Pick<MessageContent, 'lapiUrl' | 'runbookSettings'>): Runbook | null {
  // Fleet issues have no runbook; bouncer and machine (`machine:<name>`) issues do.
  if (s.resolvedAt !== null || (s.bouncer === null && !s.subject.startsWith('machine:'))) return null;
  const issue: HealthIssue = {
    id: s.id,
    kind: s.kind,
    criticality: s.criticality,
    subject: s.subject,
    bouncerName: s.bouncer,
    openedAt: s.openedAt,
    lastSeenAt: s.lastSeenAt,
    resolvedAt: s.resolvedAt,
    since: s.since,
    summary: s.summary,
    evidence: { causes: s.causes, notes: s.notes },
  };
  const settings = content.runbookSettings;
  return issueRunbook(issue, { type: s.bouncerType, kindOverride: s.bouncerKindOverride }, content.lapiUrl, settings?.deployment ?? 'host', settings) ?? null;
}
