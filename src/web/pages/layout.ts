import { html, type Html } from '../html.ts';
import { exactTime, relativeTime } from '../../lib/human-time.ts';
import type { BouncerState } from '../../core/health/bouncer-state.ts';
import type { IssueStatus } from '../../core/health/issue-view.ts';

export type Section = 'fleet' | 'issues' | 'decisions' | 'none';

export interface PageContext {
  /** Null on the login page. */
  csrfToken: string | null;
  openIssues: number;
  /** The Decisions page exists (vigil serve; not vigil watch). */
  decisions: boolean;
  /** Asset URLs carry a content hash, so browsers may cache them for good. */
  assets: { css: string; js: string };
}

export const STATUS_LABEL: Record<BouncerState, string> = {
  failing: 'Failing',
  healthy: 'Healthy',
  late: 'Late',
  offline: 'Offline',
  never_pulled: 'Never pulled',
  revoked: 'Revoked',
};

/** A status is always a word and a colour, never a colour alone. */
export function statusBadge(status: BouncerState): Html {
  return html`<span class="status status-${status}">${STATUS_LABEL[status]}</span>`;
}

export function criticalityBadge(criticality: string): Html {
  return html`<span class="crit crit-${criticality}">${criticality}</span>`;
}

export function issueStatusBadge(status: IssueStatus): Html {
  return html`<span class="istatus istatus-${status}">${status}</span>`;
}

/** "3 min ago", the exact time on hover (localised by the browser script) and for screen readers. */
export function timeAgo(ms: number | null, now: number, never = 'never'): Html {
  if (ms === null) return html`<span class="muted">${never}</span>`;
  const iso = new Date(ms).toISOString();
  return html`<time datetime="${iso}" title="${exactTime(ms)}">${relativeTime(ms, now)}</time>`;
}

export function layout(ctx: PageContext, opts: { title: string; section: Section }, main: Html): Html {
  const nav = (section: Section, href: string, label: string, extra?: Html) =>
    html`<a href="${href}"${opts.section === section ? html` aria-current="page"` : ''}>${label}${extra ?? ''}</a>`;
  const loggedIn = ctx.csrfToken !== null;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light">
${loggedIn ? html`<meta name="csrf-token" content="${ctx.csrfToken}">` : ''}
<title>${opts.title} · Vigil</title>
<link rel="stylesheet" href="${ctx.assets.css}">
<link rel="icon" href="data:,">
${loggedIn ? html`<script type="module" src="${ctx.assets.js}"></script>` : ''}
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
  <a class="brand" href="/ui/">Vigil</a>
  ${
    loggedIn
      ? html`<nav aria-label="Main">
    ${nav('fleet', '/ui/', 'Fleet')}
    ${nav('issues', '/ui/issues', 'Issues', html` <span class="count" id="nav-issues" data-live aria-label="${ctx.openIssues} open">${ctx.openIssues}</span>`)}
    ${ctx.decisions ? nav('decisions', '/ui/decisions', 'Decisions') : ''}
  </nav>
  <form class="logout" method="post" action="/ui/logout"><input type="hidden" name="csrf" value="${ctx.csrfToken}"><button type="submit" class="linklike">Log out</button></form>`
      : ''
  }
</header>
<main id="main" tabindex="-1">
${main}
</main>
${
  loggedIn
    ? html`<footer class="foot"><span id="live-state" class="live live-connecting" role="status">Connecting…</span> · times are UTC; hover one for your local time</footer>
<div id="toast" class="toast" role="status" aria-live="polite"></div>
<dialog id="confirm" aria-labelledby="confirm-title">
  <form method="dialog">
    <h2 id="confirm-title">Please confirm</h2>
    <p id="confirm-text"></p>
    <div class="actions"><button value="cancel" class="secondary">Cancel</button> <button value="ok" id="confirm-ok" class="danger">Confirm</button></div>
  </form>
</dialog>`
    : ''
}
</body>
</html>
`;
}

/** Runbook and evidence text marks commands and values as Markdown code spans: show them as code. */
export function inlineCode(text: string): Html {
  const parts: Html[] = [];
  let i = 0;
  let plainFrom = 0;
  while (i < text.length) {
    if (text[i] !== '`') {
      i++;
      continue;
    }
    let run = 0;
    while (text[i + run] === '`') run++;
    const fence = '`'.repeat(run);
    let close = text.indexOf(fence, i + run);
    // The closing fence must be exactly as long (a longer run is content).
    while (close >= 0 && text[close + run] === '`') close = text.indexOf(fence, close + run + 1);
    if (close < 0) {
      i += run;
      continue;
    }
    let body = text.slice(i + run, close);
    if (body.length > 1 && body.startsWith(' ') && body.endsWith(' ')) body = body.slice(1, -1);
    parts.push(html`${text.slice(plainFrom, i)}<code>${body}</code>`);
    i = close + run;
    plainFrom = i;
  }
  parts.push(html`${text.slice(plainFrom)}`);
  return html`${parts}`;
}
