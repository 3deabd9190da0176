// Both cores (issue 28 item 4): does a multi-process mode raise `?ip=` and pull throughput ≥ 1.6×
// without doubling RSS at 1M decisions?
//
//   npm run bench:cores                      (100k and 1M decisions)
//   npm run bench:cores -- --decisions 100000
//
// Per size: one real `vigil serve` (the writer) on a SQLite store with N decisions imported by
// `vigil decisions import`, then 1 and 2 read workers (bench/multi-core-worker.ts: serve's own
// DecisionSync + BouncerGate + createDecisionRoutes, on one SO_REUSEPORT port, their index fed
// from the same store revision). Load: wrk, ONE thread, 64 connections, keep-alive, on loopback.
// The load generator shares the 2 cores: each row says how many cores the server processes and wrk
// used (from /proc and /usr/bin/time) and the server's CPU per request, which depends
// much less on who else runs. Needs wrk (Debian: apt-get install wrk). Env: BENCH_DURATION (s, default 10),
// BENCH_CONNECTIONS (default 64).
// Results: a markdown table on stdout and bench/results/multi-core-<time>.json.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, residentMB, sleep, spawnVigilServe, stopServer, vigilEnv, waitFor, writeResult } from './support.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const NODE = process.execPath;
const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const UA = 'crowdsec-firewall-bouncer/v0.0.25';
const HIT_IP = '10.0.1.1'; // row 257: an IPv4 decision at every size
const log = (...a: unknown[]) => console.error('[cores]', ...a);

if (!existsSync('/usr/bin/wrk') && !existsSync('/usr/local/bin/wrk')) throw new Error('bench:cores needs wrk: apt-get install wrk');

const sizesArg = process.argv.indexOf('--decisions');
const SIZES = (sizesArg > 0 ? process.argv[sizesArg + 1]! : '100000,1000000').split(',').map(Number);

type Run = {
  decisions: number;
  setup: string;
  processes: number;
  path: 'ip' | 'pull';
  rps: number;
  p50ms: number;
  p99ms: number;
  errors: number;
  serverCores: number;
  wrkCores: number;
  serverCpuUsPerReq: number;
  rssTotalMB: number;
  load1: number;
};
const runs: Run[] = [];
const writerRss: Array<{ decisions: number; serveRssMB: number }> = [];

function sh(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env, timeoutMs = 600_000): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd: ROOT, env, timeout: timeoutMs, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')}: ${err.message}\n${stderr}`));
      else resolve({ stdout, stderr });
    });
  });
}

/** utime + stime of a process so far, in ms (clock ticks of 10 ms); 0 when gone. */
function cpuMs(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return 0;
  }
}

/** The shapes of bench/lapi.bench.ts (IPv4 and IPv6 addresses, every 20th a range), valid up to 1M rows. */
function decisionLine(i: number): string {
  const m = i % 20;
  if (m === 0) {
    const r = i / 20;
    const k = r >> 1; // up to 25,000 IPv4 ranges at 1M: 100.64.0.0/24 to 100.161.167.0/24
    return r % 2 === 0 ? `24h,Range,100.${64 + (k >> 8)}.${k & 255}.0/24,bench` : `24h,Range,2001:db8:ffff:${r.toString(16)}::/64,bench`;
  }
  if (m <= 5) return `24h,Ip,2001:db8:${(i >> 16).toString(16)}:${(i & 0xffff).toString(16)}::1,bench`;
  return `24h,Ip,10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255},bench`;
}

/** wrk's latency ("812.00us", "1.20ms", "2.01s") in ms. */
function wrkMs(text: string): number {
  const m = /([\d.]+)(us|ms|s)\b/.exec(text);
  if (!m) return Number.NaN;
  const v = Number(m[1]);
  return m[2] === 'us' ? v / 1000 : m[2] === 's' ? v * 1000 : v;
}

