import type { IssueSnapshot, MessageContent, OutgoingMessage } from '../../../core/notify/types.ts';
import { headline, issueChange, issueLabel, issueTiming } from '../../../core/notify/wording.ts';

const COLOR: Record<string, string> = { critical: '#d62728', high: '#d62728', warning: '#ff9f1c', recommended: '#1f77b4' };
const RESOLVED = '#2ca02c';

/** Slack's mrkdwn treats only these three as markup-significant (its documented escaping rule). */
export function slackEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function attachment(i: IssueSnapshot, c: MessageContent, deliveryId: string) {
  const lines = [slackEscape(i.summary), slackEscape(issueTiming(i, c))];
  const change = issueChange(i);
  if (change) lines.push(`*${slackEscape(change)}*`);
  if (i.resolvedAt === null && i.likelyCause) {
    lines.push(`*Likely cause:* ${slackEscape(i.likelyCause.text)} (${i.likelyCause.confidence} confidence)`);
    for (const e of i.likelyCause.evidence.slice(0, 3)) lines.push(`• ${slackEscape(e)}`);
  }
  if (i.resolvedAt === null) lines.push(`Runbook: \`vigil issues show ${i.id}\` · stop reminders: \`vigil issues ack ${i.id}\``);
  return {
    color: i.resolvedAt !== null ? RESOLVED : (COLOR[i.criticality] ?? COLOR.warning),
    fallback: slackEscape(issueLabel(i)),
    title: slackEscape(`${issueLabel(i)} (issue ${i.id}, ${i.criticality})`),
    text: lines.join('\n'),
    footer: `Vigil · delivery ${deliveryId}`,
    ts: Math.floor((i.resolvedAt ?? i.openedAt) / 1000),
    mrkdwn_in: ['text'],
  };
}

/**
 * A Slack incoming-webhook body: `text` plus legacy `attachments`, the subset Slack, Mattermost
 * and Discord's Slack-compatible endpoint all render (Block Kit is Slack-only). No runbook: it is
 * too long for a chat line; the message names the command that prints it.
 */
export function renderSlackBody(m: OutgoingMessage): string {
  const c = m.content;
  const text = c.event === 'test' ? `${slackEscape(headline(c))} (delivery ${m.deliveryId})` : `*${slackEscape(headline(c))}*`;
  return JSON.stringify({ text, attachments: c.issues.map((i) => attachment(i, c, m.deliveryId)) });
}
