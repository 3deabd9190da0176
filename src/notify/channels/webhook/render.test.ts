import { describe, expect, it } from 'vitest';
import { H, LAPI, T0, issue, message } from '../../../../test/support/notify-messages.ts';
import { renderWebhookBody } from './render.ts';
import { signBody, verifySignature } from './signature.ts';

describe('webhook body', () => {
  it('carries the delivery id, the event, each issue with its likely cause and runbook', () => {
    const body = JSON.parse(renderWebhookBody(message('opened', [issue()])));
    expect(body).toMatchObject({
      version: 1,
      deliveryId: '11111111-2222-4333-8444-555555555555',
      channel: 'ops',
      event: 'opened',
      createdAt: '2026-11-06T12:00:00.000Z',
      headline: 'CRITICAL: RC Integration Offline: bouncer web',
      lapiUrl: LAPI,
      part: { index: 1, of: 1 },
    });
    const [i] = body.issues;
    expect(i).toMatchObject({
      id: 7,
      kind: 'rc_integration_offline',
      title: 'RC Integration Offline',
      bouncer: 'web',
      openedAt: '2026-11-06T12:00:00.000Z',
      since: '2026-11-05T11:00:00.000Z',
      resolvedAt: null,
      likelyCause: { cause: 'authentication', confidence: 'high', text: 'authentication failure (key invalid, bouncer deleted or re-registered)' },
      notes: ['its IP changed from 192.0.2.6 to 192.0.2.7 just before'],
    });
    expect(i.runbook.sections.map((s: { title: string }) => s.title)).toEqual(['Diagnose', 'Resolve', 'Verify']);
    expect(i.runbook.markdown).toContain('### Diagnose');
  });

  it('is signed with HMAC-SHA256 over the exact bytes (GitHub style), verifiable by the receiver', () => {
    const body = renderWebhookBody(message('opened', [issue()]));
    const sig = signBody('s3cret', body);
    expect(sig).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(verifySignature('s3cret', body, sig)).toBe(true);
    expect(verifySignature('other', body, sig)).toBe(false);
    expect(verifySignature('s3cret', body + ' ', sig)).toBe(false);
    expect(verifySignature('s3cret', body, undefined)).toBe(false);
    // Known vector: the HMAC itself is standard.
    expect(signBody('key', 'The quick brown fox jumps over the lazy dog')).toBe('sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8');
  });

  it("builds the runbook when rendering, with the store's runbook settings (vigil watch: cscli)", () => {
    const m = message('opened', [issue()]);
    expect(JSON.parse(renderWebhookBody(m)).issues[0].runbook.markdown).toContain('vigil bouncers list');
    const watch = { ...m, content: { ...m.content, runbookSettings: { cli: 'cscli' as const } } };
    const md = JSON.parse(renderWebhookBody(watch)).issues[0].runbook.markdown;
    expect(md).toContain('cscli bouncers list');
    expect(md).not.toContain('vigil bouncers list');
    // Nothing of the runbook is stored with the message.
    expect(JSON.stringify(m.content).length).toBeLessThan(2000);
  });

  it('leaves out the runbook of a resolved issue', () => {
    const body = JSON.parse(renderWebhookBody(message('resolved', [issue({ resolvedAt: T0 + 2 * H })])));
    expect(body.issues[0]).toMatchObject({ resolvedAt: '2026-11-06T14:00:00.000Z', runbook: null });
  });
});
