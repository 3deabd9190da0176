import { issueLink } from '../../../core/notify/links.ts';
import type { IssueSnapshot, MessageContent, OutgoingMessage } from '../../../core/notify/types.ts';
import { headline, issueChange, issueLabel, issueTiming } from '../../../core/notify/wording.ts';

/** Discord's documented limits (Execute Webhook, Embed Limits). */
export const DISCORD_LIMITS = {
  content: 2000,
  embeds: 10,
  title: 256,
  description: 4096,
  fields: 25,
  fieldName: 256,
  fieldValue: 1024,
  footer: 2048,
  total: 6000,
};

const COLOR: Record<string, number> = { critical: 0xd62728, high: 0xd62728, warning: 0xff9f1c, recommended: 0x1f77b4 };
const RESOLVED = 0x2ca02c;

/** Discord's inline markdown characters as text (a bouncer named `**x**` stays that name; `[a](b)` makes no link). */
export function discordEscape(text: string): string {
  return text.replace(/[\\*_~`|[\]]/g, (c) => `\\${c}`);
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

interface Embed {
  title: string;
  description: string;
  url: string;
  color: number;
  timestamp: string;
  fields: { name: string; value: string; inline: boolean }[];
  footer: { text: string };
}

/** Characters Discord counts against the 6,000 of a message: title, description, field names and values, footer. */
export function embedSize(e: Embed): number {
  return e.title.length + e.description.length + e.footer.text.length + e.fields.reduce((n, f) => n + f.name.length + f.value.length, 0);
}

function embed(i: IssueSnapshot, c: MessageContent, deliveryId: string): Embed {
  const lines = [discordEscape(i.summary), discordEscape(issueTiming(i, c))];
  const change = issueChange(i);
  if (change) lines.push(`**${discordEscape(change)}**`);
  const fields: Embed['fields'] = [
    { name: 'Criticality', value: i.criticality, inline: true },
    { name: 'Issue', value: String(i.id), inline: true },
  ];
  if (i.resolvedAt === null && i.likelyCause) {
    const evidence = i.likelyCause.evidence.slice(0, 3).map((e) => `• ${discordEscape(e)}`);
    fields.push({
      name: 'Likely cause',
      value: cut([`${discordEscape(i.likelyCause.text)} (${i.likelyCause.confidence} confidence)`, ...evidence].join('\n'), DISCORD_LIMITS.fieldValue),
      inline: false,
    });
  }
  if (i.resolvedAt === null)
    fields.push({ name: 'Runbook', value: `\`vigil issues show ${i.id}\` · stop reminders: \`vigil issues ack ${i.id}\``, inline: false });
  return {
    title: cut(`${issueLabel(i)} (issue ${i.id}, ${i.criticality})`, DISCORD_LIMITS.title),
    description: cut(lines.join('\n'), DISCORD_LIMITS.description),
    url: issueLink(c, i.id),
    color: i.resolvedAt !== null ? RESOLVED : (COLOR[i.criticality] ?? RESOLVED),
    timestamp: new Date(i.resolvedAt ?? i.openedAt).toISOString(),
    fields: fields.slice(0, DISCORD_LIMITS.fields),
    footer: { text: `Vigil · delivery ${deliveryId}` },
  };
}

/**
 * The Execute Webhook bodies of one message: `content` (the headline) and one embed per issue,
 * split so each body holds at most 10 embeds and 6,000 embed characters. Mentions are disabled
 * (`allowed_mentions.parse: []`): a bouncer named `@everyone` must not ping a server.
 */
export function renderDiscordBodies(m: OutgoingMessage): string[] {
  const c = m.content;
  const head = c.event === 'test' ? `${headline(c)} (delivery ${m.deliveryId})` : `**${discordEscape(headline(c))}**`;
  const embeds = c.issues.map((i) => embed(i, c, m.deliveryId));
  const bodies: Embed[][] = [];
  let current: Embed[] = [];
  let size = 0;
  for (const e of embeds) {
    if (current.length > 0 && (current.length === DISCORD_LIMITS.embeds || size + embedSize(e) > DISCORD_LIMITS.total)) {
      bodies.push(current);
      current = [];
      size = 0;
    }
    current.push(e);
    size += embedSize(e);
  }
  bodies.push(current);
  return bodies.map((part, n) =>
    JSON.stringify({
      content: cut(bodies.length > 1 ? `${head} (${n + 1}/${bodies.length})` : head, DISCORD_LIMITS.content),
      embeds: part,
      allowed_mentions: { parse: [] },
    }),
  );
}
