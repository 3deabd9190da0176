import { issueLink } from '../../../core/notify/links.ts';
import { formatRunbookMarkdown } from '../../../presentation/runbook-format.ts';
import { snapshotRunbook } from '../../../core/notify/snapshot.ts';
import type { IssueSnapshot, MessageContent } from '../../../core/notify/types.ts';
import { issueLabel } from '../../../core/notify/wording.ts';

/** The alertname of every issue (Alertmanager's routes and inhibitions key on it). */
export const ALERTNAME = 'VigilIssue';
/** `vigil notify test`: its own name, so no route for real issues has to match it. */
export const TEST_ALERTNAME = 'VigilTest';

/**
 * How long a firing alert stays valid, in re-send intervals: a missed re-send or two (Vigil
 * restarting, the outbox retrying) does not end it; Prometheus uses the same margin of several.
 */
export const VALID_FOR_INTERVALS = 3;

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * One postable alert of Alertmanager's v2 API for one issue. Its labels are its identity (the same
 * on every send, so a re-send refreshes the alert and a resolve ends it); what changes (summary,
 * cause, criticality's wording) is in the annotations. A firing alert carries `endsAt` a few
 * re-send intervals after the message was queued, so Alertmanager keeps it only while Vigil re-sends.
 */
export function renderAlert(
  i: IssueSnapshot,
  c: MessageContent,
  ch: { labels: Record<string, string>; remindEveryMs: number },
  test: { deliveryId: string; resolveAt: number } | null = null,
): Record<string, unknown> {
  const link = issueLink(c, i.id);
  const runbook = snapshotRunbook(i, c);
  const labels: Record<string, string> = {
    ...ch.labels,
    alertname: test ? TEST_ALERTNAME : ALERTNAME,
    issue_id: test ? `test-${test.deliveryId}` : String(i.id),
    kind: i.kind,
    criticality: i.criticality,
  };
  if (i.bouncer !== null) labels.bouncer = i.bouncer;
  if (i.subject.startsWith('machine:')) labels.machine = i.subject.slice('machine:'.length);
  const endsAt = test ? test.resolveAt : (i.resolvedAt ?? c.createdAt + VALID_FOR_INTERVALS * ch.remindEveryMs);
  return {
    labels,
    annotations: {
      summary: `${issueLabel(i)}: ${i.summary}`,
      cause: i.likelyCause ? `${i.likelyCause.text} (${i.likelyCause.confidence} confidence)` : '',
      runbook: runbook ? formatRunbookMarkdown(runbook) : '',
      runbook_url: link,
    },
    startsAt: iso(test ? c.createdAt : i.openedAt),
    endsAt: iso(endsAt),
    generatorURL: link,
  };
}
