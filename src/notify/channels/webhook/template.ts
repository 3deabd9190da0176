import { issueLink } from '../../../core/notify/links.ts';
import Mustache from 'mustache';
import type { OutgoingMessage } from '../../../core/notify/types.ts';
import { VigilError } from '../../../lib/errors.ts';
import { sampleMessage } from '../../sample.ts';
import { webhookBody } from './render.ts';

/**
 * A webhook body in the receiver's own format: a Mustache template (logic-less: no code runs)
 * over the webhook body (docs/notifications.md). Every `{{value}}` is JSON-string-escaped, so an
 * operator-chosen bouncer name or a summary cannot break out of its JSON string.
 */
const jsonEscape = (v: unknown) => JSON.stringify(String(v)).slice(1, -1);

/** The template's view: the webhook body, each issue with its dashboard `link` and `first`/`last` (for commas between array items). */
function view(m: OutgoingMessage) {
  const body = webhookBody(m);
  return {
    ...body,
    issues: body.issues.map((i, n, all) => ({ ...i, link: issueLink(m.content, i.id), first: n === 0, last: n === all.length - 1 })),
  };
}

export function renderTemplate(template: string, m: OutgoingMessage): string {
  return Mustache.render(template, view(m), {}, { escape: jsonEscape });
}

type Token = [string, string, number, number, Token[]?, ...unknown[]];

/**
 * Refuses, naming the key, a template that cannot parse, that inserts a value unescaped
 * (`{{{x}}}`, `{{&x}}`: a summary could then break the JSON) or names a partial (there are none),
 * or that does not make JSON from the `vigil notify test` sample, opened and resolved.
 */
export function checkTemplate(key: string, template: string): void {
  let tokens: Token[];
  try {
    tokens = Mustache.parse(template) as unknown as Token[];
  } catch (e) {
    throw new VigilError('E_CONFIG', `${key}: not a Mustache template: ${(e as Error).message}`);
  }
  const walk = (list: Token[]) => {
    for (const t of list) {
      if (t[0] === '&' || t[0] === '{')
        throw new VigilError('E_CONFIG', `${key}: {{{${t[1]}}}} inserts "${t[1]}" unescaped; use {{${t[1]}}} (values are JSON-escaped)`);
      if (t[0] === '>') throw new VigilError('E_CONFIG', `${key}: partials ({{> ${t[1]}}}) are not available; write the text in the template`);
      if (t[4]) walk(t[4]);
    }
  };
  walk(tokens);
  const opened = sampleMessage(Date.UTC(2026, 0, 1), 'http://127.0.0.1:8080/');
  const resolved = { ...opened, event: 'resolved' as const, issues: opened.issues.map((i) => ({ ...i, resolvedAt: i.openedAt + 60_000 })) };
  for (const content of [opened, resolved]) {
    const text = renderTemplate(template, { deliveryId: '00000000-0000-4000-8000-000000000000', channel: 'check', content });
    try {
      JSON.parse(text);
    } catch (e) {
      throw new VigilError(
        'E_CONFIG',
        `${key}: does not make JSON for a ${content.event} message (${(e as Error).message}); put values in quotes: "{{summary}}"`,
      );
    }
  }
}
