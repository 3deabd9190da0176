import { html, type Html } from '../html.ts';
import { timelineSvg } from '../timeline.ts';
import { CRITICALITIES, STATUSES, type FleetRow, type FleetView } from '../data.ts';
import { statusBadge, timeAgo } from './layout.ts';

export function fleetPage(v: FleetView): Html {
  return html`<h1>Fleet</h1>
<section id="fleet-summary" data-live aria-label="Summary">${fleetSummary(v)}</section>
<section id="fleet-table" data-live aria-label="Bouncers">${fleetTable(v)}</section>`;
}

function fleetSummary(v: FleetView): Html {
  const { openIssues, bouncers, total } = v.summary;
  const statusLine = STATUSES.filter((s) => bouncers[s] > 0).map((s) => html`<li>${statusBadge(s)} ${bouncers[s]}</li>`);
  return html`<h2 class="sr-only">Open issues</h2>
<ul class="cards">
  ${CRITICALITIES.map(
    (c) =>
      html`<li><a class="card card-${c}${openIssues[c] > 0 ? ' card-active' : ''}" href="/ui/issues"><span class="num">${openIssues[c]}</span> <span class="what">${c}</span></a></li>`,
  )}
</ul>
<p class="fleetline">${total} bouncer${total === 1 ? '' : 's'}${total > 0 ? ':' : ''}</p>
<ul class="statusline">${statusLine}</ul>`;
}

function fleetTable(v: FleetView): Html {
  if (v.rows.length === 0) {
    return html`<p class="empty">No bouncer registered yet. Add one with <code>vigil bouncers add NAME</code> and put the key printed in its configuration.</p>`;
  }
  const hidden = v.summary.total - v.rows.length;
  return html`${
    hidden > 0
      ? html`<p class="hint">The first ${v.rows.length} of ${v.summary.total} bouncers, problems first. <a href="/ui/?all=1">Show all ${v.summary.total}</a></p>`
      : ''
  }
<div class="table-wrap"><table class="fleet">
<caption class="sr-only">Bouncers, problems first</caption>
<thead><tr><th scope="col">Status</th><th scope="col">Name</th><th scope="col">Type</th><th scope="col">IP</th><th scope="col">Version</th><th scope="col">Last pull</th><th scope="col">Pulls, 24 h</th><th scope="col" class="wide-only">Pulls, 7 days</th></tr></thead>
<tbody>
${v.rows.map((r) => fleetRow(r, v.now))}
</tbody>
</table></div>`;
}

function fleetRow(r: FleetRow, now: number): Html {
  return html`<tr data-bouncer="${r.name}" data-status="${r.status}">
<td data-label="Status">${statusBadge(r.status)}${r.openIssueIds.length > 0 ? html` <a class="issue-link" href="/ui/issues/${r.openIssueIds[0]!}" aria-label="open issue for ${r.name}">issue #${r.openIssueIds[0]!}</a>` : ''}</td>
<th scope="row" data-label="Name"><a href="/ui/bouncers/${encodeURIComponent(r.name)}">${r.name}</a></th>
<td data-label="Type">${r.type || html`<span class="muted">unknown</span>`}${r.kind === 'firewall' ? html` <span class="tag">firewall</span>` : ''}</td>
<td data-label="IP" class="mono">${r.ipAddress || html`<span class="muted">–</span>`}</td>
<td data-label="Version">${r.version || html`<span class="muted">–</span>`}</td>
<td data-label="Last pull">${timeAgo(r.lastPullAt, now)}</td>
<td data-label="Pulls, 24 h" class="tl-cell">${timelineSvg(r.pulls24h, { label: `${r.name}, last 24 hours` })}</td>
<td data-label="Pulls, 7 days" class="tl-cell wide-only">${timelineSvg(r.pulls7d, { label: `${r.name}, last 7 days` })}</td>
</tr>`;
}
