/**
 * What `vigil doctor` reports: for each bouncer configuration (a target), a list of findings,
 * each ok / warn / fail / skip with the evidence it rests on and the fix. Pure data.
 *
 * `skip` means "not checked" (no systemd here, no log file found, …): it is never counted as a
 * pass, and it does not fail the run either — the summary says how many checks were not made.
 */

export type FindingStatus = 'ok' | 'warn' | 'fail' | 'skip';

/** The stage a check belongs to, in the order they run (the seed's "How to Diagnose"). */
export type CheckStage = 'file' | 'url' | 'network' | 'lapi' | 'service';

export interface Finding {
  /** Stable id for scripts, e.g. `file.yaml`, `network.tcp`, `lapi.key`. */
  check: string;
  stage: CheckStage;
  status: FindingStatus;
  /** One line: what was found. */
  title: string;
  /** The lines it rests on (paths, addresses, log lines, command output). Secrets masked. */
  evidence: string[];
  /** What to do about it (absent when ok). */
  fix?: string;
  /** How long the probe took, when it is a probe. */
  ms?: number;
}

export interface DoctorTarget {
  /** The configuration file (or `--url`), as the operator named it. */
  name: string;
  /** `yaml`, `conf` (KEY=VALUE, nginx/openresty/haproxy Lua) or `url` (--url/--key). */
  format: 'yaml' | 'conf' | 'url';
  /** Bouncer family guessed from the file name (nginx, firewall, custom, …). */
  family: string;
  /** The registered bouncer name, from `<file>.id` when the package wrote one. */
  registeredName?: string;
  findings: Finding[];
}

export interface DoctorSummary {
  ok: number;
  warn: number;
  fail: number;
  skip: number;
}

export interface DoctorReport {
  /** Where it ran: `this host`, `docker container NAME`, `kubernetes pod NS/NAME`. */
  where: string;
  targets: DoctorTarget[];
  summary: DoctorSummary;
  /** Every finding ok or skipped. */
  passed: boolean;
}

type Detail = { evidence?: string[]; fix?: string; ms?: number };

const make =
  (status: FindingStatus) =>
  (stage: CheckStage, check: string, title: string, detail: Detail = {}): Finding => ({
    check,
    stage,
    status,
    title,
    evidence: detail.evidence ?? [],
    ...(detail.fix !== undefined && status !== 'ok' ? { fix: detail.fix } : {}),
    ...(detail.ms !== undefined ? { ms: Math.round(detail.ms) } : {}),
  });

export const ok = make('ok');
export const warn = make('warn');
export const fail = make('fail');
export const skip = make('skip');

export function summarize(targets: DoctorTarget[]): DoctorSummary {
  const s: DoctorSummary = { ok: 0, warn: 0, fail: 0, skip: 0 };
  for (const t of targets) for (const f of t.findings) s[f.status]++;
  return s;
}

export function buildReport(where: string, targets: DoctorTarget[]): DoctorReport {
  const summary = summarize(targets);
  return { where, targets, summary, passed: summary.fail === 0 && summary.warn === 0 };
}

/** Never print a whole key: the first 4 characters and the length are enough to tell keys apart. */
export function maskSecret(value: string): string {
  if (value.length <= 8) return '*'.repeat(value.length);
  return `${value.slice(0, 4)}…(${value.length} chars)`;
}

/** A URL for display with any password replaced (`postgres://user:***@host`): the one shared rule. */
export { redactUrl } from '../../lib/redact-url.ts';
