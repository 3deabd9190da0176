import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sleep } from '../support.ts';
import { sh } from './shell.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const NODE = process.execPath;

/** A server under measurement: its base URL, a bouncer key, and its process (for its CPU time). */
export interface Target {
  name: 'vigil' | 'crowdsec' | 'hello';
  base: string;
  key: string;
  pid(): number | undefined;
}

/**
 * One autocannon run in a fresh child process: the load generator shares the 2 cores with the
 * server, so it must not carry this script's own heap (100k-decision files, 14 MB bodies) into the
 * measurement, and every server is measured by an identical client.
 */
async function autocannonRun(url: string, headers: Record<string, string>, connections: number, seconds: number) {
  const args = [join(ROOT, 'node_modules/autocannon/autocannon.js'), '-j', '-c', String(connections), '-p', '1', '-t', '10', '-d', String(seconds)];
  for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}: ${v}`);
  args.push(url);
  const { stdout } = await sh(NODE, args, { timeoutMs: (seconds + 60) * 1000 });
  return JSON.parse(stdout) as {
    requests: { total: number };
    duration: number;
    latency: { p50: number; p99: number };
    non2xx: number;
    errors: number;
    timeouts: number;
  };
}

export interface CannonSettings {
  warmupS: number;
  durationS: number;
  /** Sent as the User-Agent: without a bouncer's, both LAPIs log "bad user agent" (CrowdSec on every request). */
  userAgent: string;
  log: (...a: unknown[]) => void;
}

export interface CannonResult {
  rps: number;
  p50: number;
  p99: number;
  bad: number;
  cpuUs: number | null;
}

/** A warm-up, then one measured autocannon run at `path` with `connections`, then waits for the server to go quiet. */
export function cannonWith(s: CannonSettings): (t: Target, path: string, connections: number) => Promise<CannonResult> {
  return async (t, path, connections) => {
    const headers = { 'X-Api-Key': t.key, 'User-Agent': s.userAgent };
    if (s.warmupS > 0) await autocannonRun(t.base + path, headers, connections, s.warmupS);
    const cpu0 = cpuMs(t.pid());
    const r = await autocannonRun(t.base + path, headers, connections, s.durationS);
    const cpu1 = cpuMs(t.pid());
    // The server's own CPU per request (µs): what it spends, whatever the load generator does.
    const cpuUs = cpu0 !== null && cpu1 !== null && r.requests.total > 0 ? ((cpu1 - cpu0) * 1000) / r.requests.total : null;
    const bad = r.non2xx + r.errors + r.timeouts;
    if (bad) s.log(`  ${t.name} ${path} c=${connections}: non2xx=${r.non2xx} errors=${r.errors} timeouts=${r.timeouts}`);
    // total completed / duration is more robust than the per-second average for slow servers
    const rps = r.requests.total / r.duration;
    // A slow server keeps working through its queued requests after the load stops; let it finish
    // before the next measurement, so it never runs on top of the other server's.
    await quiesce(t.pid());
    return { rps, p50: r.latency.p50, p99: r.latency.p99, bad, cpuUs };
  };
}

/** CPU time (ms) a process has used so far, from /proc; null when gone. */
function cpuMs(pid: number | undefined): number | null {
  if (!pid) return null;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, in clock ticks of 10 ms
  } catch {
    return null;
  }
}

/** Waits until a process uses under 5% of a core over half a second (at most 15 s). */
async function quiesce(pid: number | undefined): Promise<void> {
  const deadline = Date.now() + 15_000;
  let before = cpuMs(pid);
  while (before !== null && Date.now() < deadline) {
    await sleep(500);
    const now = cpuMs(pid);
    if (now === null || now - before < 25) return;
    before = now;
  }
}
