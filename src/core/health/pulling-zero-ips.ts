/**
 * The Console's "Integration Pulling Zero IPs" (`issue_integration_fw_zero_ips`, ⚠️ High; Stack
 * Health v1.1), for bouncers on this Local API: a bouncer whose usage metrics report 0 active
 * decisions while the Local API holds some for its scopes and origins. Read from the drift
 * observations (enforcement.ts: each report beside what the Local API sends that bouncer), two
 * reports in a row as drift does (one may cross a decision's arrival). A bouncer pulling zero is
 * not also raised as drift (withoutDuplicateDrift). Pure.
 */
import { DRIFT_REPORTS_IN_A_ROW, type DriftObservation } from './enforcement.ts';
import { ISSUE_CATALOGUE, type Finding } from './types.ts';
import { formatRfc3339 } from '../../lib/duration.ts';

/** What the Local API sends it: origins its own query leaves out do not count. */
const sent = (o: DriftObservation): number => Object.values(o.byOrigin).reduce((n, v) => n + (v.filtered ? 0 : v.expected), 0);
const pullingZero = (o: DriftObservation): boolean => o.reported === 0 && sent(o) > 0;

export function evaluatePullingZeroIps(drift: readonly DriftObservation[][] | undefined): Finding[] {
  const out: Finding[] = [];
  for (const observations of drift ?? []) {
    const recent = observations.slice(0, DRIFT_REPORTS_IN_A_ROW);
    if (recent.length < DRIFT_REPORTS_IN_A_ROW || !recent.every(pullingZero)) continue;
    let streak = 0;
    while (streak < observations.length && pullingZero(observations[streak]!)) streak++;
    const latest = recent[0]!;
    const origins = Object.entries(latest.byOrigin)
      .filter(([, v]) => v.expected > 0 && !v.filtered)
      .map(([o, v]) => `${o}: ${v.expected}`);
    out.push({
      kind: 'integration_zero_ips',
      criticality: ISSUE_CATALOGUE.integration_zero_ips.criticality,
      subject: `bouncer:${latest.bouncerName}`,
      bouncerName: latest.bouncerName,
      since: observations[streak - 1]!.reportAt,
      summary: `bouncer '${latest.bouncerName}' reports 0 active decisions while the Local API sends it ${sent(latest)}: it enforces nothing`,
      causes: [
        {
          cause: 'holds_no_decisions',
          confidence: 'high',
          evidence: [
            `${streak} usage-metrics report(s) in a row with 0 active decisions; latest at ${formatRfc3339(latest.reportAt)}`,
            `the Local API holds for its scopes and origins: ${origins.join(', ')}`,
          ],
        },
      ],
      notes: [],
    });
  }
  return out;
}

/** Drops a remediation_drift finding of a bouncer already raised as pulling zero: one incident, one issue. */
export function withoutDuplicateDrift(findings: Finding[], zero: readonly Finding[]): Finding[] {
  if (zero.length === 0) return findings;
  const subjects = new Set(zero.map((f) => f.subject));
  return findings.filter((f) => f.kind !== 'remediation_drift' || !subjects.has(f.subject));
}
