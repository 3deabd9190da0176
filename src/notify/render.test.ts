import { describe, expect, it } from 'vitest';
import type { HealthIssue } from '../store/health-types.ts';
import { renderWebhookBody } from './render-webhook.ts';
import { renderSlackBody, slackEscape } from './render-slack.ts';
import { htmlEscape, inlineCodeHtml, renderEmail } from './render-email.ts';
import { sampleMessage } from './sample.ts';
import { signBody, verifySignature } from './signature.ts';
import { snapshotIssue } from './snapshot.ts';
import type { MessageContent, OutgoingMessage } from './types.ts';
import { headline, humanDuration } from './wording.ts';

const T0 = Date.UTC(2026, 10, 6, 12, 0, 0);
const H = 3600_000;
const LAPI = 'http://127.0.0.1:8080/';

// Names come from operators and types from any client holding a key: markup must stay text.
const hostile = '<script>alert(1)</script> & `rm -rf`';

function issue(over: Partial<HealthIssue> = {}): HealthIssue {
  return {
    id: 7,
    kind: 'rc_integration_offline',
    criticality: 'critical',
    subject: 'bouncer:web',
    bouncerName: 'web',
    openedAt: T0,
    lastSeenAt: T0,
    resolvedAt: null,
    since: T0 - 25 * H,
    summary: `bouncer 'web' (${hostile}) has not pulled decisions for 25h0m0s`,
    evidence: {
      causes: [{ cause: 'authentication', confidence: 'high', evidence: ['3 requests refused with an unknown key from 192.0.2.7'] }],
      notes: ['its IP changed from 192.0.2.6 to 192.0.2.7 just before'],
    },
    ...over,
  };
}

function message(event: MessageContent['event'], issues: HealthIssue[], createdAt = T0): OutgoingMessage {
  return {
    deliveryId: '11111111-2222-4333-8444-555555555555',
    channel: 'ops',
    content: { event, createdAt, lapiUrl: LAPI, issues: issues.map((i) => snapshotIssue(i, undefined)), part: { index: 1, of: 1 } },
  };
}

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

describe('Slack body', () => {
  it('uses text and attachments (what Slack, Mattermost and Discord all render), escaped, with the delivery id', () => {
    const body = JSON.parse(renderSlackBody(message('opened', [issue()])));
    expect(body.text).toBe('*CRITICAL: RC Integration Offline: bouncer web*');
    const [a] = body.attachments;
    expect(a.color).toBe('#d62728');
    expect(a.title).toBe('RC Integration Offline: bouncer web (issue 7, critical)');
    expect(a.footer).toBe('Vigil · delivery 11111111-2222-4333-8444-555555555555');
    expect(a.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp;');
    expect(a.text).not.toContain('<script>');
    expect(a.text).toContain('*Likely cause:* authentication failure');
    expect(a.text).toContain('`vigil issues ack 7`');
    const resolved = JSON.parse(renderSlackBody(message('resolved', [issue({ resolvedAt: T0 + 2 * H })])));
    expect(resolved.text).toBe('*Resolved: RC Integration Offline: bouncer web*');
    expect(resolved.attachments[0].color).toBe('#2ca02c');
    expect(slackEscape('a<b>&c')).toBe('a&lt;b&gt;&amp;c');
  });
});

describe('e-mail', () => {
  it('has a subject naming what happened, a plain-text body with the runbook, and escaped HTML', () => {
    const m = renderEmail(message('opened', [issue(), issue({ id: 8, bouncerName: 'fw', subject: 'bouncer:fw', kind: 'fw_integration_offline' })]));
    expect(m.subject).toBe('[Vigil] 2 issues opened: RC Integration Offline: bouncer web and 1 more');
    expect(m.text).toContain('[CRITICAL] RC Integration Offline: bouncer web (issue 7)');
    expect(m.text).toContain('Likely cause: authentication failure (key invalid, bouncer deleted or re-registered) (high confidence)');
    expect(m.text).toContain('  - 3 requests refused with an unknown key from 192.0.2.7');
    expect(m.text).toContain('Diagnose');
    expect(m.text).toContain('delivery 11111111-2222-4333-8444-555555555555');
    expect(m.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(m.html).not.toContain('<script>');
    expect(m.html).toContain('<h4 style="margin:12px 0 4px">Diagnose</h4>');
  });

  it('says how long a resolved issue lasted, and how long a reminded one has been open', () => {
    const resolved = renderEmail(message('resolved', [issue({ resolvedAt: T0 + 2 * H + 5 * 60_000 })]));
    expect(resolved.subject).toBe('[Vigil] Resolved: RC Integration Offline: bouncer web');
    expect(resolved.text).toContain('Resolved 2026-11-06T14:05:00Z after 2h 5m open');
    expect(resolved.text).not.toContain('Diagnose');
    const reminder = renderEmail(message('reminder', [issue()], T0 + 24 * H));
    expect(reminder.subject).toBe('[Vigil] Still open after 1d: RC Integration Offline: bouncer web');
  });

  it('shows Markdown code spans of any fence length as <code>, everything escaped', () => {
    expect(inlineCodeHtml('run `vigil bouncers list` now')).toBe('run <code>vigil bouncers list</code> now');
    expect(inlineCodeHtml('name `` a`b `` <x>')).toBe('name <code>a`b</code> &lt;x&gt;');
    expect(inlineCodeHtml('lone ` tick & <b>')).toBe('lone ` tick &amp; &lt;b&gt;');
    expect(htmlEscape(`"'&<>`)).toBe('&quot;&#39;&amp;&lt;&gt;');
  });
});

describe('wording', () => {
  it('names the group and splits long ones into parts', () => {
    const c = message('opened', [issue(), issue({ id: 9 })]).content;
    expect(headline({ ...c, part: { index: 2, of: 3 } })).toBe('2 issues opened: RC Integration Offline: bouncer web and 1 more (part 2 of 3)');
    expect(headline(sampleMessage(T0, LAPI))).toBe('Test notification from Vigil: this channel works');
    expect([45_000, 125_000, 3 * H, 26 * H, 49 * H].map(humanDuration)).toEqual(['45s', '2m 5s', '3h', '1d 2h', '2d 1h']);
  });
});
