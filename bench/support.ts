// Small helpers shared by the benchmark scripts.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A loopback TCP port nothing listens on right now (the tests' own). */
export { freePort } from '../test/support/processes.ts';

/** A process's peak (VmHWM) or current (VmRSS) resident set in MB, from /proc; null when gone. */
export function residentMB(pid: number | undefined, field: 'VmHWM' | 'VmRSS'): number | null {
  if (!pid) return null;
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** A small deterministic 32-bit generator (mulberry32), so every run benches the same addresses. */
export function seededU32(seed = 0x5eed): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** SIGTERM a server the bench started and wait for it to exit (SIGKILL after 10 s; a no-op when it already has). */
export async function stopServer(server: ChildProcess | undefined): Promise<void> {
  if (!server || server.exitCode !== null || server.signalCode !== null) return;
  const done = new Promise((r) => server.once('exit', r));
  server.kill('SIGTERM');
  const kill = setTimeout(() => server.kill('SIGKILL'), 10_000);
  await done;
  clearTimeout(kill);
}

/** A bench that failed: its stack goes into the report's notes and the log, and the run exits 1. */
export function noteFatal(notes: string[], e: unknown): void {
  notes.push(`fatal: ${e instanceof Error && e.stack ? e.stack : String(e)}`);
  console.error('[bench]', notes.at(-1));
  process.exitCode = 1;
}

/** Stops what a bench started (its servers, its private CrowdSec) and removes its folder; a CrowdSec that would not stop is noted. */
export async function stopBench(
  servers: ReadonlyArray<ChildProcess | undefined>,
  crowdsec: { destroy(): Promise<void> } | undefined,
  tmp: string,
  notes: string[],
): Promise<void> {
  for (const server of servers) await stopServer(server).catch(() => {});
  await crowdsec?.destroy().catch((e: Error) => notes.push(`crowdsec stop: ${e.message}`));
  rmSync(tmp, { recursive: true, force: true });
}

/**
 * Polls `ready` (which may throw while a server is still starting) until it is true, and resolves
 * with the ms that took; after `timeoutMs` throws naming `what`.
 */
export async function waitFor(what: string, ready: () => Promise<boolean>, timeoutMs = 60_000, everyMs = 100): Promise<number> {
  const t0 = performance.now();
  while (performance.now() - t0 < timeoutMs) {
    try {
      if (await ready()) return performance.now() - t0;
    } catch {
      /* not yet */
    }
    await sleep(everyMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** The ceiling a server is compared with: node:http answering `null` to everything, in a process of its own. */
export function spawnHelloWorld(port: number): ChildProcess {
  const server = `require('node:http').createServer((q,s)=>{s.writeHead(200,{'content-type':'application/json'});s.end('null')}).listen(${port},'127.0.0.1')`;
  return spawn(process.execPath, ['-e', server], { stdio: 'inherit' });
}

/** Writes `bench/results/<name>-<ISO time>.json` under `root` and says where. */
export function writeResult(root: string, name: string, out: unknown): string {
  const dir = join(root, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
  console.log(`JSON: ${file}`);
  return file;
}

/** A `vigil serve`'s event-loop histograms (server/metrics-loop.ts) by bucket: `le` in seconds (Infinity for +Inf) → cumulative ticks. */
export interface LoopHistograms {
  busy: Map<number, number>;
  delay: Map<number, number>;
}

/** Reads them from its /metrics; undefined when it does not answer. */
export async function loopHistograms(metricsUrl: string): Promise<LoopHistograms | undefined> {
  try {
    const text = await (await fetch(metricsUrl)).text();
    const read = (name: string) => {
      const m = new Map<number, number>();
      for (const x of text.matchAll(new RegExp(`^${name}_bucket\\{le="([^"]+)"\\} (\\d+)$`, 'gm')))
        m.set(x[1] === '+Inf' ? Infinity : Number(x[1]), Number(x[2]));
      return m;
    };
    return { busy: read('vigil_event_loop_busy_seconds'), delay: read('vigil_event_loop_delay_seconds') };
  } catch {
    return undefined;
  }
}

/** Between two readings: ticks in all, and ticks over each of `bounds` (seconds, bucket edges). */
export function ticksOver(before: Map<number, number>, after: Map<number, number>, bounds: number[]): { ticks: number; over: Record<string, number> } {
  const d = (le: number) => (after.get(le) ?? 0) - (before.get(le) ?? 0);
  const ticks = d(Infinity);
  return { ticks, over: Object.fromEntries(bounds.map((b) => [`${b * 1000}ms`, ticks - d(b)])) };
}

/** What a bench runs `vigil serve` and the CLI with: its store, a loopback port, no metrics listener, warnings only. */
export function vigilEnv(dbUrl: string, port: number, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, VIGIL_DB: dbUrl, VIGIL_LISTEN: `127.0.0.1:${port}`, VIGIL_METRICS_LISTEN: 'off', VIGIL_LOG_LEVEL: 'warn', ...extra };
}

/**
 * `vigil serve` started the way an operator starts it (`npx vigil serve`: the bin's shebang and its
 * Node flags), its output appended to `logFile`. BENCH_NODE_ARGS (e.g. "--cpu-prof
 * --cpu-prof-dir=/tmp/prof") runs it under this Node with the shebang's flag and those, to profile it.
 */
export function spawnVigilServe(root: string, env: NodeJS.ProcessEnv, logFile: string): ChildProcess {
  const bin = join(root, 'bin/vigil.js');
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const log = openSync(logFile, 'a');
  const options: SpawnOptions = { cwd: root, env: { ...env, PATH: `${join(root, 'node_modules/.bin')}:${env.PATH}` }, stdio: ['ignore', log, log] };
  const child = nodeArgs.length ? spawn(process.execPath, ['--max-semi-space-size=8', ...nodeArgs, bin, 'serve'], options) : spawn(bin, ['serve'], options);
  closeSync(log); // the child has its own
  return child;
}
