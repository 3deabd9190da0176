/**
 * The versions Vigil knows to be current, or vulnerable, per CrowdSec component, for Component
 * Outdated (component-outdated.ts). The one place to update: a row per component, named by the
 * `type` its User-Agent gives (`crowdsec-firewall-bouncer/v0.0.31` → `crowdsec-firewall-bouncer`;
 * agents log in as `crowdsec/v1.7.8-…`). A component without a row is not judged.
 *
 * `current` is the newest release known when the row was written (`knownAt`, `source`): a newer one
 * may exist, never an older one. `vulnerable` lists advisories as `{ below, advisory }`: a version
 * under `below` is raised High instead of Recommended. Only advisories with a public reference go
 * here; none is listed for these components as of `knownAt`.
 */
export interface ComponentVersion {
  /** The User-Agent's type, as the Local API records it. */
  readonly component: string;
  /** What an operator calls it. */
  readonly title: string;
  readonly current: string;
  readonly knownAt: string;
  readonly source: string;
  /** How to upgrade it (one line for the runbook). */
  readonly upgrade: string;
  readonly vulnerable: ReadonlyArray<{ readonly below: string; readonly advisory: string }>;
}

export const COMPONENT_VERSIONS: readonly ComponentVersion[] = [
  {
    component: 'crowdsec',
    title: 'CrowdSec Security Engine (agent)',
    current: '1.7.8',
    knownAt: '2026-07-24',
    source: 'crowdsecurity/crowdsec tags through v1.7.8, released 2026-05-11 (docs/reference/crowdsec-1.6-1.7.md §0)',
    upgrade: 'sudo apt-get install --only-upgrade crowdsec (packagecloud.io/crowdsec repository; Debian/Ubuntu archives ship older versions)',
    vulnerable: [],
  },
  {
    component: 'crowdsec-firewall-bouncer',
    title: 'CrowdSec firewall bouncer',
    current: '0.0.34',
    knownAt: '2026-07-24',
    source:
      'crowdsecurity/cs-firewall-bouncer tags through v0.0.34 (HEAD 2026-04); usage metrics from 0.0.30, community_pull parameters from 0.0.32 (docs/reference/crowdsec-1.6-1.7.md)',
    upgrade: 'sudo apt-get install --only-upgrade crowdsec-firewall-bouncer-nftables (or -iptables)',
    vulnerable: [],
  },
  {
    component: 'nodejs-cs-bouncer',
    title: 'CrowdSec Node.js bouncer (@crowdsec/nodejs-bouncer)',
    current: '0.2.0',
    knownAt: '2026-07-24',
    source: 'npm @crowdsec/nodejs-bouncer latest (docs/reference/crowdsec-1.6-1.7.md §10)',
    upgrade: 'npm install @crowdsec/nodejs-bouncer@latest in the application, then restart it',
    vulnerable: [],
  },
];

/** `v1.4.6-6~deb12u1+b1-linux-debian` → [1, 4, 6]; null when it does not start with a version (`-`, `N/A`). */
export function parseVersion(text: string): [number, number, number] | null {
  const m = /^v?(\d+)\.(\d+)(?:\.(\d+))?/.exec(text.trim());
  return m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : null;
}

export function compareVersions(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) - (b[i] ?? 0);
  return 0;
}
