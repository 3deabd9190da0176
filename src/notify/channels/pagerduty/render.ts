import { dashboardLink, issueLink } from '../../../core/notify/links.ts';
import { formatRunbookMarkdown } from '../../../presentation/runbook-format.ts';
import { snapshotRunbook } from '../../../core/notify/snapshot.ts';
import type { IssueSnapshot, MessageContent, NotifyEvent } from '../../../core/notify/types.ts';
import { issueLabel } from '../../../core/notify/wording.ts';

/** PagerDuty's four severities, from Vigil's criticalities. */
export const PAGERDUTY_SEVERITY: Record<string, 'critical' | 'error' | 'warning' | 'info'> = {
  critical: 'critical',
  high: 'error',
  warning: 'warning',
  recommended: 'info',
};

/** The alert's key: the same for every event of one issue, so its resolve closes its alert. */
export function pagerdutyDedupKey(issueId: number): string {
  return `vigil-issue-${issueId}`;
}

const SUMMARY_MAX = 1024; // PagerDuty's documented limit for payload.summary

/** What each Vigil event is to PagerDuty: null means nothing is sent (PagerDuty re-notifies by its own escalation policy). */
export function pagerdutyAction(event: NotifyEvent): 'trigger' | 'resolve' | 'acknowledge' | null {
  switch (event) {
    case 'opened':
    case 'updated':
    case 'test': // then resolved at once by the sender
      return 'trigger';
    case 'resolved':
      return 'resolve';
    case 'acknowledged':
      return 'acknowledge';
    case 'reminder':
      return null;
  }
}

/**
 * One Events API v2 event for one issue (PagerDuty has one alert per dedup_key, so a message of
 * several issues is several events). A trigger carries the summary, severity and details (likely
 * cause, runbook, where to look); resolve and acknowledge carry only the key, as documented.
 */
export function renderPagerDutyEvent(
  routingKey: string,
  action: 'trigger' | 'resolve' | 'acknowledge',
  i: IssueSnapshot,
  c: MessageContent,
  dedup_key = pagerdutyDedupKey(i.id),
): Record<string, unknown> {
  if (action !== 'trigger') return { routing_key: routingKey, event_action: action, dedup_key };
  const runbook = snapshotRunbook(i, c);
  const link = issueLink(c, i.id);
  const summary = `${i.criticality.toUpperCase()}: ${issueLabel(i)}: ${i.summary}`;
  return {
    routing_key: routingKey,
    event_action: 'trigger',
    dedup_key,
    payload: {
      summary: summary.length > SUMMARY_MAX ? `${summary.slice(0, SUMMARY_MAX - 1)}…` : summary,
      source: i.bouncer !== null ? `bouncer:${i.bouncer}` : i.subject,
      severity: PAGERDUTY_SEVERITY[i.criticality] ?? 'warning',
      timestamp: new Date(i.openedAt).toISOString(),
      component: i.bouncer ?? (i.subject.startsWith('machine:') ? i.subject.slice('machine:'.length) : 'fleet'),
      group: 'crowdsec',
      class: i.kind,
      custom_details: {
        issue_id: i.id,
        kind: i.kind,
        criticality: i.criticality,
        subject: i.subject,
        since: new Date(i.since).toISOString(),
        likely_cause: i.likelyCause ? `${i.likelyCause.text} (${i.likelyCause.confidence} confidence)` : null,
        evidence: i.likelyCause ? i.likelyCause.evidence.slice(0, 5) : [],
        runbook_link: link,
        runbook_command: `vigil issues show ${i.id}`,
        runbook: runbook ? formatRunbookMarkdown(runbook) : null,
      },
    },
    client: 'Vigil',
    client_url: dashboardLink(c),
    links: [{ href: link, text: `Issue ${i.id} in Vigil: likely cause and runbook` }],
  };
}
