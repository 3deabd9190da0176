import { html, type Html } from '../html.ts';
import { exactTime, humanDuration } from '../../lib/human-time.ts';
import { timelineSvg } from '../timeline.ts';
import type { BouncerView } from '../data.ts';
import { criticalityBadge, issueStatusBadge, statusBadge, timeAgo } from './layout.ts';
import { issueTitle } from './issues.ts';
import { describeProbe } from '../../core/bouncers/probe.ts';
import { canaries } from './bouncer-canaries.ts';

const REFUSED_REASON: Record<string, string> = {
  missing: 'no key',
  unknown: 'unknown key',
  revoked: 'revoked key',
  'wrong-path': 'wrong path',
};

export function bouncerPage(v: BouncerView): Html {
  const r = v.row;
  return html`<p class="crumbs"><a href="/ui/">Fleet</a> <span aria-hidden="true">/</span> ${r.name}</p>
<h1>${r.name}</h1>
<section id="bouncer-facts" data-live aria-label="State">${facts(v)}</section>
<section id="bouncer-pulls" data-live aria-labelledby="pulls-h">${pulls(v)}</section>
<section id="bouncer-refused" data-live aria-labelledby="refused-h">${refused(v)}</section>
<section id="bouncer-canaries" data-live aria-labelledby="canaries-h">${canaries(v)}</section>
<section id="bouncer-usage" data-live aria-labelledby="usage-h">${usage(v)}</section>
<section id="bouncer-changes" data-live aria-labelledby="changes-h">${changes(v)}</section>`;
}

function facts(v: BouncerView): Html {
  const r = v.row;
  return html`<p class="badges">${statusBadge(r.status)}${r.kind === 'firewall' ? html` <span class="tag">firewall</span>` : ''}</p>
<dl class="facts">
  <div><dt>Type</dt><dd>${r.type || html`<span class="muted">unknown until its first request</span>`}</dd></div>
  <div><dt>Version</dt><dd>${r.version || html`<span class="muted">–</span>`}</dd></div>
  <div><dt>IP address</dt><dd class="mono">${r.ipAddress || html`<span class="muted">–</span>`}</dd></div>
  <div><dt>Last pull</dt><dd>${timeAgo(r.lastPullAt, v.now)}${r.lastPullAt !== null ? html` <span class="muted">(${exactTime(r.lastPullAt)})</span>` : ''}</dd></div>
  <div><dt>Last request</dt><dd>${timeAgo(r.lastRequestAt, v.now)}</dd></div>
  ${v.lastProbe ? html`<div><dt>Last probe</dt><dd>${describeProbe(v.lastProbe)}</dd></div>` : ''}
  <div><dt>Pull cadence</dt><dd>${r.pullCadenceMs !== null ? `every ${humanDuration(r.pullCadenceMs)} (stream mode)` : html`<span class="muted">no steady cadence (live mode, or too few pulls yet)</span>`}</dd></div>
  <div><dt>Registered</dt><dd>${timeAgo(r.createdAt, v.now)} <span class="muted">(${exactTime(r.createdAt)})</span></dd></div>
</dl>
${
  v.issues.length > 0
    ? html`<h2>Issues</h2><ul class="plain">${v.issues.map(
        (i) =>
          html`<li>${criticalityBadge(i.criticality)} ${issueStatusBadge(i.status)} <a href="/ui/issues/${i.id}">${issueTitle(i)}</a> <span class="muted">opened ${timeAgo(i.openedAt, v.now)}</span></li>`,
      )}</ul>`
    : ''
}`;
}

function axis(labels: string[]): Html {
  return html`<div class="axis" aria-hidden="true">${labels.map((l) => html`<span>${l}</span>`)}</div>`;
}

function pulls(v: BouncerView): Html {
  const r = v.row;
  return html`<h2 id="pulls-h">Pulls</h2>
<h3>Last 24 hours <span class="muted">(one bar per hour)</span></h3>
${timelineSvg(r.pulls24h, { label: 'Last 24 hours', detailed: true })}
${axis(['24 h ago', '18 h', '12 h', '6 h', 'now'])}
<h3>Last 7 days</h3>
${timelineSvg(r.pulls7d, { label: 'Last 7 days', detailed: true })}
${axis(['7 d ago', '5 d', '3 d', '1 d', 'now'])}`;
}