async function wrk(url: string, key: string, seconds: number) {
  // /usr/bin/time gives wrk's own CPU: the share of the 2 cores the load generator took.
  const { stdout, stderr } = await sh(
    '/usr/bin/time',
    ['-f', 'WRKCPU %U %S', 'wrk', '-t1', `-c${CONNECTIONS}`, `-d${seconds}s`, '--latency', '-H', `X-Api-Key: ${key}`, '-H', `User-Agent: ${UA}`, url],
    process.env,
    (seconds + 60) * 1000,
  );
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1]);
  const p50 = wrkMs(/^\s+50%\s+(\S+)/m.exec(stdout)?.[1] ?? '');
  const p99 = wrkMs(/^\s+99%\s+(\S+)/m.exec(stdout)?.[1] ?? '');
  const total = Number(/(\d+) requests in/.exec(stdout)?.[1]);
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(stdout)?.[1] ?? 0);
  const sockErr = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
  const errors = non2xx + (sockErr ? sockErr.slice(1).reduce((s, x) => s + Number(x), 0) : 0);
  const cpu = /WRKCPU ([\d.]+) ([\d.]+)/.exec(stderr);
  const wrkCpuMs = cpu ? (Number(cpu[1]) + Number(cpu[2])) * 1000 : Number.NaN;
  return { rps, p50, p99, total, errors, wrkCpuMs };
}

async function getText(url: string, key: string): Promise<{ status: number; body: string }> {
  const r = await fetch(url, { headers: { 'X-Api-Key': key, 'User-Agent': UA } });
  return { status: r.status, body: await r.text() };
}

async function measure(decisions: number, setup: string, base: string, key: string, pids: () => Array<number | undefined>) {
  const urls = { ip: `${base}/v1/decisions?ip=${HIT_IP}`, pull: `${base}/v1/decisions/stream` } as const;
  for (const path of ['ip', 'pull'] as const) {
    await wrk(urls[path], key, 2); // warm-up (JIT, keep-alive connections spread over the workers)
    const load1 = loadavg()[0]!;
    const cpu0 = pids().reduce((s: number, p) => s + cpuMs(p), 0);
    const t0 = Date.now();
    const w = await wrk(urls[path], key, DURATION);
    const wallMs = Date.now() - t0;
    const cpu1 = pids().reduce((s: number, p) => s + cpuMs(p), 0);
    const rssTotalMB = pids().reduce((s: number, p) => s + (residentMB(p, 'VmRSS') ?? 0), 0);
    const run: Run = {
      decisions,
      setup,
      processes: pids().length,
      path,
      rps: Math.round(w.rps),
      p50ms: w.p50,
      p99ms: w.p99,
      errors: w.errors,
      serverCores: Number(((cpu1 - cpu0) / wallMs).toFixed(2)),
      wrkCores: Number((w.wrkCpuMs / (DURATION * 1000)).toFixed(2)),
      serverCpuUsPerReq: Number((((cpu1 - cpu0) * 1000) / w.total).toFixed(1)),
      rssTotalMB: Math.round(rssTotalMB),
      load1: Number(load1.toFixed(2)),
    };
    runs.push(run);
    log(JSON.stringify(run));
    await sleep(500);
  }
}

