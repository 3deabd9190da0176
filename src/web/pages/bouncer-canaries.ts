import { humanDuration } from '../../lib/human-time.ts';
import type { CanaryRun, DriftObservation } from '../../core/health/enforcement.ts';
import { isDrift } from '../../core/health/enforcement.ts';
import { html, type Html } from '../html.ts';
import type { BouncerView } from '../data.ts';
import { timeAgo } from './layout.ts';

/** The bouncer page's proof of enforcement (docs/canaries.md): its canaries' runs with their timings, and drift. */
export function canaries(v: BouncerView): Html {
  const head = html`<h2 id="canaries-h">Canaries</h2>`;
  const runs = v.canaryRuns;
  const body =
    runs.length === 0
      ? html`<p class="empty">No canary runs. A <code>canaries:</code> entry in vigil.yaml naming this bouncer proves it blocks (docs/canaries.md).</p>`
      : html`<div class="table-wrap"><table class="canaries">
<thead><tr><th scope="col">When</th><th scope="col">Canary</th><th scope="col">Result</th><th scope="col">Failed step</th><th scope="col" class="num">Pulled after</th><th scope="col" class="num">Enforced after</th><th scope="col" class="num">Total</th><th scope="col">Test decision</th></tr></thead>
<tbody>${runs.map(row(v.now))}</tbody></table></div>`;
  return html`${head}${body}${drift(v.drift)}`;
}

/** Timings of a few seconds: milliseconds matter (humanDuration rounds to seconds). */
const short = (n: number) => (n < 1000 ? `${Math.round(n)} ms` : n < 60_000 ? `${(n / 1000).toFixed(1)} s` : humanDuration(n));
const ms = (n: number | null) => (n === null ? html`<span class="muted">–</span>` : short(n));

function row(now: number) {
  return (r: CanaryRun) =>
    html`<tr data-verdict="${r.verdict}"><td data-label="When">${timeAgo(r.startedAt, now)}</td><td data-label="Canary">${r.canary} <span class="muted mono">${r.expect} ${r.address} → ${r.url}</span></td><td data-label="Result"><span class="status status-${r.verdict === 'pass' ? 'healthy' : r.verdict === 'aborted' ? 'late' : 'offline'}">${r.verdict}</span> <span class="muted">${r.summary}</span></td><td data-label="Failed step">${r.failedStep ?? html`<span class="muted">–</span>`}</td><td data-label="Pulled after" class="num">${ms(r.pulledAfterMs)}</td><td data-label="Enforced after" class="num">${ms(r.enforcedAfterMs)}</td><td data-label="Total" class="num">${short(r.totalMs)}</td><td data-label="Test decision">${r.decisionId === null ? html`<span class="muted">not added</span>` : r.decisionRemoved ? 'removed' : html`<strong>NOT removed</strong> (#${r.decisionId})`}</td></tr>`;
}

function drift(obs: DriftObservation[]): Html {
  if (obs.length === 0) return html``;
  return html`<h3>Drift <span class="muted">(reported active decisions against what the Local API holds for its scopes, every origin)</span></h3>
<div class="table-wrap"><table class="drift">
<thead><tr><th scope="col">Report</th><th scope="col" class="num">Reports holding</th><th scope="col" class="num">Sent</th><th scope="col">Origins that differ</th></tr></thead>
<tbody>${obs.map(
    (o) =>
      html`<tr data-drift="${isDrift(o) ? 'yes' : 'no'}"><td data-label="Report">${new Date(o.reportAt).toISOString()}</td><td data-label="Reports holding" class="num">${o.reported}</td><td data-label="Sent" class="num">${o.expected}</td><td data-label="Origins that differ">${
        Object.entries(o.byOrigin)
          .filter(([, x]) => x.reported !== x.expected)
          .map(([k, x]) => `${k}: ${x.reported} of ${x.expected}`)
          .join(', ') || html`<span class="muted">none</span>`
      }</td></tr>`,
  )}</tbody></table></div>`;
}
