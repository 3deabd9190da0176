/**
 * The Console's "CrowdSec Stack Component Outdated" (`component_outdated`; its planned Security
 * Engine and Remediation Component Version Outdated checks, 💡 Recommended:
 * docs/reference/crowdsec-docs-notes.md §1.4, §1.5): the versions the Local API recorded from
 * User-Agents (bouncers' pulls, agents' logins) against component-versions.ts. One finding per
 * component, naming every bouncer or agent behind; High when a version has a known advisory.
 * Pure.
 */
import { compareVersions, COMPONENT_VERSIONS, parseVersion, type ComponentVersion } from './component-versions.ts';
import { ISSUE_CATALOGUE, type Finding, type FleetSnapshot } from './types.ts';

export function evaluateComponentOutdated(
  snapshot: Pick<FleetSnapshot, 'bouncers' | 'machines'>,
  now: number,
  table: readonly ComponentVersion[] = COMPONENT_VERSIONS,
): Finding[] {
  const running: Array<{ component: string; who: string; version: string }> = [];
  for (const b of snapshot.bouncers) if (!b.revoked) running.push({ component: b.type, who: `bouncer ${b.name}`, version: b.version });
  for (const m of snapshot.machines ?? []) running.push({ component: 'crowdsec', who: `agent ${m.machineId}`, version: m.version });
  const findings: Finding[] = [];
  for (const row of table) {
    const current = parseVersion(row.current)!;
    const behind: string[] = [];
    const advisories = new Set<string>();
    for (const r of running) {
      if (r.component !== row.component) continue;
      const v = parseVersion(r.version);
      if (v === null || compareVersions(v, current) >= 0) continue;
      const hit = row.vulnerable.filter((a) => compareVersions(v, parseVersion(a.below)!) < 0);
      for (const a of hit) advisories.add(a.advisory);
      behind.push(`${r.who} runs ${r.version}${hit.length ? ` (vulnerable: ${hit.map((a) => a.advisory).join('; ')})` : ''}`);
    }
    if (behind.length === 0) continue;
    const vulnerable = advisories.size > 0;
    findings.push({
      kind: 'component_outdated',
      criticality: vulnerable ? 'high' : ISSUE_CATALOGUE.component_outdated.criticality,
      subject: `component:${row.component}`,
      bouncerName: null,
      since: now,
      summary: `${behind.length} ${row.title}${behind.length > 1 ? 's' : ''} older than ${row.current}${vulnerable ? ', with a known vulnerability' : ''}: ${behind.slice(0, 5).join(', ')}${behind.length > 5 ? ` and ${behind.length - 5} more` : ''}`,
      causes: [
        {
          cause: vulnerable ? 'component_vulnerable' : 'component_outdated',
          confidence: 'high',
          evidence: [
            ...behind,
            `newest known: ${row.current} (${row.source}; as known on ${row.knownAt})`,
            ...[...advisories].map((a) => `advisory: ${a}`),
            `upgrade: ${row.upgrade}`,
          ],
        },
      ],
      notes: [],
    });
  }
  return findings;
}
