/**
 * The bouncer's service as the host sees it: its systemd unit (state, restarts), its process,
 * its recent log lines, and for web-server bouncers `nginx -T` / `apache2ctl -t`. Adapters over
 * a Host (this machine, or a container/pod through exec).
 */
import type { Host, ProcessInfo } from './host.ts';
import { isFileError } from './host.ts';

export interface UnitState {
  loadState: string;
  activeState: string;
  subState: string;
  result: string;
  unitFileState: string;
  nRestarts: number | null;
  execMainStatus: string;
  activeEnterTimestamp: string;
  user: string;
}

const UNIT_PROPS = ['LoadState', 'ActiveState', 'SubState', 'Result', 'UnitFileState', 'NRestarts', 'ExecMainStatus', 'ActiveEnterTimestamp', 'User'];

export async function systemdUnit(host: Host, unit: string, timeoutMs: number): Promise<UnitState | { error: string }> {
  const r = await host.run('systemctl', ['show', unit, '--no-pager', `--property=${UNIT_PROPS.join(',')}`], { timeoutMs });
  if (r.code !== 0) return { error: (r.stderr || r.message || `systemctl exited ${r.code}`).trim() };
  return parseSystemctlShow(r.stdout);
}

/** `systemctl show UNIT --property=…` prints one `Key=Value` per line. Pure. */
export function parseSystemctlShow(text: string): UnitState {
  const p = new Map<string, string>();
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) p.set(line.slice(0, eq), line.slice(eq + 1));
  }
  const n = p.get('NRestarts');
  return {
    loadState: p.get('LoadState') ?? '',
    activeState: p.get('ActiveState') ?? '',
    subState: p.get('SubState') ?? '',
    result: p.get('Result') ?? '',
    unitFileState: p.get('UnitFileState') ?? '',
    nRestarts: n !== undefined && n !== '' ? Number(n) : null,
    execMainStatus: p.get('ExecMainStatus') ?? '',
    activeEnterTimestamp: p.get('ActiveEnterTimestamp') ?? '',
    user: p.get('User') ?? '',
  };
}

export async function journalLines(host: Host, unit: string, lines: number, timeoutMs: number): Promise<string[] | { error: string }> {
  const r = await host.run('journalctl', ['-u', unit, '-n', String(lines), '--no-pager', '-o', 'short-iso'], { timeoutMs });
  if (r.code !== 0) return { error: (r.stderr || r.message || `journalctl exited ${r.code}`).trim() };
  return r.stdout.split('\n').filter((l) => l !== '' && !/^-- (No entries|Logs begin|Journal begins)/.test(l));
}

/** The last `lines` lines of a log file, or why it could not be read. */
export async function logFileLines(host: Host, file: string, lines: number): Promise<string[] | { error: string; missing: boolean }> {
  const r = await host.readTail(file, 256 * 1024);
  if (isFileError(r)) return { error: r.message, missing: r.error === 'ENOENT' };
  let all = r.text.split('\n');
  // A tail that filled the buffer may start in the middle of a line.
  if (r.text.length >= 256 * 1024) all = all.slice(1);
  return all.filter((l) => l !== '').slice(-lines);
}

/** Processes whose program is `name` (argv[0]'s basename, or nginx's retitled `nginx: master process …`). */
export function matchProcesses(all: ProcessInfo[], name: string): ProcessInfo[] {
  return all.filter((p) => {
    const a0 = p.argv[0] ?? '';
    const base = a0.split('/').pop() ?? '';
    return base === name || a0.startsWith(`${name}:`) || base.startsWith(`${name}:`);
  });
}

export interface NginxCheck {
  binary: string;
  ok: boolean;
  /** `nginx -T` output: the full configuration, every included file. */
  dump: string;
  stderr: string;
}

export async function nginxTest(
  host: Host,
  opts: { configFile?: string; binary?: string; timeoutMs: number },
): Promise<NginxCheck | { missing: true } | { error: string }> {
  const bin = opts.binary ?? (await host.which('nginx')) ?? (await host.which('openresty'));
  if (!bin) return { missing: true };
  // -T tests like -t and also prints the whole configuration, includes resolved.
  const args = ['-T', ...(opts.configFile ? ['-c', opts.configFile] : [])];
  const r = await host.run(bin, args, { timeoutMs: opts.timeoutMs });
  if (r.failure === 'not-found') return { missing: true };
  if (r.failure) return { error: r.message ?? r.failure };
  return { binary: bin, ok: r.code === 0, dump: r.stdout, stderr: r.stderr };
}

export interface ApacheCheck {
  binary: string;
  ok: boolean;
  stderr: string;
  modules: string;
}

export async function apacheTest(host: Host, opts: { timeoutMs: number }): Promise<ApacheCheck | { missing: true } | { error: string }> {
  const bin = (await host.which('apache2ctl')) ?? (await host.which('apachectl'));
  if (!bin) return { missing: true };
  const t = await host.run(bin, ['-t'], { timeoutMs: opts.timeoutMs });
  if (t.failure === 'not-found') return { missing: true };
  if (t.failure) return { error: t.message ?? t.failure };
  const m = await host.run(bin, ['-M'], { timeoutMs: opts.timeoutMs });
  return { binary: bin, ok: t.code === 0, stderr: `${t.stdout}${t.stderr}`, modules: m.stdout };
}
