import { describe, expect, it } from 'vitest';
import { escapeHtml } from '../lib/escape-html.ts';
import { html, raw } from './html.ts';
import { inlineCode } from './pages/layout.ts';

describe('html', () => {
  it('escapes interpolated text, keeps Html, joins arrays and drops null/false', () => {
    const name = `<script>alert("x")</script>&'`;
    expect(html`<p title="${name}">${name}</p>`.text).toBe(
      '<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;</p>',
    );
    expect(html`<ul>${['a', 'b<'].map((x) => html`<li>${x}</li>`)}</ul>${null}${false}${undefined}${0}`.text).toBe('<ul><li>a</li><li>b&lt;</li></ul>0');
    expect(html`${raw('<b>')}`.text).toBe('<b>');
    expect(escapeHtml('a&b')).toBe('a&amp;b');
  });

  it('shows Markdown code spans as <code>, escaping their content, with any fence length', () => {
    expect(inlineCode('run `vigil bouncers list` then `a<b`').text).toBe('run <code>vigil bouncers list</code> then <code>a&lt;b</code>');
    expect(inlineCode('a `` x`y `` b').text).toBe('a <code>x`y</code> b');
    expect(inlineCode('unclosed ` tick <i>').text).toBe('unclosed ` tick &lt;i&gt;');
  });
});
