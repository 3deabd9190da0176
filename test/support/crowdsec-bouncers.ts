/**
 * The REAL CrowdSec bouncers (Debian bookworm packages, installed by
 * scripts/install-crowdsec-bouncers.sh), run against any LAPI URL for compatibility tests: whether
 * they can run here and the config both read. custom-bouncer.ts and firewall-bouncer.ts start them.
 *
 *   crowdsec-custom-bouncer   0.0.15  — runs `bin_path add|del <value> <seconds> <scenario> <decision-json>`
 *                                       once per decision; we point bin_path at a recording script.
 *   crowdsec-firewall-bouncer 0.0.25  — mode nftables, with per-instance table/set/chain names.
 *
 * Behaviour of these binaries worth knowing when writing tests (observed here):
 * - Both poll `GET /v1/decisions/stream?startup=true` first, then `GET /v1/decisions/stream?` every
 *   `update_frequency`, with `User-Agent: crowdsec-<custom|firewall>-bouncer/-` and `X-Api-Key`.
 * - If that FIRST request fails (connection refused, 403, ...), the custom bouncer logs an error and
 *   then hangs forever: process alive, never retries. The firewall bouncer instead exits (status 0!)
 *   and removes its own nftables tables. So start the LAPI before the bouncer.
 * - With `daemonize: false` neither installs a signal handler: SIGTERM kills them outright (exit by
 *   signal), and the firewall bouncer leaves its tables behind — stop() here deletes them.
 * - The custom bouncer deduplicates calls per (value, type): a second `add` (or `del`) of the same
 *   value+type is suppressed until its cache is cleared every `cache_retention_duration` (10s).
 * - It processes `deleted` before `new` in each response, and passes every decision type (captcha
 *   too); the firewall bouncer keeps `supported_decisions_types` (default ban) only, and a Range
 *   decision ends up as its network address alone (set without the interval flag).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import YAML from 'yaml';
import { findExecutable } from '../../src/doctor/host.ts';

export const CUSTOM_BIN = 'crowdsec-custom-bouncer';
export const FIREWALL_BIN = 'crowdsec-firewall-bouncer';

// ---------------------------------------------------------------------------------------------
// availability

export interface BouncersAvailability {
  custom: boolean;
  firewall: boolean;
  /** Why one or both are unavailable (absent when both are). */
  reason?: string;
}

let availabilityCache: BouncersAvailability | undefined;

/** Whether the real bouncers can run here (binaries present; for the firewall one, working nftables as root). */
export function crowdsecBouncersAvailable(): BouncersAvailability {
  if (availabilityCache) return availabilityCache;
  const reasons: string[] = [];
  const custom = findExecutable(CUSTOM_BIN) !== undefined;
  if (!custom) reasons.push(`${CUSTOM_BIN} not installed (run scripts/install-crowdsec-bouncers.sh as root)`);
  let firewall = false;
  if (!findExecutable(FIREWALL_BIN)) {
    reasons.push(`${FIREWALL_BIN} not installed (run scripts/install-crowdsec-bouncers.sh as root)`);
  } else if (!findExecutable('nft')) {
    reasons.push('nft (nftables) not installed');
  } else if (process.getuid?.() !== 0) {
    reasons.push('the firewall bouncer needs root for nftables');
  } else {
    try {
      execFileSync(findExecutable('nft')!, ['list', 'ruleset'], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000 });
      firewall = true;
    } catch (err) {
      const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
      reasons.push(`nftables does not work here: \`nft list ruleset\` failed${stderr ? `: ${stderr}` : ''}`);
    }
  }
  availabilityCache = { custom, firewall, ...(reasons.length ? { reason: reasons.join('; ') } : {}) };
  return availabilityCache;
}

// ---------------------------------------------------------------------------------------------
// what both bouncers are configured with

/** What both bouncers' harnesses take besides their own settings. */
export interface BouncerRunOptions {
  apiUrl: string;
  /** '' with the firewall bouncer's `tls`: the client certificate authenticates instead. */
  apiKey: string;
  /** Go duration; default '1s' (the shipped configs have 10s) */
  updateFrequency?: string;
  /** A directory the harness may write into (it makes its own subdirectory there). */
  workDir: string;
  /** Sent by the bouncer as ?scopes= / ?origins= / scenarios filters; default none, as shipped. */
  scopes?: string[];
  origins?: string[];
  scenariosContaining?: string[];
  scenariosNotContaining?: string[];
  logLevel?: 'trace' | 'debug' | 'info' | 'warning' | 'error';
  /** ms to wait for the bouncer to start its loop; default 10 000 */
  startTimeoutMs?: number;
}

/**
 * The keys both bouncers read alike (go-cs-bouncer's shared config): the Local API, how often to
 * pull, and logs on stdout in the foreground, where the harness reads them.
 */
export function sharedBouncerYaml(dir: string, opts: BouncerRunOptions): Record<string, unknown> {
  return {
    update_frequency: opts.updateFrequency ?? '1s',
    daemonize: false,
    log_mode: 'stdout',
    log_dir: dir,
    log_level: opts.logLevel ?? 'info',
    api_url: opts.apiUrl,
    api_key: opts.apiKey,
  };
}

/** A bouncer's config file, readable by its owner only (it holds the API key). */
export function writeYaml(file: string, doc: Record<string, unknown>): void {
  fs.writeFileSync(file, `# written by test/support/crowdsec-bouncers.ts\n${YAML.stringify(doc)}`, { mode: 0o600 });
}
