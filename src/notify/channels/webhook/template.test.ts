import { describe, expect, it } from 'vitest';
import { resolveOneChannel, useHttpReceivers } from '../../../../test/support/channel-tests.ts';
import { H, LAPI, T0, hostile, issue, message } from '../../../../test/support/notify-messages.ts';
import type { WebhookChannel } from './index.ts';
import { webhookSender } from './sender.ts';
import { verifySignature } from './signature.ts';

/** The webhook's `template`: the body in the receiver's format, rendered with Mustache, values JSON-escaped. */
const channel = (url: string, template: string, extra: Record<string, unknown> = {}) =>
  resolveOneChannel<WebhookChannel>('hook', { type: 'webhook', url, template, ...extra });

// A Google Chat-like receiver: `{"text": …}` and a list of cards.
const CHAT = `{
  "text": "{{headline}} ({{event}}, delivery {{deliveryId}})",
  "cards": [{{#issues}}{"id": {{id}}, "title": "{{title}}", "summary": "{{summary}}", "cause": "{{likelyCause.text}}", "link": "{{link}}", "resolved": "{{resolvedAt}}"}{{^last}},{{/last}}{{/issues}}]
}`;

describe('webhook template', () => {
  const receiver = useHttpReceivers();

  it("sends the body in the receiver's format, every value JSON-escaped (quotes, backslashes, line breaks, markup stay text)", async () => {
    const rx = await receiver();
    const nasty = `${hostile} "quoted" \\ back\nnew line`;
    const ch = channel(rx.url, CHAT, { secret: 's3cret' });
    await webhookSender(ch, 2000).send(message('opened', [issue({ summary: nasty }), issue({ id: 8, evidence: { causes: [], notes: [] } })]));
    const r = rx.requests[0]!;
    expect(r.headers['content-type']).toBe('application/json');
    expect(r.json).toEqual({
      text: '2 issues opened: RC Integration Offline: bouncer web and 1 more (opened, delivery 11111111-2222-4333-8444-555555555555)',
      cards: [
        {
          id: 7,
          title: 'RC Integration Offline',
          summary: nasty,
          cause: 'authentication failure (key invalid, bouncer deleted or re-registered)',
          link: `${LAPI}ui/issues/7`,
          resolved: '',
        },
        { id: 8, title: 'RC Integration Offline', summary: expect.any(String), cause: '', link: `${LAPI}ui/issues/8`, resolved: '' },
      ],
    });
    // The signature covers the rendered bytes.
    expect(verifySignature('s3cret', r.body, r.headers['x-vigil-signature-256'] as string)).toBe(true);
    await webhookSender(ch, 2000).send(message('resolved', [issue({ resolvedAt: T0 + H })]));
    expect(rx.requests[1]!.json.cards[0].resolved).toBe('2026-11-06T13:00:00.000Z');
  });

  it('refuses, naming the key, a template that does not parse, inserts a value unescaped, names a partial or makes no JSON', () => {
    const at = /notifications\.channels\.hook\.template: /;
    expect(() => channel('http://127.0.0.1:9/', '{"text": "{{#issues}}"}')).toThrow(at);
    expect(() => channel('http://127.0.0.1:9/', '{"text": "{{{headline}}}"}')).toThrow(/\{\{\{headline\}\}\} inserts "headline" unescaped/);
    expect(() => channel('http://127.0.0.1:9/', '{"text": "{{&headline}}"}')).toThrow(/unescaped/);
    expect(() => channel('http://127.0.0.1:9/', '{"text": "{{> card}}"}')).toThrow(/partials/);
    expect(() => channel('http://127.0.0.1:9/', '{"text": {{headline}}}')).toThrow(/does not make JSON for a test message/);
    expect(channel('http://127.0.0.1:9/', CHAT).template).toBe(CHAT);
    expect(channel('http://127.0.0.1:9/', undefined as unknown as string).template).toBeNull();
  });
});
