/**
 * Runs the REAL CrowdSec bouncers (Debian bookworm packages, installed by
 * scripts/install-crowdsec-bouncers.sh) against any LAPI URL, for compatibility tests.
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
import { spawn, execFileSync, execFile, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import YAML from 'yaml';
import { findExecutable } from '../../src/doctor/host.ts';
import { until } from './wait.ts';

const execFileAsync = promisify(execFile);

const CUSTOM_BIN = 'crowdsec-custom-bouncer';
const FIREWALL_BIN = 'crowdsec-firewall-bouncer';
const MAX_LOG_CHARS = 4 * 1024 * 1024;

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
// shared process plumbing

interface Proc {
  child: ChildProcess;
  pid: number;
  logs(): string;
  exitCode(): number | null | undefined;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function childEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.NOTIFY_SOCKET; // they sd_notify(READY=1) when run by systemd; not ours to answer
  return env;
}

function spawnLogged(bin: string, args: string[], cwd: string): Proc {
  let log = '';
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const child = spawn(bin, args, { cwd, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  const append = (chunk: Buffer): void => {
    if (log.length < MAX_LOG_CHARS) log += chunk.toString('utf8');
  };
  child.stdout!.on('data', append);
  child.stderr!.on('data', append);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('error', (err) => {
      log += `\n[harness] spawn error: ${err.message}\n`;
      exit = { code: -1, signal: null };
      resolve(exit);
    });
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      resolve(exit);
    });
  });
  return {
    child,
    pid: child.pid ?? -1,
    logs: () => log,
    exitCode: () => (exit ? (exit.code ?? -1) : undefined),
    exited,
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function describeExit(e: { code: number | null; signal: NodeJS.Signals | null }): string {
  return e.signal ? `signal ${e.signal}` : `code ${e.code}`;
}

/** Resolves once `logs()` contains `marker`; rejects if the process exits first or on timeout. */
async function waitForLog(proc: Proc, marker: string, timeoutMs: number, what: string): Promise<void> {
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  void proc.exited.then((e) => {
    exited = e;
  });
  await until(
    `${what} to log "${marker}"`,
    () => {
      if (proc.logs().includes(marker)) return true;
      if (exited) throw new Error(`${what} exited (${describeExit(exited)}) during startup:\n${proc.logs()}`);
      return undefined;
    },
    () => proc.logs(),
    timeoutMs,
    20,
  );
}

async function terminate(proc: Proc, graceMs = 5_000): Promise<void> {
  if (proc.exitCode() !== undefined) return;
  proc.child.kill('SIGTERM');
  const timer = sleep(graceMs).then(() => 'timeout' as const);
  if ((await Promise.race([proc.exited, timer])) === 'timeout') {
    proc.child.kill('SIGKILL');
    await proc.exited;
  }
}

// Best effort: never leave bouncers (or their nftables tables, which drop traffic) behind when the
// test process goes away without calling stop().
const exitHooks = new Set<() => void>();
let exitHookInstalled = false;
function onProcessExit(fn: () => void): () => void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const f of exitHooks) {
        try {
          f();
        } catch {
          // best effort
        }
      }
    });
  }
  exitHooks.add(fn);
  return () => exitHooks.delete(fn);
}

function writeYaml(file: string, doc: Record<string, unknown>): void {
  fs.writeFileSync(file, `# written by test/support/crowdsec-bouncers.ts\n${YAML.stringify(doc)}`, { mode: 0o600 });
}

// ---------------------------------------------------------------------------------------------
// custom bouncer

export interface CustomBouncerEvent {
  action: 'add' | 'del';
  /** decision value, e.g. 192.0.2.1 or 198.51.100.0/24 */
  value: string;
  /** remaining seconds, truncated to an integer (negative for deletions of expired decisions) */
  seconds: number;
  scenario: string;
  /** the decision as the bouncer serialised it (Go models.Decision JSON) */
  decision: Record<string, unknown>;
  /** the raw argv the script received (argv[1..]) */
  args: string[];
  /** when the script ran, ms since the epoch (from `date +%s%3N` inside the script) */
  at: number;
}

