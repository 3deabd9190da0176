import { issueLink } from '../../../core/notify/links.ts';
import type { IssueSnapshot, MessageContent, OutgoingMessage } from '../../../core/notify/types.ts';
import { headline, issueChange, issueLabel, issueTiming } from '../../../core/notify/wording.ts';

/** Issues per card: a workflow webhook takes at most 28 KB, and a card of 25 issues with causes would near it. */
export const TEAMS_ISSUES_PER_CARD = 10;

// Adaptive Card's named text colours.
const COLOR: Record<string, string> = { critical: 'Attention', high: 'Attention', warning: 'Warning', recommended: 'Accent' };

/** The Markdown subset TextBlocks render: its characters as text, so names cannot make links or emphasis. */
export function teamsEscape(text: string): string {
  return text.replace(/[\\*_[\]`]/g, (c) => `\\${c}`);
}

function issueBlock(i: IssueSnapshot, c: MessageContent) {
  const facts = [
    { title: 'Issue', value: String(i.id) },
    { title: 'Criticality', value: i.criticality },
    { title: 'Subject', value: teamsEscape(i.subject) },
  ];
  if (i.resolvedAt === null && i.likelyCause)
    facts.push({ title: 'Likely cause', value: teamsEscape(`${i.likelyCause.text} (${i.likelyCause.confidence} confidence)`) });
  const items: Record<string, unknown>[] = [
    {
      type: 'TextBlock',
      text: teamsEscape(issueLabel(i)),
      weight: 'Bolder',
      color: i.resolvedAt !== null ? 'Good' : (COLOR[i.criticality] ?? 'Default'),
      wrap: true,
    },
    { type: 'TextBlock', text: teamsEscape(i.summary), wrap: true },
    { type: 'TextBlock', text: teamsEscape(issueTiming(i, c)), isSubtle: true, spacing: 'None', wrap: true },
  ];
  const change = issueChange(i);
  if (change) items.push({ type: 'TextBlock', text: teamsEscape(change), weight: 'Bolder', wrap: true });
  items.push({ type: 'FactSet', facts });
  if (i.resolvedAt === null)
    items.push({ type: 'TextBlock', text: `Runbook: \`vigil issues show ${i.id}\` · stop reminders: \`vigil issues ack ${i.id}\``, wrap: true });
  return {
    type: 'Container',
    separator: true,
    items,
    selectAction: { type: 'Action.OpenUrl', url: issueLink(c, i.id) },
  };
}

/**
 * The workflow webhook bodies of one message: `{"type":"message","attachments":[Adaptive Card 1.4]}`,
 * as Teams' "Send webhook alerts to a channel" workflow takes it, one card per up to 10 issues.
 * Each issue is a container (label, summary, timing, facts, runbook command) opening its dashboard page.
 */
export function renderTeamsBodies(m: OutgoingMessage): string[] {
  const c = m.content;
  const head = c.event === 'test' ? `${headline(c)} (delivery ${m.deliveryId})` : headline(c);
  const parts: IssueSnapshot[][] = [];
  for (let n = 0; n < c.issues.length; n += TEAMS_ISSUES_PER_CARD) parts.push(c.issues.slice(n, n + TEAMS_ISSUES_PER_CARD));
  if (parts.length === 0) parts.push([]);
  return parts.map((issues, n) =>
    JSON.stringify({
      type: 'message',
      attachments: [
        {
          contentType: 'application/vnd.microsoft.card.adaptive',
          contentUrl: null,
          content: {
            $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
            type: 'AdaptiveCard',
            version: '1.4',
            msteams: { width: 'Full' },
            body: [
              {
                type: 'TextBlock',
                text: teamsEscape(parts.length > 1 ? `${head} (${n + 1}/${parts.length})` : head),
                size: 'Medium',
                weight: 'Bolder',
                wrap: true,
              },
              ...issues.map((i) => issueBlock(i, c)),
              { type: 'TextBlock', text: `Vigil · delivery ${m.deliveryId}`, isSubtle: true, size: 'Small', wrap: true },
            ],
            actions: issues.length === 1 ? [{ type: 'Action.OpenUrl', title: 'Open in Vigil', url: issueLink(c, issues[0]!.id) }] : [],
          },
        },
      ],
    }),
  );
}
