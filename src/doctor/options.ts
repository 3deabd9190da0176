/** What `vigil doctor` is asked to check, shared by every stage of its checks. */
import type { LookupFn, ProbeTimeouts } from './network-probe.ts';
import type { Host } from './host.ts';

export const DEFAULT_CONFIG_DIR = '/etc/crowdsec/bouncers';

export interface DoctorOptions {
  host: Host;
  /** Configuration files to check (`--config`); otherwise every one in `configDir`. */
  configFiles?: string[];
  configDir?: string;
  /** `--url URL --key KEY`: check a Local API and a key without any file. */
  url?: string;
  key?: string;
  timeouts: ProbeTimeouts;
  /** Check the service (unit, process, logs, web server). Default: on for configuration files. */
  checkService?: boolean;
  /** systemd unit / process name, when it is not the one the file name suggests. */
  service?: string;
  /** The user the service reads its configuration as (default: from the unit, else www-data for web servers, else root). */
  serviceUser?: string;
  /** A log file to scan instead of the one the configuration or family suggests. */
  logFile?: string;
  /** nginx main configuration for `nginx -T -c FILE` (default: nginx's own). */
  nginxConfig?: string;
  journalLines?: number;
  /**
   * Sent with the key check of `--url`; a configuration file's check sends `<file name>/vigil-doctor`.
   * Vigil ignores a HEAD's User-Agent; CrowdSec records it as the bouncer's type/version until the
   * bouncer's next request.
   */
  userAgent: string;
  lookup?: LookupFn;
  /**
   * CrowdSec's config.yaml, checked for a switch that lost the community blocklist and the Console
   * (its Local API off, online_client credentials kept). Unset: not checked; a file that does not
   * exist: not checked either (no CrowdSec on this host).
   */
  crowdsecConfig?: string;
  /**
   * CrowdSec's own bouncer keys on this host (SHA-512 hex → name; the CLI reads them with
   * watch/crowdsec-keys.ts): a refused key found there was registered with cscli after the switch.
   */
  crowdsecKeys?: () => Promise<CrowdsecKeyLookup>;
}

export { DEFAULT_CROWDSEC_CONFIG } from '../lib/crowdsec-paths.ts';

export type CrowdsecKeyLookup = { ok: true; db: string; nameOfHash: ReadonlyMap<string, string> } | { ok: false; reason: string };

export const WEB_FAMILIES = new Set(['nginx', 'openresty', 'ingress-nginx', 'apache', 'wordpress', 'php']);
