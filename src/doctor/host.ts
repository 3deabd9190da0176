/**
 * Where doctor looks: this host, or inside a container or pod through `docker exec` /
 * `kubectl exec`. One small interface (read, stat, list, run, processes) so every check is the
 * same wherever the bouncer runs. Adapters only: no decisions here.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface CommandResult {
  /** Exit code; null when killed (timeout) or not started. */
  code: number | null;
  stdout: string;
  stderr: string;
  /** `not-found` when the program does not exist, `timeout` when killed after the time limit. */
  failure?: 'not-found' | 'timeout' | 'error';
  message?: string;
}

export type FileError = { error: 'ENOENT' | 'EACCES' | 'EISDIR' | 'OTHER'; message: string };

export interface FileStat {
  mode: number;
  uid: number;
  gid: number;
  isFile: boolean;
  isDirectory: boolean;
  size: number;
}

export interface ProcessInfo {
  pid: number;
  argv: string[];
}

export interface Host {
  /** For messages: "this host", "docker container web", "kubernetes pod crowdsec/web-0". */
  where: string;
  /** Whether this host is the one doctor runs on (network probes then run from the same place). */
  local: boolean;
  readFile(file: string, maxBytes?: number): Promise<{ text: string } | FileError>;
  /** The last `maxBytes` of a file (logs). */
  readTail(file: string, maxBytes: number): Promise<{ text: string } | FileError>;
  stat(file: string): Promise<FileStat | FileError>;
  listDir(dir: string): Promise<string[] | FileError>;
  run(cmd: string, args: string[], opts?: { timeoutMs?: number; input?: string }): Promise<CommandResult>;
  /** Path of an executable on PATH (plus the sbin directories), or undefined. */
  which(cmd: string): Promise<string | undefined>;
  processes(): Promise<ProcessInfo[]>;
  /** systemd is PID 1 (sd_booted: /run/systemd/system exists) and what PID 1 is. */
  init(): Promise<{ systemd: boolean; pid1: string }>;
}

export const isFileError = (x: unknown): x is FileError => typeof x === 'object' && x !== null && 'error' in x;

const DEFAULT_TIMEOUT_MS = 15_000;
const MAX_OUTPUT = 8 * 1024 * 1024;
const EXTRA_PATH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** `cmd` as a path, or the first executable file of that name on PATH or in the usual system folders. */
export function findExecutable(cmd: string): string | undefined {
  if (cmd.includes('/')) return fs.existsSync(cmd) ? cmd : undefined;
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), ...EXTRA_PATH];
  for (const d of dirs) {
    const p = path.join(d, cmd);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) return p;
    } catch {
      // next
    }
  }
  return undefined;
}

export function runCommand(cmd: string, args: string[], opts: { timeoutMs?: number; input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = execFile(
      cmd,
      args,
      { timeout: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS, maxBuffer: MAX_OUTPUT, encoding: 'utf8', env: opts.env ?? { ...process.env, LC_ALL: 'C' } },
      (err, stdout, stderr) => {
        if (!err) return resolve({ code: 0, stdout, stderr });
        const e = err as NodeJS.ErrnoException & { code?: string | number; killed?: boolean; signal?: string };
        if (e.code === 'ENOENT') return resolve({ code: null, stdout, stderr, failure: 'not-found', message: `${cmd}: not found` });
        if (e.killed || e.signal === 'SIGTERM')
          return resolve({ code: null, stdout, stderr, failure: 'timeout', message: `${cmd} did not finish in ${opts.timeoutMs ?? DEFAULT_TIMEOUT_MS} ms` });
        if (typeof e.code === 'number') return resolve({ code: e.code, stdout, stderr });
        resolve({ code: null, stdout, stderr, failure: 'error', message: e.message });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    else child.stdin?.end();
  });
}

function fileError(e: unknown): FileError {
  const err = e as NodeJS.ErrnoException;
  const code = err.code === 'ENOENT' || err.code === 'EACCES' || err.code === 'EISDIR' ? err.code : 'OTHER';
  return { error: code, message: err.message };
}

/** The first `maxBytes` of a file on this machine. */
function readLocalFile(file: string, maxBytes: number): { text: string } | FileError {
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const buf = Buffer.alloc(Math.min(maxBytes, fs.fstatSync(fd).size));
      const n = fs.readSync(fd, buf, 0, buf.length, 0);
      return { text: buf.subarray(0, n).toString('utf8') };
    } finally {
      fs.closeSync(fd);
    }
  } catch (e) {
    return fileError(e);
  }
}

/** The last `maxBytes` of a file on this machine (a log's newest lines). */
function readLocalTail(file: string, maxBytes: number): { text: string } | FileError {
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      const len = Math.min(size, maxBytes);
      const buf = Buffer.alloc(len);
      fs.readSync(fd, buf, 0, len, size - len);
      return { text: buf.toString('utf8') };
    } finally {
      fs.closeSync(fd);
    }
  } catch (e) {
    return fileError(e);
  }
}