function refused(v: BouncerView): Html {
  const head = html`<h2 id="refused-h">Recent refused requests</h2>
<p class="hint">With its own key, from its address with its User-Agent, or from its address when nothing names another client: the trail a broken key or URL leaves. On an address several bouncers share, only the key is sure, and the Whose column says so.</p>`;
  if (v.refused.length === 0) return html`${head}<p class="empty">None recorded.</p>`;
  return html`${head}<div class="table-wrap"><table class="refused">
<thead><tr><th scope="col">When</th><th scope="col">From</th><th scope="col">Reason</th><th scope="col">Request</th><th scope="col">User-Agent</th><th scope="col">Key</th><th scope="col">Whose</th></tr></thead>
<tbody>${v.refused.map(
    (q) =>
      html`<tr><td data-label="When">${timeAgo(q.at, v.now)}</td><td data-label="From" class="mono">${q.peerIp}</td><td data-label="Reason">${REFUSED_REASON[q.reason] ?? q.reason}</td><td data-label="Request" class="mono">${q.method} ${q.path}</td><td data-label="User-Agent" class="mono">${q.userAgent || html`<span class="muted">–</span>`}</td><td data-label="Key" class="mono">${q.keyFingerprint ? html`<abbr title="fingerprint of the key sent, not the key">${q.keyFingerprint}</abbr>` : html`<span class="muted">none</span>`}</td><td data-label="Whose">${q.whose}</td></tr>`,
  )}</tbody></table></div>`;
}

interface MetricItem {
  name: string;
  value: number;
  unit: string;
  labels?: Record<string, string>;
}
interface UsageReport {
  version?: string;
  type?: string;
  os?: { name: string; version: string };
  feature_flags?: string[];
  utc_startup_timestamp?: number;
  metrics?: Array<{ meta: { window_size_seconds: number; utc_now_timestamp: number }; items: MetricItem[] }>;
}

function usage(v: BouncerView): Html {
  const head = html`<h2 id="usage-h">Usage metrics</h2>`;
  if (!v.usage)
    return html`${head}<p class="empty">Not reported. Bouncers built on CrowdSec 1.6.3 or newer send them every 30 minutes (<code>POST /v1/usage-metrics</code>).</p>`;
  const rep = v.usage.report as UsageReport;
  const windows = rep.metrics ?? [];
  const totals = new Map<string, { value: number; unit: string }>();
  for (const w of windows) {
    for (const it of w.items) {
      const labels = Object.entries(it.labels ?? {})
        .map(([k, val]) => `${k}=${val}`)
        .sort()
        .join(', ');
      const key = labels ? `${it.name} (${labels})` : it.name;
      const t = totals.get(key);
      if (t) t.value += it.value;
      else totals.set(key, { value: it.value, unit: it.unit });
    }
  }
  const span = windows.reduce((s, w) => s + w.meta.window_size_seconds, 0);
  return html`${head}
<p>Last report ${timeAgo(v.usage.receivedAt, v.now)}${rep.version ? html`, version ${rep.version}` : ''}${rep.os ? html`, ${rep.os.name} ${rep.os.version}` : ''}${rep.utc_startup_timestamp ? html`, running since ${exactTime(rep.utc_startup_timestamp * 1000)}` : ''}.</p>
${
  totals.size > 0
    ? html`<div class="table-wrap"><table class="usage"><caption>Totals over the last report's ${windows.length} window${windows.length === 1 ? '' : 's'} (${humanDuration(span * 1000)})</caption>
<thead><tr><th scope="col">Metric</th><th scope="col" class="num">Value</th><th scope="col">Unit</th></tr></thead>
<tbody>${[...totals].map(([k, t]) => html`<tr><td data-label="Metric">${k}</td><td data-label="Value" class="num">${t.value.toLocaleString('en-US')}</td><td data-label="Unit">${t.unit}</td></tr>`)}</tbody></table></div>`
    : html`<p class="muted">The report carried no metric items.</p>`
}
${rep.feature_flags && rep.feature_flags.length > 0 ? html`<p class="muted">Feature flags: ${rep.feature_flags.join(', ')}</p>` : ''}`;
}

function changes(v: BouncerView): Html {
  const head = html`<h2 id="changes-h">Address, type and version changes</h2>`;
  if (v.changes.length === 0) return html`${head}<p class="empty">None in the last 30 days.</p>`;
  return html`${head}<ul class="plain">${v.changes.map(
    (c) => html`<li>${timeAgo(c.at, v.now)}: ${c.field} <code>${c.oldValue || '–'}</code> → <code>${c.newValue}</code></li>`,
  )}</ul>`;
}
