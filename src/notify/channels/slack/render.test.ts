import { describe, expect, it } from 'vitest';
import { H, T0, issue, message } from '../../../../test/support/notify-messages.ts';
import { renderSlackBody, slackEscape } from './render.ts';

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
