/**
 * The real crowdsec-firewall-bouncer (0.0.25) in nftables mode against any LAPI URL, with table, set
 * and chain names of its own per instance, deleted on stop (crowdsec-bouncers.ts says how it behaves).
 */
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { findExecutable } from '../../src/doctor/host.ts';
import { onProcessExit, spawnLogged, terminate, waitForLog } from './bouncer-process.ts';
import { type BouncerRunOptions, crowdsecBouncersAvailable, FIREWALL_BIN, sharedBouncerYaml, writeYaml } from './crowdsec-bouncers.ts';
import { until } from './wait.ts';

const execFileAsync = promisify(execFile);

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