/** This machine. */
export function localHost(): Host {
  return {
    where: 'this host',
    local: true,
    readFile: async (file, maxBytes = 4 * 1024 * 1024) => readLocalFile(file, maxBytes),
    readTail: async (file, maxBytes) => readLocalTail(file, maxBytes),
    async stat(file) {
      try {
        const s = fs.statSync(file);
        return { mode: s.mode & 0o7777, uid: s.uid, gid: s.gid, isFile: s.isFile(), isDirectory: s.isDirectory(), size: s.size };
      } catch (e) {
        return fileError(e);
      }
    },
    async listDir(dir) {
      try {
        return fs.readdirSync(dir).sort();
      } catch (e) {
        return fileError(e);
      }
    },
    run: (cmd, args, opts) => runCommand(cmd, args, opts),
    which: async (cmd) => findExecutable(cmd),
    async processes() {
      const out: ProcessInfo[] = [];
      let entries: string[];
      try {
        entries = fs.readdirSync('/proc');
      } catch {
        return out;
      }
      for (const e of entries) {
        if (!/^\d+$/.test(e)) continue;
        try {
          const argv = fs
            .readFileSync(`/proc/${e}/cmdline`, 'utf8')
            .split('\0')
            .filter((s) => s !== '');
          if (argv.length) out.push({ pid: Number(e), argv });
        } catch {
          // gone meanwhile
        }
      }
      return out;
    },
    async init() {
      let pid1 = 'unknown';
      try {
        pid1 = fs.readFileSync('/proc/1/comm', 'utf8').trim();
      } catch {
        // no procfs
      }
      return { systemd: fs.existsSync('/run/systemd/system'), pid1 };
    },
  };
}

/**
 * Inside a container or pod: every read and command goes through `docker exec` or `kubectl exec`
 * (run as the container's default user). Needs `cat`, `stat`, `ls` and `sh` in the image, which
 * the bouncer images based on Debian or Alpine have.
 */
export function execHost(kind: 'docker' | 'kubectl', target: { name: string; namespace?: string; container?: string }, runner = runCommand): Host {
  const prefix =
    kind === 'docker'
      ? ['exec', '-i', target.name]
      : ['exec', '-i', ...(target.namespace ? ['-n', target.namespace] : []), target.name, ...(target.container ? ['-c', target.container] : []), '--'];
  const where = kind === 'docker' ? `docker container ${target.name}` : `kubernetes pod ${target.namespace ? `${target.namespace}/` : ''}${target.name}`;
  const exec = (args: string[], opts?: { timeoutMs?: number; input?: string }) => runner(kind, [...prefix, ...args], opts);
  const asFileError = (r: CommandResult): FileError => {
    const msg = (r.stderr || r.message || '').trim();
    if (/No such file|not found|does not exist/i.test(msg)) return { error: 'ENOENT', message: msg };
    if (/Permission denied/i.test(msg)) return { error: 'EACCES', message: msg };
    if (/Is a directory/i.test(msg)) return { error: 'EISDIR', message: msg };
    return { error: 'OTHER', message: msg || `${kind} exec failed (exit ${r.code})` };
  };
  return {
    where,
    local: false,
    async readFile(file) {
      const r = await exec(['cat', '--', file]);
      return r.code === 0 ? { text: r.stdout } : asFileError(r);
    },
    async readTail(file, maxBytes) {
      const r = await exec(['tail', '-c', String(maxBytes), '--', file]);
      return r.code === 0 ? { text: r.stdout } : asFileError(r);
    },
    async stat(file) {
      const r = await exec(['stat', '-c', '%a %u %g %s %F', '--', file]);
      if (r.code !== 0) return asFileError(r);
      const [mode, uid, gid, size, ...type] = r.stdout.trim().split(' ');
      const t = type.join(' ');
      return { mode: parseInt(mode, 8), uid: Number(uid), gid: Number(gid), size: Number(size), isFile: /regular/.test(t), isDirectory: t === 'directory' };
    },
    async listDir(dir) {
      const r = await exec(['ls', '-1A', '--', dir]);
      return r.code === 0 ? r.stdout.split('\n').filter(Boolean).sort() : asFileError(r);
    },
    run: (cmd, args, opts) => exec([cmd, ...args], opts),
    async which(cmd) {
      const r = await exec(['sh', '-c', 'PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"; command -v "$1"', 'sh', cmd]);
      const p = r.stdout.trim();
      return r.code === 0 && p ? p : undefined;
    },
    async processes() {
      const script = 'for d in /proc/[0-9]*; do [ -r "$d/cmdline" ] || continue; printf "%s\\t" "${d#/proc/}"; tr "\\000" "\\001" < "$d/cmdline"; echo; done';
      const r = await exec(['sh', '-c', script]);
      if (r.code !== 0) return [];
      return r.stdout
        .split('\n')
        .map((l) => {
          const tab = l.indexOf('\t');
          return {
            pid: Number(l.slice(0, tab)),
            argv: l
              .slice(tab + 1)
              .split('\u0001')
              .filter(Boolean),
          };
        })
        .filter((p) => p.pid > 0 && p.argv.length > 0);
    },
    async init() {
      const r = await exec(['sh', '-c', 'cat /proc/1/comm; [ -d /run/systemd/system ] && echo systemd']);
      const lines = r.stdout.trim().split('\n');
      return { pid1: lines[0] || 'unknown', systemd: lines.includes('systemd') };
    },
  };
}
