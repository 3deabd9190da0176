import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { until } from './wait.ts';

/** A free TCP port on 127.0.0.1 (for programs that cannot take port 0, such as nginx or CrowdSec). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

/** `s` as one word of a /bin/sh command line (for the wrapper scripts the harnesses write). */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9._/@:-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** A real program the tests start and stop, perhaps several times, its output kept. */
export interface LoggedProcess {
  /** Spawns it unless it is running; stdout and stderr go to logs(). */
  spawn(): void;
  running(): boolean;
  /** Its process id while it runs. */
  pid(): number | undefined;
  /** SIGTERM, SIGKILL after `killAfterMs`; resolves once it has exited. Idempotent. */
  stop(): Promise<void>;
  /** Its stdout and stderr since it was created (all starts), up to 4 MiB. */
  logs(): string;
}

const MAX_LOG_CHARS = 4 * 1024 * 1024;

/** `bin args…` in `cwd`, killed when the test process exits (a failed test leaves no daemon behind). */
export function loggedProcess(bin: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; killAfterMs?: number } = {}): LoggedProcess {
  let log = '';
  let child: ChildProcess | undefined;
  let exited: Promise<void> | undefined;
  const running = () => child !== undefined && child.exitCode === null && child.signalCode === null;
  const killOnExit = () => {
    if (running()) child!.kill('SIGKILL');
  };
  return {
    spawn() {
      if (running()) return;
      const c = spawn(bin, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
      child = c;
      const append = (chunk: Buffer) => {
        if (log.length < MAX_LOG_CHARS) log += chunk.toString('utf8');
      };
      c.stdout!.on('data', append);
      c.stderr!.on('data', append);
      exited = new Promise<void>((resolve) => {
        c.once('exit', () => resolve());
        c.once('error', (e) => {
          log += `\n[harness] spawn error: ${e.message}\n`;
          resolve();
        });
      });
      process.on('exit', killOnExit);
    },
    running,
    pid: () => (running() ? child!.pid : undefined),
    async stop() {
      if (!child || !exited) return;
      const c = child;
      if (running()) {
        c.kill('SIGTERM');
        const timer = setTimeout(() => c.kill('SIGKILL'), opts.killAfterMs ?? 10_000);
        await exited;
        clearTimeout(timer);
      }
      child = undefined;
      exited = undefined;
      process.off('exit', killOnExit);
    },
    logs: () => log,
  };
}

/**
 * Waits until `GET {url}health` answers 2xx (the Local API is up), polling every 100 ms; if the
 * process exits first, or `timeoutMs` passes, stops it and fails with `what` and its log.
 */
export async function awaitHealthy(proc: LoggedProcess, url: string, timeoutMs: number, what: string): Promise<void> {
  try {
    await until(
      `${what} to answer ${url}health`,
      async () => {
        if (!proc.running()) throw new Error(`${what} exited during startup; log:\n${proc.logs().slice(-4000)}`);
        const ok = await fetch(`${url}health`, { signal: AbortSignal.timeout(2000) }).then(
          (r) => r.ok,
          () => false,
        );
        return ok || undefined;
      },
      () => `log:\n${proc.logs().slice(-4000)}`,
      timeoutMs,
      100,
    );
  } catch (e) {
    await proc.stop();
    throw e;
  }
}

/** Sends `signal` (the program's graceful stop), then SIGKILL if it has not exited after 5 s. */
export async function stopChild(child: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill(signal);
  await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

/** A harness's destroy (CrowdSec, an agent): its process stopped, then its folder removed. */
export async function stopAndRemove(proc: LoggedProcess, dir: string): Promise<void> {
  await proc.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}

/**
 * A harness's first start (CrowdSec, an agent), unless the test asked to start it itself
 * (`start: false`); a failed start removes the harness's folder before rethrowing.
 */
export async function startOrRemove(startNow: boolean, start: () => Promise<void>, dir: string): Promise<void> {
  if (!startNow) return;
  try {
    await start();
  } catch (e) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}
