import { html, type Html } from '../html.ts';
import { exactTime, humanDuration } from '../../lib/human-time.ts';
import type { DecisionsView } from '../data.ts';
import type { Decision } from '../../core/model/records.ts';
import { timeAgo } from './layout.ts';

export function decisionsPage(v: DecisionsView): Html {
  const q = v.query.kind === 'none' ? '' : v.query.text;
  return html`<h1>Decisions</h1>
<form class="search panel" role="search" method="get" action="/ui/decisions">
  <label for="q">Look up an IP or a range</label>
  <div class="inline">
    <input id="q" name="q" value="${q}" placeholder="192.0.2.1 or 198.51.100.0/24" autocomplete="off" spellcheck="false" autocapitalize="off"${v.query.kind === 'invalid' ? html` aria-invalid="true" aria-describedby="q-error"` : ''}>
    <button type="submit">Look up</button>
  </div>
  ${v.query.kind === 'invalid' ? html`<p id="q-error" class="form-error" role="alert">${v.query.message}</p>` : ''}
</form>
<section id="decisions-results" data-live aria-labelledby="results-h">${results(v)}</section>
<section id="decision-add" class="panel" aria-labelledby="add-h">${addForm(q && v.query.kind !== 'invalid' ? q : '')}</section>`;
}

function results(v: DecisionsView): Html {
  switch (v.query.kind) {
    case 'invalid':
      return html`<h2 id="results-h" class="sr-only">Results</h2>`;
    case 'none':
      return html`<h2 id="results-h">Active decisions <span class="count-plain">${v.activeCount}</span></h2>
${v.activeCount > v.recent.length ? html`<p class="hint">The ${v.recent.length} newest; look up an IP or a range to find the others.</p>` : ''}
${v.recent.length > 0 ? table(v.recent, v.now, 'Active decisions, newest first') : html`<p class="empty">No active decision.</p>`}`;
    case 'ip': {
      const n = v.matching.length;
      return html`<h2 id="results-h">${v.query.text}</h2>
<p class="verdict ${n > 0 ? 'verdict-hit' : 'verdict-miss'}" role="status">${n > 0 ? html`<strong>${verdictWord(v.matching)}</strong>: ${n} active decision${n === 1 ? '' : 's'} appl${n === 1 ? 'ies' : 'y'} to ${v.query.text}.` : html`No active decision applies to ${v.query.text}.`}</p>
${n > 0 ? table(v.matching, v.now, `Decisions applying to ${v.query.text}`) : ''}`;
    }
    case 'range': {
      const n = v.matching.length;
      const m = v.inside.length;
      return html`<h2 id="results-h">${v.query.text}</h2>
<p class="verdict ${n + m > 0 ? 'verdict-hit' : 'verdict-miss'}" role="status">${n > 0 ? `${n} active decision${n === 1 ? '' : 's'} cover${n === 1 ? 's' : ''} the whole range` : 'No active decision covers the whole range'}; ${m > 0 ? `${m} appl${m === 1 ? 'ies' : 'y'} to addresses or smaller ranges inside it.` : 'none applies inside it.'}</p>
${n > 0 ? html`<h3>Covering ${v.query.text}</h3>${table(v.matching, v.now, `Decisions covering ${v.query.text}`)}` : ''}
${m > 0 ? html`<h3>Inside ${v.query.text}</h3>${table(v.inside, v.now, `Decisions inside ${v.query.text}`)}` : ''}`;
    }
  }
}

function verdictWord(ds: Decision[]): string {
  const types = [...new Set(ds.map((d) => d.type))];
  return types.length === 1 && types[0] === 'ban' ? 'Banned' : types.join(', ');
}

function table(ds: Decision[], now: number, caption: string): Html {
  return html`<div class="table-wrap"><table class="decisions">
<caption class="sr-only">${caption}</caption>
<thead><tr><th scope="col">ID</th><th scope="col">Type</th><th scope="col">Applies to</th><th scope="col">Origin</th><th scope="col">Reason</th><th scope="col">Expires</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
<tbody>${ds.map(
    (d) => html`<tr data-decision="${d.id}">
<td data-label="ID" class="mono">${d.id}</td>
<td data-label="Type"><span class="dtype dtype-${d.type === 'ban' ? 'ban' : 'other'}">${d.type}</span>${d.simulated ? html` <span class="tag">simulated</span>` : ''}</td>
<td data-label="Applies to" class="mono">${d.scope}:${d.value}</td>
<td data-label="Origin">${d.origin}</td>
<td data-label="Reason" class="reason">${d.scenario}</td>
<td data-label="Expires"><time datetime="${new Date(d.until).toISOString()}" title="${exactTime(d.until)}">in ${humanDuration(d.until - now)}</time> <span class="muted">(added ${timeAgo(d.createdAt, now)})</span></td>
<td data-label="Actions"><form data-api="DELETE" action="/ui/api/decisions/${d.id}" data-done="Decision ${d.id} deleted" data-confirm="Delete decision ${d.id}: ${d.type} on ${d.scope}:${d.value}? Bouncers stop enforcing it at their next pull." data-confirm-ok="Delete decision">
<button type="submit" class="danger small" aria-label="Delete decision ${d.id} on ${d.value}">Delete</button><p class="form-error" role="alert"></p></form></td>
</tr>`,
  )}</tbody></table></div>`;
}

function addForm(value: string): Html {
  return html`<h2 id="add-h">Add a decision</h2>
<form data-api="POST" action="/ui/api/decisions" data-done="Decision added" data-reset data-confirm="Add a {type} decision on {value} for {duration}? Bouncers enforce it at their next pull." data-confirm-ok="Add decision" class="add-form">
  <div class="field"><label for="add-value">IP or range</label><input id="add-value" name="value" required value="${value}" placeholder="192.0.2.1 or 198.51.100.0/24" autocomplete="off" spellcheck="false" autocapitalize="off"></div>
  <div class="field"><label for="add-type">Type</label><input id="add-type" name="type" required value="ban" list="decision-types" autocomplete="off"><datalist id="decision-types"><option value="ban"><option value="captcha"></datalist></div>
  <div class="field"><label for="add-duration">Duration <span class="label-hint">(e.g. 90m, 4h, 7d)</span></label><input id="add-duration" name="duration" required value="4h" autocomplete="off"></div>
  <div class="field wide"><label for="add-reason">Reason</label><input id="add-reason" name="reason" maxlength="1024" placeholder="manual 'ban' from 'vigil-dashboard'"></div>
  <div class="field wide"><label><input type="checkbox" name="bypass_allowlist"> Add even if allowlisted</label></div>
  <div class="field"><button type="submit">Add decision</button></div>
  <p class="form-error" role="alert"></p>
</form>`;
}
