import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

/** Runs `cmd args…`, resolves with its output whatever its exit code (for tests that check the code). */
export async function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {}) {
  try {
    const r = await execFileP(cmd, args, { env: opts.env, cwd: opts.cwd, timeout: opts.timeoutMs ?? 600_000, maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as Error & { code?: number | string; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : 1, stdout: err.stdout ?? '', stderr: err.stderr ?? err.message };
  }
}

/** Runs `cmd args…`, resolves with stdout; rejects naming the command and its stderr when it fails. */
export async function ok(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {}): Promise<string> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}: ${(r.stderr || r.stdout).trim().slice(-3000)}`);
  return r.stdout;
}

/** Whether the machine has `cmd` on PATH. */
export function has(cmd: string): boolean {
  return (process.env.PATH ?? '').split(':').some((dir) => {
    try {
      fs.accessSync(path.join(dir, cmd), fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * systemd's notification socket, as the service manager has it (sd_notify(3)): a unix datagram
 * socket whose messages the tests read. Node has no unix datagram sockets, so a few lines of
 * Python (on every Debian) hold it and print each message on one line.
 */
export interface NotifySocket {
  path: string;
  /** The messages received so far, one string each (`READY=1\nMAINPID=…`). */
  messages(): string[];
  close(): void;
}

export async function notifySocket(dir: string): Promise<NotifySocket> {
  const socketPath = path.join(dir, 'notify.sock');
  const script = [
    'import socket, sys',
    's = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)',
    `s.bind(${JSON.stringify(socketPath)})`,
    'import os; os.chmod(sys.argv[1], 0o777)',
    'print("LISTENING", flush=True)',
    'while True:',
    '    m = s.recv(4096)',
    '    print(m.decode().replace("\\n", "|"), flush=True)',
  ].join('\n');
  const child: ChildProcess = spawn('python3', ['-c', script, socketPath], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const deadline = Date.now() + 10_000;
  while (!out.includes('LISTENING')) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error('the notify socket receiver (python3) did not start');
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    path: socketPath,
    messages: () =>
      out
        .split('\n')
        .slice(1)
        .filter((l) => l.length > 0)
        .map((l) => l.replace(/\|/g, '\n')),
    close: () => {
      child.kill('SIGKILL');
    },
  };
}

/** The `Key=value` lines of a unit's [Service] section, in order (repeated keys kept). */
export function unitService(file: string): Array<[string, string]> {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const out: Array<[string, string]> = [];
  let inService = false;
  for (const line of lines) {
    if (/^\[.*\]$/.test(line.trim())) inService = line.trim() === '[Service]';
    else if (inService && /^[A-Za-z]+=/.test(line)) {
      const i = line.indexOf('=');
      out.push([line.slice(0, i), line.slice(i + 1)]);
    }
  }
  return out;
}

/**
 * `dpkg args…`, waiting (up to 5 min) while another apt or dpkg on this shared machine holds the
 * lock: dpkg itself has no lock timeout (apt's DPkg::Lock::Timeout is apt's).
 */
export async function dpkg(...args: string[]): Promise<string> {
  const deadline = Date.now() + 300_000;
  for (;;) {
    const r = await run('dpkg', args);
    if (r.code === 0) return r.stdout;
    if (!/lock/.test(r.stderr) || Date.now() > deadline) throw new Error(`dpkg ${args.join(' ')} exited ${r.code}: ${r.stderr.trim().slice(-3000)}`);
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}
