import { describe, expect, it } from 'vitest';
import { H, T0, issue, message } from '../../../../test/support/notify-messages.ts';
import { htmlEscape, inlineCodeHtml, renderEmail } from './render.ts';

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
    expect(resolved.text).toContain('Resolved 2026-11-06T14:05:00Z after 2 h 5 min open');
    expect(resolved.text).not.toContain('Diagnose');
    const reminder = renderEmail(message('reminder', [issue()], T0 + 24 * H));
    expect(reminder.subject).toBe('[Vigil] Still open after 1 d: RC Integration Offline: bouncer web');
  });

  it('shows Markdown code spans of any fence length as <code>, everything escaped', () => {
    expect(inlineCodeHtml('run `vigil bouncers list` now')).toBe('run <code>vigil bouncers list</code> now');
    expect(inlineCodeHtml('name `` a`b `` <x>')).toBe('name <code>a`b</code> &lt;x&gt;');
    expect(inlineCodeHtml('lone ` tick & <b>')).toBe('lone ` tick &amp; &lt;b&gt;');
    expect(htmlEscape(`"'&<>`)).toBe('&quot;&#39;&amp;&lt;&gt;');
  });
});
