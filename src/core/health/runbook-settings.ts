import type { Deployment, ServiceManager } from './runbooks/index.ts';

/**
 * How a store's runbooks address the Local API, kept in the store itself so the CLI and the admin
 * API write the same commands as the process that raised the issue: absent for `vigil serve` (Vigil's
 * own Local API, `vigil …` commands); `vigil watch` records CrowdSec's (`cscli …`, its URL, and
 * where cscli runs).
 */
export interface RunbookSettings {
  cli: 'vigil' | 'cscli';
  /** The Local API URL bouncers use. */
  lapiUrl?: string;
  deployment?: Deployment;
  /** Docker container of the Local API. */
  container?: string;
  /** Kubernetes namespace of the Local API. */
  namespace?: string;
  /** The Local API host's service manager (`vigil serve` records what it finds): `none` = no systemd. */
  serviceManager?: ServiceManager;
}
