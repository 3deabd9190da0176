import { formatRunbookMarkdown } from '../../../presentation/runbook-format.ts';
import { snapshotRunbook } from '../../../core/notify/snapshot.ts';
import type { IssueSnapshot, MessageContent, OutgoingMessage } from '../../../core/notify/types.ts';
import { headline } from '../../../core/notify/wording.ts';

/** Version of the webhook body; a breaking change to its shape gets a new number. */
export const WEBHOOK_BODY_VERSION = 1;

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function issueJson(i: IssueSnapshot, c: MessageContent) {
  const runbook = snapshotRunbook(i, c);
  return {
    id: i.id,
    kind: i.kind,
    title: i.title,
    criticality: i.criticality,
    subject: i.subject,
    bouncer: i.bouncer,
    summary: i.summary,
    openedAt: iso(i.openedAt),
    since: iso(i.since),
    lastSeenAt: iso(i.lastSeenAt),
    resolvedAt: iso(i.resolvedAt),
    likelyCause: i.likelyCause,
    causes: i.causes,
    notes: i.notes,
    // `updated` events: what this channel had been told before (criticality, likely cause).
    ...(i.previous ? { previous: i.previous } : {}),
    runbook: runbook ? { ...runbook, markdown: formatRunbookMarkdown(runbook) } : null,
  };
}

/**
 * The generic webhook body: the issues with their likely cause and runbook, and the delivery id
 * (also in the `X-Vigil-Delivery` header) so a receiver can drop a message it already has.
 */
export function renderWebhookBody(m: OutgoingMessage): string {
  return JSON.stringify(webhookBody(m));
}

/** The webhook body as an object: also what a `template` renders from. */
export function webhookBody(m: OutgoingMessage) {
  const c = m.content;
  return {
    version: WEBHOOK_BODY_VERSION,
    deliveryId: m.deliveryId,
    channel: m.channel,
    event: c.event,
    createdAt: iso(c.createdAt),
    headline: headline(c),
    lapiUrl: c.lapiUrl,
    part: c.part,
    issues: c.issues.map((i) => issueJson(i, c)),
  };
}