async function benchSize(decisions: number): Promise<void> {
  const tmp = mkdtempSync(join(tmpdir(), 'vigil-cores-'));
  const servePort = await freePort();
  const db = `sqlite:${join(tmp, 'vigil.db')}`;
  const env = vigilEnv(db, servePort);
  let serve: ChildProcess | undefined;
  const workers: ChildProcess[] = [];
  try {
    serve = spawnVigilServe(ROOT, env, join(tmp, 'serve.log'));
    const base = `http://127.0.0.1:${servePort}`;
    await waitFor('vigil serve /health', async () => (await fetch(`${base}/health`)).status === 200, 120_000, 200);
    const cli = (...args: string[]) => sh(NODE, ['bin/vigil.js', ...args], env);
    const key = (await cli('bouncers', 'add', 'cores-bench', '-o', 'raw')).stdout.trim();
    const csv = join(tmp, 'decisions.csv');
    const lines = ['duration,scope,value,reason'];
    for (let i = 0; i < decisions; i++) lines.push(decisionLine(i));
    writeFileSync(csv, `${lines.join('\n')}\n`);
    let t0 = Date.now();
    await cli('decisions', 'import', '-i', csv);
    log(`${decisions}: imported in ${Date.now() - t0} ms`);
    t0 = Date.now();
    await waitFor('serve to hold the import', async () => (await getText(`${base}/v1/decisions?ip=${HIT_IP}`, key)).body !== 'null', 600_000, 200);
    log(`${decisions}: serve answers from the import after ${Date.now() - t0} ms`);
    // One startup pull (filtered to nothing, so the body is small) sets the bouncer's cursor, so
    // every measured pull is a steady-state delta (nothing new): a bouncer's every-10-s pull.
    const startup = await getText(`${base}/v1/decisions/stream?startup=true&scopes=nothing`, key);
    if (startup.status !== 200) throw new Error(`startup pull: ${startup.status} ${startup.body}`);
    await sleep(1_500); // activity_flush_every: the cursor reaches the store, where the workers read it

    await measure(decisions, 'vigil serve', base, key, () => [serve?.pid]);

    const workerPort = await freePort();
    const wbase = `http://127.0.0.1:${workerPort}`;
    for (let n = 1; n <= 2; n++) {
      const w = spawn(NODE, [join(ROOT, 'bench/multi-core-worker.ts')], {
        cwd: ROOT,
        env: { ...process.env, VIGIL_DB: db, PORT: String(workerPort) },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      workers.push(w);
      t0 = Date.now();
      await new Promise<void>((resolve, reject) => {
        let seen = '';
        w.stdout!.on('data', (c: Buffer) => {
          seen += c.toString();
          if (seen.includes('ready')) resolve();
        });
        w.once('exit', (code) => reject(new Error(`worker ${n} exited (${code}) before it was ready`)));
      });
      log(`${decisions}: worker ${n} ready after ${Date.now() - t0} ms`);
      // The serve (writer) stays up, idle; its RSS is reported apart.
      await measure(decisions, `${n} read worker${n > 1 ? 's' : ''} (SO_REUSEPORT)`, wbase, key, () => workers.map((x) => x.pid));
    }
    const serveRss = residentMB(serve.pid, 'VmRSS');
    log(`${decisions}: the writer (vigil serve) RSS meanwhile ${serveRss?.toFixed(0)} MB`);
    writerRss.push({ decisions, serveRssMB: Math.round(serveRss ?? 0) });
  } finally {
    for (const w of workers) await stopServer(w);
    await stopServer(serve);
    rmSync(tmp, { recursive: true, force: true });
  }
}

const started = new Date().toISOString();
for (const n of SIZES) await benchSize(n);

const lines = [
  `multi-core bench, ${started}, ${DURATION} s per row, wrk -t1 -c${CONNECTIONS}, 2 cores shared with wrk (load1 = load average when the row began)`,
  '',
  '| decisions | setup | path | req/s | ×1 proc | p50 ms | p99 ms | server cores | wrk cores | server CPU µs/req | RSS total MB | load1 |',
  '|---|---|---|---|---|---|---|---|---|---|---|---|',
];
for (const r of runs) {
  const one = runs.find((x) => x.decisions === r.decisions && x.path === r.path && x.setup.startsWith('1 read'));
  const ratio = one && r.setup.includes('worker') ? (r.rps / one.rps).toFixed(2) : '';
  lines.push(
    `| ${r.decisions} | ${r.setup} | ${r.path === 'ip' ? '?ip= hit' : 'stream delta'} | ${r.rps} | ${ratio} | ${r.p50ms.toFixed(2)} | ${r.p99ms.toFixed(2)} | ${r.serverCores} | ${r.wrkCores} | ${r.serverCpuUsPerReq} | ${r.rssTotalMB} | ${r.load1} |${r.errors ? ` errors ${r.errors}` : ''}`,
  );
}
for (const w of writerRss) lines.push('', `The writer (\`vigil serve\`, idle during the worker rows) at ${w.decisions}: RSS ${w.serveRssMB} MB.`);
console.log(lines.join('\n'));
writeResult(ROOT, 'multi-core', { started, durationS: DURATION, connections: CONNECTIONS, runs, writerRss });
