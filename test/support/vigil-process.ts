/**
 * A real `vigil serve` or `vigil watch` in a child process, for the tests that signal it (SIGHUP
 * reloads): its stdout and stderr kept, ready once a line says so, stopped with SIGTERM at the
 * test's cleanup.
 *
 *   const vigil = await spawnVigil(['watch'], { cwd: dir, env, readyWhen: "watching CrowdSec's bouncers", cleanups });
 *   vigil.child.kill('SIGHUP');
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { Cleanups } from './cleanups.ts';
import { until } from './wait.ts';

const BIN = path.resolve(import.meta.dirname, '../../bin/vigil.js');

export interface VigilProcess {
  child: ChildProcess;
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>;
  /** Its stdout and stderr so far. */
  output(): string;
  /** The lines of output() that `re` matches. */
  logLines(re: RegExp): string[];
}

export async function spawnVigil(args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv; readyWhen: string; cleanups: Cleanups }): Promise<VigilProcess> {
  let out = '';
  const child = spawn(process.execPath, [BIN, ...args], { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  opts.cleanups.push(async () => {
    child.kill('SIGTERM');
    await exited;
  });
  const output = () => out;
  await until(`vigil ${args[0]} to say "${opts.readyWhen}"`, () => (out.includes(opts.readyWhen) ? true : undefined), output, 30_000);
  return { child, exited, output, logLines: (re) => out.split('\n').filter((l) => re.test(l)) };
}
