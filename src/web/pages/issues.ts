import { html, type Html } from '../html.ts';
import { exactTime, humanDuration } from '../../lib/human-time.ts';
import type { IssueRow, IssueView } from '../data.ts';
import { ISSUE_CATALOGUE, type IssueKind } from '../../core/health/types.ts';
import { causeText } from '../../core/health/causes.ts';
import type { Deployment } from '../../core/health/runbooks/index.ts';
import { criticalityBadge, inlineCode, issueStatusBadge, timeAgo } from './layout.ts';

/** Silence and acknowledgement of an issue, when the notifications part provides them. */
export interface IssueMarks {
  /** `byBouncer`: it silences every issue of the bouncer, not just this one. */
  silence: { id: number; endsAt: number; reason: string; byBouncer: boolean } | null;
  acknowledged: { at: number; by: string } | null;
}

export interface IssueActions {
  /** POST /admin/v1/issues/:id/silence and /ack exist on this server. */
  silence: boolean;
  acknowledge: boolean;
}

/** The likely cause as a heading: the wording the CLI and notifications use, capitalised. */
export function causeLabel(cause: string): string {
  const text = causeText(cause);
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export function issueTitle(i: { kind: IssueKind; bouncerName: string | null; subject?: string }): string {
  const title = ISSUE_CATALOGUE[i.kind]?.title ?? i.kind;
  if (!i.bouncerName && i.subject?.startsWith('machine:')) return `${title}: machine ${i.subject.slice('machine:'.length)}`;
  return i.bouncerName ? `${title}: ${i.bouncerName}` : title;
}

export function issuesPage(rows: IssueRow[], marks: Map<number, IssueMarks>, now: number, all: boolean): Html {
  return html`<h1>Issues</h1>
<p class="filters">${all ? html`Showing open and resolved issues. <a href="/ui/issues">Show open issues only</a>` : html`Showing open issues. <a href="/ui/issues?all=1">Show resolved ones too</a>`}</p>
<section id="issues-list" data-live aria-label="Issues">${issuesTable(rows, marks, now, all)}</section>`;
}

function issuesTable(rows: IssueRow[], marks: Map<number, IssueMarks>, now: number, all: boolean): Html {
  if (rows.length === 0) return html`<p class="empty">${all ? 'No issue has been raised yet.' : 'No open issue: every bouncer is pulling its decisions.'}</p>`;
  return html`<div class="table-wrap"><table class="issues">
<caption class="sr-only">Issues, newest first</caption>
<thead><tr><th scope="col">Criticality</th><th scope="col">Issue</th><th scope="col">Likely cause</th><th scope="col">Since</th><th scope="col">Status</th></tr></thead>
<tbody>
${rows.map((i) => {
  const top = i.evidence.causes[0];
  const m = marks.get(i.id);
  return html`<tr data-issue="${i.id}">
<td data-label="Criticality">${criticalityBadge(i.criticality)}</td>
<th scope="row" data-label="Issue"><a href="/ui/issues/${i.id}">${issueTitle(i)}</a></th>
<td data-label="Likely cause">${top ? causeLabel(top.cause) : html`<span class="muted">–</span>`}</td>
<td data-label="Since">${timeAgo(i.since, now)}</td>
<td data-label="Status">${issueStatusBadge(i.status)}${markBadges(m, now)}</td>
</tr>`;
})}
</tbody></table></div>`;
}

function markBadges(m: IssueMarks | undefined, now: number): Html {
  if (!m) return html``;
  return html`${m.silence && m.silence.endsAt > now ? html` <span class="mark">silenced</span>` : ''}${m.acknowledged ? html` <span class="mark">acknowledged</span>` : ''}`;
}

const DEPLOYMENTS: Array<[Deployment, string]> = [
  ['host', 'Host'],
  ['docker', 'Docker'],
  ['kubernetes', 'Kubernetes'],
];

export function issuePage(v: IssueView, marks: IssueMarks | undefined, actions: IssueActions): Html {
  const i = v.issue;
  return html`<p class="crumbs"><a href="/ui/issues">Issues</a> <span aria-hidden="true">/</span> #${i.id}</p>
<h1>${issueTitle(i)}</h1>
<section id="issue-head" data-live aria-label="State">${issueHead(v, marks)}</section>
${i.resolvedAt === null && (actions.silence || actions.acknowledge) ? issueActions(v, marks, actions) : ''}
<section id="issue-causes" data-live aria-labelledby="causes-h">${issueCauses(v)}</section>
<section id="issue-runbook" aria-labelledby="runbook-h">${runbookSection(v)}</section>`;
}

function issueHead(v: IssueView, marks: IssueMarks | undefined): Html {
  const i = v.issue;
  const silenced = marks?.silence && marks.silence.endsAt > v.now ? marks.silence : null;
  return html`<p class="badges">${criticalityBadge(i.criticality)} ${issueStatusBadge(i.status)}${silenced ? html` <span class="mark">silenced until ${exactTime(silenced.endsAt)}</span>` : ''}${marks?.acknowledged ? html` <span class="mark">acknowledged by ${marks.acknowledged.by}</span>` : ''}</p>
<p class="summary">${i.summary}</p>
<dl class="facts">
  <div><dt>Condition since</dt><dd>${timeAgo(i.since, v.now)} <span class="muted">(${exactTime(i.since)})</span></dd></div>
  <div><dt>Opened</dt><dd>${timeAgo(i.openedAt, v.now)}</dd></div>
  <div><dt>Last checked</dt><dd>${timeAgo(i.lastSeenAt, v.now)}</dd></div>
  ${i.resolvedAt !== null ? html`<div><dt>Resolved</dt><dd>${timeAgo(i.resolvedAt, v.now)} <span class="muted">(after ${humanDuration(i.resolvedAt - i.openedAt)})</span></dd></div>` : ''}
  ${i.bouncerName ? html`<div><dt>Bouncer</dt><dd><a href="/ui/bouncers/${encodeURIComponent(i.bouncerName)}">${i.bouncerName}</a>${v.bouncer ? html` <span class="muted">${v.bouncer.type || 'unknown type'}${v.bouncer.ipAddress ? html`, ${v.bouncer.ipAddress}` : ''}</span>` : html` <span class="muted">(deleted)</span>`}</dd></div>` : ''}
  ${silenced ? html`<div><dt>Silenced${silenced.byBouncer ? ' (every issue of this bouncer)' : ''}</dt><dd>until ${exactTime(silenced.endsAt)}${silenced.reason ? html`: ${silenced.reason}` : ''}</dd></div>` : ''}
</dl>`;
}

function issueActions(v: IssueView, marks: IssueMarks | undefined, actions: IssueActions): Html {
  const id = v.issue.id;
  const silenced = marks?.silence && marks.silence.endsAt > v.now ? marks.silence : null;
  return html`<section id="issue-actions" data-live class="panel" aria-labelledby="actions-h">
<h2 id="actions-h">Silence or acknowledge</h2>
<p class="hint">A silenced or acknowledged issue sends no reminders; its resolution is still announced.</p>
<div class="action-row">
${
  actions.silence
    ? silenced
      ? html`<form data-api="DELETE" action="/admin/v1/silences/${silenced.id}" data-done="Silence removed" data-confirm="Remove the silence on issue #${id}? Reminders resume." data-confirm-ok="Remove silence">
  <button type="submit" class="secondary">Remove silence</button></form>`
      : html`<form data-api="POST" action="/admin/v1/issues/${id}/silence" data-done="Issue silenced" class="silence-form">
  <label for="silence-for">Silence for</label>
  <select id="silence-for" name="for"><option value="1h">1 hour</option><option value="8h" selected>8 hours</option><option value="24h">24 hours</option><option value="7d">7 days</option></select>
  <label for="silence-reason">Reason</label>
  <input id="silence-reason" name="reason" required maxlength="500" placeholder="e.g. maintenance window">
  <button type="submit">Silence</button>
  <p class="form-error" role="alert"></p>
</form>`
    : ''
}
${
  actions.acknowledge && !marks?.acknowledged
    ? html`<form data-api="POST" action="/admin/v1/issues/${id}/ack" data-done="Issue acknowledged"><button type="submit" class="secondary">Acknowledge</button><p class="form-error" role="alert"></p></form>`
    : ''
}
</div>
</section>`;
}

function issueCauses(v: IssueView): Html {
  const causes = v.issue.evidence.causes;
  const notes = v.issue.evidence.notes;
  if (causes.length === 0 && notes.length === 0)
    return html`<h2 id="causes-h">Likely cause</h2><p class="muted">This issue concerns the whole fleet; there is no single cause to rank.</p>`;
  return html`<h2 id="causes-h">Likely cause${causes.length > 1 ? 's, most likely first' : ''}</h2>
<ol class="causes">
${causes.map(
  (c) => html`<li class="cause"><p class="cause-title">${causeLabel(c.cause)} <span class="conf conf-${c.confidence}">${c.confidence} confidence</span></p>
${c.evidence.length > 0 ? html`<ul class="evidence">${c.evidence.map((e) => html`<li>${inlineCode(e)}</li>`)}</ul>` : ''}</li>`,
)}
</ol>
${notes.length > 0 ? html`<h3>Also noticed</h3><ul class="evidence">${notes.map((n) => html`<li>${inlineCode(n)}</li>`)}</ul>` : ''}`;
}

function runbookSection(v: IssueView): Html {
  const rb = v.runbook;
  if (!rb) return html`<h2 id="runbook-h">Runbook</h2><p class="muted">Fleet-level issue: see the bouncers' own issues for their runbooks.</p>`;
  let n = 0;
  // A runbook that names no file or service leaves that field out rather than printing it blank.
  const fields = [
    rb.configPath ? html`Config: <code>${rb.configPath}</code>` : null,
    rb.serviceName ? html`service: <code>${rb.serviceName}</code>` : null,
  ].filter((f) => f !== null);
  return html`<h2 id="runbook-h">Runbook</h2>
<p>${inlineCode(rb.summary)}</p>
<nav class="tabs" aria-label="Where the Local API runs">${DEPLOYMENTS.map(
    ([d, label]) => html`<a href="/ui/issues/${v.issue.id}?deployment=${d}"${d === v.deployment ? html` aria-current="page"` : ''}>${label}</a>`,
  )}</nav>
${fields.length > 0 ? html`<p class="muted">${fields.flatMap((f, i) => (i > 0 ? [html` · `, f] : [f]))}</p>` : ''}
${rb.sections.map(
  (s) => html`<h3>${s.title}</h3>
<ol class="steps">${s.steps.map((step) => {
    return html`<li><p>${inlineCode(step.text)}</p>${step.commands.map((cmd) => {
      const id = `cmd-${++n}`;
      return html`<div class="cmd"><pre id="${id}"><code>${cmd}</code></pre><button type="button" class="copy" data-copy="${id}" aria-label="Copy command ${n}">Copy</button></div>`;
    })}</li>`;
  })}</ol>`,
)}`;
}
