// Small helpers shared by the benchmark scripts.
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
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

/** SIGTERM a server the bench started, and wait for it to exit (a no-op when it already has). */
export async function stopServer(server: ChildProcess | undefined): Promise<void> {
  if (!server || server.exitCode !== null) return;
  const done = new Promise((r) => server.once('exit', r));
  server.kill('SIGTERM');
  await done;
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
