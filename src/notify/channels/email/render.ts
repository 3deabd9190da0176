import type { Runbook } from '../../../core/health/runbooks/index.ts';
import { formatRunbookText } from '../../../presentation/runbook-format.ts';
import { snapshotRunbook } from '../../../core/notify/snapshot.ts';
import type { IssueSnapshot, OutgoingMessage } from '../../../core/notify/types.ts';
import { headline, issueChange, issueLabel, issueTiming } from '../../../core/notify/wording.ts';

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

export function htmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** Runbook prose marks values as Markdown code spans (any fence length); HTML shows them as <code>. */
export function inlineCodeHtml(text: string): string {
  let out = '';
  let rest = text;
  for (;;) {
    const open = /`+/.exec(rest);
    if (!open) break;
    const fence = open[0];
    const close = rest.indexOf(fence, open.index + fence.length);
    // A lone run of backticks (no closing fence of the same length) is plain text.
    if (close < 0 || rest[close + fence.length] === '`') {
      out += htmlEscape(rest.slice(0, open.index + fence.length));
      rest = rest.slice(open.index + fence.length);
      continue;
    }
    let inner = rest.slice(open.index + fence.length, close);
    if (inner.length > 1 && inner.startsWith(' ') && inner.endsWith(' ')) inner = inner.slice(1, -1);
    out += htmlEscape(rest.slice(0, open.index)) + `<code>${htmlEscape(inner)}</code>`;
    rest = rest.slice(close + fence.length);
  }
  return out + htmlEscape(rest);
}

function issueText(i: IssueSnapshot, m: OutgoingMessage): string {
  const c = m.content;
  const lines = [`[${i.criticality.toUpperCase()}] ${issueLabel(i)} (issue ${i.id})`, i.summary, issueTiming(i, c)];
  const change = issueChange(i);
  if (change) lines.push(change);
  if (i.resolvedAt === null) {
    for (const [n, cause] of i.causes.entries()) {
      lines.push(
        `${n === 0 ? 'Likely cause' : 'Also possible'}: ${n === 0 && i.likelyCause ? i.likelyCause.text : cause.cause} (${cause.confidence} confidence)`,
      );
      for (const e of cause.evidence) lines.push(`  - ${e}`);
    }
    if (i.notes.length > 0) lines.push('Noted:', ...i.notes.map((n) => `  - ${n}`));
    lines.push(`Details: vigil issues show ${i.id}    Stop reminders: vigil issues ack ${i.id}`);
    const runbook = c.event === 'reminder' ? null : snapshotRunbook(i, c);
    if (runbook) lines.push('', formatRunbookText(runbook).trimEnd());
  }
  return lines.join('\n');
}

function runbookHtml(r: Runbook): string {
  const parts = [`<h3 style="margin:16px 0 4px">${inlineCodeHtml(r.title)}</h3>`, `<p>${inlineCodeHtml(r.summary)}</p>`];
  const fields = [
    r.configPath ? `Config: <code>${htmlEscape(r.configPath)}</code>` : '',
    r.serviceName ? `Service: <code>${htmlEscape(r.serviceName)}</code>` : '',
  ].filter((f) => f !== '');
  if (fields.length > 0) parts.push(`<p>${fields.join(' · ')}</p>`);
  for (const section of r.sections) {
    parts.push(`<h4 style="margin:12px 0 4px">${htmlEscape(section.title)}</h4><ol>`);
    for (const step of section.steps) {
      const cmds = step.commands.length > 0 ? `<pre style="background:#f4f4f4;padding:8px;overflow-x:auto">${htmlEscape(step.commands.join('\n'))}</pre>` : '';
      parts.push(`<li>${inlineCodeHtml(step.text)}${cmds}</li>`);
    }
    parts.push('</ol>');
  }
  return parts.join('\n');
}

const COLOR: Record<string, string> = { critical: '#d62728', high: '#d62728', warning: '#b36b00', recommended: '#1f77b4' };

function issueHtml(i: IssueSnapshot, m: OutgoingMessage): string {
  const c = m.content;
  const color = i.resolvedAt !== null ? '#2ca02c' : (COLOR[i.criticality] ?? '#b36b00');
  const parts = [
    `<div style="border-left:4px solid ${color};padding:4px 12px;margin:16px 0">`,
    `<h2 style="margin:0 0 4px;font-size:16px">${htmlEscape(issueLabel(i))} <span style="color:${color}">[${htmlEscape(i.criticality)}]</span> <small>issue ${i.id}</small></h2>`,
    `<p>${htmlEscape(i.summary)}</p>`,
    `<p><small>${htmlEscape(issueTiming(i, c))}</small></p>`,
  ];
  const change = issueChange(i);
  if (change) parts.push(`<p><b>${htmlEscape(change)}</b></p>`);
  if (i.resolvedAt === null) {
    if (i.causes.length > 0) {
      parts.push('<p><b>Likely cause, from what the Local API saw:</b></p><ol>');
      for (const [n, cause] of i.causes.entries()) {
        const text = n === 0 && i.likelyCause ? i.likelyCause.text : cause.cause;
        const ev = cause.evidence.map((e) => `<li>${htmlEscape(e)}</li>`).join('');
        parts.push(`<li>${htmlEscape(text)} (${htmlEscape(cause.confidence)} confidence)${ev ? `<ul>${ev}</ul>` : ''}</li>`);
      }
      parts.push('</ol>');
    }
    if (i.notes.length > 0) parts.push(`<p><b>Noted:</b></p><ul>${i.notes.map((n) => `<li>${htmlEscape(n)}</li>`).join('')}</ul>`);
    parts.push(`<p><small>Details: <code>vigil issues show ${i.id}</code> · stop reminders: <code>vigil issues ack ${i.id}</code></small></p>`);
    const runbook = c.event === 'reminder' ? null : snapshotRunbook(i, c);
    if (runbook) parts.push(runbookHtml(runbook));
  }
  parts.push('</div>');
  return parts.join('\n');
}

/** Subject, plain text and HTML of one notification e-mail; every value from the store is escaped in the HTML. */
export function renderEmail(m: OutgoingMessage): RenderedEmail {
  const c = m.content;
  const title = headline(c);
  const subject = `[Vigil] ${title}`.replace(/[\r\n]+/g, ' ').slice(0, 200);
  const footer = `Vigil · Local API ${c.lapiUrl} · delivery ${m.deliveryId}`;
  const text = [title, '', ...c.issues.map((i) => issueText(i, m) + '\n'), '-- ', footer, ''].join('\n');
  const html = [
    '<!doctype html><html><body style="font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;font-size:14px;color:#222">',
    `<h1 style="font-size:18px">${htmlEscape(title)}</h1>`,
    ...c.issues.map((i) => issueHtml(i, m)),
    `<p style="color:#777;font-size:12px">${htmlEscape(footer)}</p>`,
    '</body></html>',
  ].join('\n');
  return { subject, text, html };
}
