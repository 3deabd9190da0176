/**
 * The process plumbing both real-bouncer harnesses share (custom-bouncer.ts, firewall-bouncer.ts):
 * spawn with logs captured, wait for a log line, stop with a grace period, and kill on test exit.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { until } from './wait.ts';

const MAX_LOG_CHARS = 4 * 1024 * 1024;

export interface Proc {
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

export function spawnLogged(bin: string, args: string[], cwd: string): Proc {
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
export async function waitForLog(proc: Proc, marker: string, timeoutMs: number, what: string): Promise<void> {
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

export async function terminate(proc: Proc, graceMs = 5_000): Promise<void> {
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
export function onProcessExit(fn: () => void): () => void {
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