export interface CustomBouncerHandle {
  /** Lines the bouncer's script was called with, parsed, in call order. */
  events(): CustomBouncerEvent[];
  /** First event (already recorded or future) matching `pred`; rejects on timeout or if the bouncer exits. */
  waitFor(pred: (e: CustomBouncerEvent) => boolean, timeoutMs: number): Promise<CustomBouncerEvent>;
  /** The bouncer's own stdout/stderr so far. */
  logs(): string;
  /** SIGTERM, wait for exit (SIGKILL after 5 s). Idempotent. */
  stop(): Promise<void>;
  pid: number;
  /** undefined while running; the exit code (or -1 when killed by a signal) afterwards */
  exitCode(): number | null | undefined;
  /** Paths of what the harness wrote. */
  files: { dir: string; config: string; script: string; events: string };
}

/** What both bouncers' harnesses take besides their own settings. */
interface BouncerRunOptions {
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

export interface CustomBouncerOptions extends BouncerRunOptions {
  /** Go duration; default '10s' as shipped. Same (value,type) add/del calls are suppressed within it. */
  cacheRetentionDuration?: string;
}

/**
 * The keys both bouncers read alike (go-cs-bouncer's shared config): the Local API, how often to
 * pull, and logs on stdout in the foreground, where the harness reads them.
 */
function sharedBouncerYaml(dir: string, opts: BouncerRunOptions): Record<string, unknown> {
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

// Each call becomes one record: <ms-timestamp>\0<argc>\0<arg1>\0...<argN>\0, written with a single
// append (cat of a temp file) so concurrent calls cannot interleave. Args may contain anything but NUL.
const RECORDER_SCRIPT = `#!/bin/sh
# written by test/support/crowdsec-bouncers.ts: records one crowdsec-custom-bouncer call
dir=$(dirname "$0")
tmp="$dir/.record.$$"
{
  printf '%s\\0%s\\0' "$(date +%s%3N)" "$#"
  if [ "$#" -gt 0 ]; then printf '%s\\0' "$@"; fi
} > "$tmp"
cat "$tmp" >> "$dir/events.bin"
rm -f "$tmp"
exit 0
`;

/** Parses the recorder's NUL-separated records; a trailing incomplete record is left for later. */
export function parseRecordedCalls(buf: Buffer): { calls: { at: number; args: string[] }[]; consumed: number } {
  const calls: { at: number; args: string[] }[] = [];
  let pos = 0;
  let consumed = 0;
  const next = (): string | undefined => {
    const end = buf.indexOf(0, pos);
    if (end < 0) return undefined;
    const s = buf.toString('utf8', pos, end);
    pos = end + 1;
    return s;
  };
  for (;;) {
    const at = next();
    const argc = next();
    if (at === undefined || argc === undefined) break;
    const n = Number(argc);
    if (!Number.isInteger(n) || n < 0) throw new Error(`corrupt recorder file at byte ${consumed}`);
    const args: string[] = [];
    for (let i = 0; i < n; i++) {
      const a = next();
      if (a === undefined) break;
      args.push(a);
    }
    if (args.length < n) break;
    calls.push({ at: Number(at), args });
    consumed = pos;
  }
  return { calls, consumed };
}

function toEvent(call: { at: number; args: string[] }): CustomBouncerEvent {
  const [action = '', value = '', seconds = 'NaN', scenario = '', json = ''] = call.args;
  let decision: Record<string, unknown>;
  try {
    decision = JSON.parse(json) as Record<string, unknown>;
  } catch {
    decision = { unparsed: json };
  }
  return { action: action as 'add' | 'del', value, seconds: Number(seconds), scenario, decision, args: call.args, at: call.at };
}

/** Starts `crowdsec-custom-bouncer -c <generated config>`; resolves once its polling loop runs. */
export async function startCustomBouncer(opts: CustomBouncerOptions): Promise<CustomBouncerHandle> {
  const bin = findExecutable(CUSTOM_BIN);
  if (!bin) throw new Error(`${CUSTOM_BIN} not installed (run scripts/install-crowdsec-bouncers.sh as root)`);
  fs.mkdirSync(opts.workDir, { recursive: true });
  const dir = fs.mkdtempSync(path.join(opts.workDir, 'custom-bouncer-'));
  const files = {
    dir,
    config: path.join(dir, 'crowdsec-custom-bouncer.yaml'),
    script: path.join(dir, 'record-call.sh'),
    events: path.join(dir, 'events.bin'),
  };
  fs.writeFileSync(files.script, RECORDER_SCRIPT, { mode: 0o755 });
  fs.writeFileSync(files.events, '');
  // Keys as in the shipped /etc/crowdsec/bouncers/crowdsec-custom-bouncer.yaml (0.0.15).
  writeYaml(files.config, {
    bin_path: files.script,
    feed_via_stdin: false,
    total_retries: 0,
    scenarios_containing: opts.scenariosContaining ?? [],
    scenarios_not_containing: opts.scenariosNotContaining ?? [],
    origins: opts.origins ?? [],
    ...(opts.scopes ? { scopes: opts.scopes } : {}),
    piddir: dir, // only used when daemonize: true
    cache_retention_duration: opts.cacheRetentionDuration ?? '10s',
    ...sharedBouncerYaml(dir, opts),
    // the shipped default (enabled on 127.0.0.1:60602) would clash between parallel bouncers
    prometheus: { enabled: false, listen_addr: '127.0.0.1', listen_port: '60602' },
  });

  const proc = spawnLogged(bin, ['-c', files.config], dir);
  const unhook = onProcessExit(() => {
    if (proc.exitCode() === undefined) proc.child.kill('SIGKILL');
  });

  let parsed: CustomBouncerEvent[] = [];
  let offset = 0;
  let pending: Buffer = Buffer.alloc(0);
  const events = (): CustomBouncerEvent[] => {
    let chunk: Buffer;
    try {
      const fd = fs.openSync(files.events, 'r');
      try {
        const size = fs.fstatSync(fd).size;
        chunk = Buffer.alloc(Math.max(0, size - offset));
        if (chunk.length) fs.readSync(fd, chunk, 0, chunk.length, offset);
        offset += chunk.length;
      } finally {
        fs.closeSync(fd);
      }
    } catch {
      return parsed.slice();
    }
    if (chunk.length) {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      const { calls, consumed } = parseRecordedCalls(pending);
      pending = pending.subarray(consumed);
      parsed = parsed.concat(calls.map(toEvent));
    }
    return parsed.slice();
  };

  try {
    await waitForLog(proc, 'Processing new and deleted decisions', opts.startTimeoutMs ?? 10_000, CUSTOM_BIN);
  } catch (err) {
    await terminate(proc);
    unhook();
    throw err;
  }

  return {
    pid: proc.pid,
    files,
    events,
    logs: proc.logs,
    exitCode: proc.exitCode,
    async waitFor(pred, timeoutMs) {
      const context = () => `events: ${JSON.stringify(events())}\nlogs:\n${proc.logs()}`;
      return until(
        `a matching ${CUSTOM_BIN} event`,
        () => {
          const hit = events().find(pred);
          if (hit) return hit;
          const code = proc.exitCode();
          if (code !== undefined) throw new Error(`${CUSTOM_BIN} exited (code ${code}) before the awaited event.\n${context()}`);
          return undefined;
        },
        context,
        timeoutMs,
        25,
      );
    },
    async stop() {
      await terminate(proc);
      unhook();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// firewall bouncer (nftables)

export interface NftSetElement {
  /** address as nft prints it, e.g. "192.0.2.1", "2001:db8::1", or "198.51.100.0/24" for prefixes */
  value: string;
  /** seconds, when the element has a timeout */
  timeout?: number;
  expires?: number;
}

export interface FirewallBouncerNames {
  ipv4: { table: string; chain: string; set: string };
  ipv6: { table: string; chain: string; set: string };
}

export interface FirewallBouncerHandle {
  /** Addresses currently in the bouncer's IPv4 and IPv6 sets (sorted, v4 first). */
  listIps(): Promise<string[]>;
  /** The sets' elements with their timeouts. */
  listSets(): Promise<{ v4: NftSetElement[]; v6: NftSetElement[] }>;
  /** Polls listIps() until `pred` holds; rejects on timeout or if the bouncer exits. */
  waitForIps(pred: (ips: string[]) => boolean, timeoutMs: number): Promise<string[]>;
  logs(): string;
  /** SIGTERM, wait for exit, then delete the nftables tables it used. Idempotent. */
  stop(): Promise<void>;
  pid: number;
  exitCode(): number | null | undefined;
  names: FirewallBouncerNames;
  files: { dir: string; config: string };
}

export interface FirewallBouncerOptions extends BouncerRunOptions {
  /** Client certificate auth and the CA that signed the Local API's certificate (`cert_path`, `key_path`, `ca_cert_path`). */
  tls?: { certPath: string; keyPath: string; caCertPath: string };
  /**
   * false (default, as shipped): the bouncer creates its tables, sets and an input-hook chain that
   * DROPs packets from banned addresses — on this host's network namespace, so never ban loopback
   * or addresses the tests talk to. true: the harness pre-creates tables+sets, the bouncer only
   * fills the sets (`set-only: true`), no drop chain.
   */
  setOnly?: boolean;
  disableIpv6?: boolean;
  /** default ['ban'] as shipped */
  supportedDecisionsTypes?: string[];
}

const TABLE_PREFIX = 'vigiltest-';
let firewallCounter = 0;

async function nft(args: string[]): Promise<string> {
  const { stdout } = await execFileAsync(findExecutable('nft') ?? 'nft', args, { timeout: 10_000, maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

function nftSync(args: string[]): void {
  execFileSync(findExecutable('nft') ?? 'nft', args, { stdio: 'ignore', timeout: 10_000 });
}

function deleteTablesSync(names: FirewallBouncerNames): void {
  for (const [family, t] of [
    ['ip', names.ipv4.table],
    ['ip6', names.ipv6.table],
  ] as const) {
    try {
      nftSync(['delete', 'table', family, t]);
    } catch {
      // not there (never created, or the bouncer removed it itself)
    }
  }
}

/** Deletes tables left by earlier test processes that died without stop() (pid no longer alive). */
async function cleanupStaleTables(): Promise<void> {
  let listing: { nftables?: { table?: { family: string; name: string } }[] };
  try {
    listing = JSON.parse(await nft(['-j', 'list', 'tables']));
  } catch {
    return;
  }
  for (const item of listing.nftables ?? []) {
    const t = item.table;
    const m = t && new RegExp(`^${TABLE_PREFIX}(\\d+)-`).exec(t.name);
    if (!t || !m) continue;
    const pid = Number(m[1]);
    let alive = true;
    try {
      process.kill(pid, 0);
    } catch (err) {
      alive = (err as NodeJS.ErrnoException).code === 'EPERM';
    }
    if (!alive) await nft(['delete', 'table', t.family, t.name]).catch(() => {});
  }
}

function parseSetElements(json: string): NftSetElement[] {
  const doc = JSON.parse(json) as { nftables?: { set?: { elem?: unknown[] } }[] };
  const set = doc.nftables?.find((x) => x.set)?.set;
  const out: NftSetElement[] = [];
  const render = (v: unknown): string => {
    if (typeof v === 'string' || typeof v === 'number') return String(v);
    if (v && typeof v === 'object' && 'prefix' in v) {
      const p = (v as { prefix: { addr: string; len: number } }).prefix;
      return `${p.addr}/${p.len}`;
    }
    if (v && typeof v === 'object' && 'range' in v) {
      const r = (v as { range: unknown[] }).range;
      return `${render(r[0])}-${render(r[1])}`;
    }
    return JSON.stringify(v);
  };
  for (const e of set?.elem ?? []) {
    if (e && typeof e === 'object' && 'elem' in e) {
      const el = (e as { elem: { val: unknown; timeout?: number; expires?: number } }).elem;
      out.push({ value: render(el.val), timeout: el.timeout, expires: el.expires });
    } else {
      out.push({ value: render(e) });
    }
  }
  return out;
}

/** Starts `crowdsec-firewall-bouncer -c <generated config>` in nftables mode with unique table names. */
export async function startFirewallBouncer(opts: FirewallBouncerOptions): Promise<FirewallBouncerHandle> {
  const avail = crowdsecBouncersAvailable();
  if (!avail.firewall) throw new Error(`firewall bouncer unavailable: ${avail.reason}`);
  const bin = findExecutable(FIREWALL_BIN)!;
  await cleanupStaleTables();

  const id = `${TABLE_PREFIX}${process.pid}-${++firewallCounter}-${Math.random().toString(36).slice(2, 6)}`;
  const names: FirewallBouncerNames = {
    ipv4: { table: `${id}-4`, chain: `${id}-4-chain`, set: `${id}-4-bl` },
    ipv6: { table: `${id}-6`, chain: `${id}-6-chain`, set: `${id}-6-bl` },
  };
  fs.mkdirSync(opts.workDir, { recursive: true });
  const dir = fs.mkdtempSync(path.join(opts.workDir, 'firewall-bouncer-'));
  const files = { dir, config: path.join(dir, 'crowdsec-firewall-bouncer.yaml') };
  const setOnly = opts.setOnly ?? false;
  const ipv6 = !(opts.disableIpv6 ?? false);

  // Before anything exists, so a crash from here on still cleans up.
  const unhookTables = onProcessExit(() => deleteTablesSync(names));

  if (setOnly) {
    // set-only mode requires the table and set to exist already (else: fatal "could not find ipv4 table")
    await nft(['add', 'table', 'ip', names.ipv4.table]);
    await nft(['add', 'set', 'ip', names.ipv4.table, names.ipv4.set, '{ type ipv4_addr; flags timeout; }']);
    if (ipv6) {
      await nft(['add', 'table', 'ip6', names.ipv6.table]);
      await nft(['add', 'set', 'ip6', names.ipv6.table, names.ipv6.set, '{ type ipv6_addr; flags timeout; }']);
    }
  }

  // Keys as in the shipped /etc/crowdsec/bouncers/crowdsec-firewall-bouncer.yaml (0.0.25).
  writeYaml(files.config, {
    mode: 'nftables',
    pid_dir: dir,
    ...sharedBouncerYaml(dir, opts),
    ...(opts.tls ? { cert_path: opts.tls.certPath, key_path: opts.tls.keyPath, ca_cert_path: opts.tls.caCertPath } : {}),
    insecure_skip_verify: false,
    disable_ipv6: !ipv6,
    deny_action: 'DROP',
    deny_log: false,
    supported_decisions_types: opts.supportedDecisionsTypes ?? ['ban'],
    ...(opts.scopes ? { scopes: opts.scopes } : {}),
    ...(opts.origins ? { origins: opts.origins } : {}),
    ...(opts.scenariosContaining ? { scenarios_containing: opts.scenariosContaining } : {}),
    ...(opts.scenariosNotContaining ? { scenarios_not_containing: opts.scenariosNotContaining } : {}),
    blacklists_ipv4: names.ipv4.set,
    blacklists_ipv6: names.ipv6.set,
    ipset_type: 'nethash',
    iptables_chains: ['INPUT'],
    nftables: {
      ipv4: { enabled: true, 'set-only': setOnly, table: names.ipv4.table, chain: names.ipv4.chain },
      ipv6: { enabled: ipv6, 'set-only': setOnly, table: names.ipv6.table, chain: names.ipv6.chain },
    },
    pf: { anchor_name: '' },
    prometheus: { enabled: false, listen_addr: '127.0.0.1', listen_port: '60601' },
  });

  const proc = spawnLogged(bin, ['-c', files.config], dir);
  const unhookProc = onProcessExit(() => {
    if (proc.exitCode() === undefined) proc.child.kill('SIGKILL');
  });
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await terminate(proc);
    unhookProc();
    deleteTablesSync(names);
    unhookTables();
  };

  try {
    await waitForLog(proc, 'Processing new and deleted decisions', opts.startTimeoutMs ?? 10_000, FIREWALL_BIN);
  } catch (err) {
    await stop();
    throw err;
  }

  const listSet = async (family: 'ip' | 'ip6', table: string, set: string): Promise<NftSetElement[]> => {
    try {
      return parseSetElements(await nft(['-j', 'list', 'set', family, table, set]));
    } catch (err) {
      const msg = String((err as { stderr?: string }).stderr ?? err);
      if (/No such file or directory/.test(msg)) return []; // table gone (bouncer exited and removed it)
      throw err;
    }
  };
  const listSets = async (): Promise<{ v4: NftSetElement[]; v6: NftSetElement[] }> => ({
    v4: await listSet('ip', names.ipv4.table, names.ipv4.set),
    v6: ipv6 ? await listSet('ip6', names.ipv6.table, names.ipv6.set) : [],
  });
  const listIps = async (): Promise<string[]> => {
    const { v4, v6 } = await listSets();
    return [...v4.map((e) => e.value).sort(), ...v6.map((e) => e.value).sort()];
  };

  return {
    pid: proc.pid,
    names,
    files,
    logs: proc.logs,
    exitCode: proc.exitCode,
    listIps,
    listSets,
    async waitForIps(pred, timeoutMs) {
      let last: string[] = [];
      return until(
        'the nftables set to match',
        async () => {
          last = await listIps();
          if (pred(last)) return last;
          const code = proc.exitCode();
          if (code !== undefined) throw new Error(`${FIREWALL_BIN} exited (code ${code}); set: ${JSON.stringify(last)}\nlogs:\n${proc.logs()}`);
          return undefined;
        },
        () => `last: ${JSON.stringify(last)}\nlogs:\n${proc.logs()}`,
        timeoutMs,
        50,
      );
    },
    stop,
  };
}
