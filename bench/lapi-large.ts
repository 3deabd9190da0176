// `npm run bench -- --decisions 1000000`: Vigil and the real CrowdSec 1.4.6 LAPI with a large
// store (issue 28 item 3), side by side, with a time limit on every CrowdSec step (reported when hit).
//
// Rows: import, serve start with N stored (to the first answer), RSS at rest, one startup stream,
// 20 concurrent startup streams (each one's time, peak RSS, and live `?ip=` latency beside them),
// `?ip=` throughput against a bare node:http server. Env knobs: BENCH_DURATION (s, default 5),
// BENCH_CS_LIMIT_S (s per CrowdSec step, default 300; twice that for its import), BENCH_CS_MAX_RSS_MB (CrowdSec is stopped
// above it, default 4096), BENCH_SKIP_CROWDSEC=1. A private CrowdSec in a temporary folder: /etc/crowdsec untouched.
import { execFile, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import http from 'node:http';
import { startCrowdsec, type CrowdsecInstance } from '../test/support/crowdsec-instance.ts';
import { freePort, noteFatal, residentMB, sleep, spawnHelloWorld, spawnVigilServe, stopBench, stopServer, vigilEnv, waitFor, writeResult } from './support.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const NODE = process.execPath;
const DURATION = Number(process.env.BENCH_DURATION ?? 5);
const CS_LIMIT_MS = Number(process.env.BENCH_CS_LIMIT_S ?? 300) * 1000;
const CS_MAX_RSS_MB = Number(process.env.BENCH_CS_MAX_RSS_MB ?? 4096);
const HAVE_CS = existsSync('/usr/bin/crowdsec') && !process.env.BENCH_SKIP_CROWDSEC;
const UA = 'crowdsec-firewall-bouncer/v0.0.31';
/** An IPv4 address the import holds (row i = 65537 at 1M; the last IPv4 row below N otherwise). */
let HIT_IP = '10.1.0.1';
function hitIpFor(total: number): string {
  let i = Math.min(65_537, total - 1);
  while (i % 20 <= 5) i--;
  return `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
}
const CONCURRENT = 20;
const log = (...a: unknown[]) => console.error('[bench]', ...a);

interface Row {
  metric: string;
  vigil: string;
  crowdsec: string;
  target: string;
}

function sh(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 1_800_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd: ROOT, env, timeout: timeoutMs, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')}: ${err.killed ? `time limit ${timeoutMs / 1000} s hit` : err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/** One GET on its own connection: status, bytes, ms; rejects after `timeoutMs`. */
function get(url: string, key: string, timeoutMs: number): Promise<{ status: number; bytes: number; ms: number; body: string }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = http.get(url, { headers: { 'X-Api-Key': key, 'User-Agent': UA }, agent: false }, (res) => {
      let bytes = 0;
      let head = '';
      res.on('data', (c: Buffer) => {
        bytes += c.length;
        if (head.length < 4096) head += c.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes, ms: performance.now() - t0, body: head }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`time limit ${Math.round(timeoutMs / 1000)} s hit`)));
  });
}

function decisionLine(i: number): string {
  const m = i % 20;
  if (m === 0) {
    const r = i / 20;
    // As lapi.bench.ts below 16k ranges; past it the first octet moves on (100.256.x is no address).
    return r % 2 === 0 ? `24h,Range,${100 + (r >> 14)}.${64 + ((r >> 8) & 63)}.${r & 255}.0/24,bench` : `24h,Range,2001:db8:ffff:${r.toString(16)}::/64,bench`;
  }
  if (m <= 5) return `24h,Ip,2001:db8:${(i >> 16).toString(16)}:${(i & 0xffff).toString(16)}::1,bench`;
  return `24h,Ip,10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255},bench`;
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : s[Math.min(s.length - 1, Math.floor((s.length * p) / 100))]!;
};
const f = (x: number | null | undefined, digits = 1) => (x == null || Number.isNaN(x) ? '–' : x.toFixed(digits));

interface Server {
  name: 'vigil' | 'crowdsec';
  base: string;
  key: string;
  pid(): number | undefined;
  addBouncer(name: string): Promise<string>;
  limitMs: number;
}

/** Samples a process's RSS every 100 ms until stopped; its peak (MB). Stops the process above `killAboveMB`. */
function rssSampler(s: Server, killAboveMB: number | null) {
  let peak = residentMB(s.pid(), 'VmRSS') ?? 0;
  let killed = false;
  const t = setInterval(() => {
    const now = residentMB(s.pid(), 'VmRSS');
    if (now !== null) peak = Math.max(peak, now);
    if (killAboveMB !== null && now !== null && now > killAboveMB && !killed) {
      killed = true;
      log(`${s.name} RSS ${now} MB > ${killAboveMB} MB: stopping it`);
      process.kill(s.pid()!, 'SIGKILL');
    }
  }, 100);
  return {
    stop: () => {
      clearInterval(t);
      return { peak, killed };
    },
  };
}

/** `count` bouncers start at once; live `?ip=` lookups (one at a time) run beside them. */
async function concurrentStartups(s: Server, count: number, tag: string) {
  const keys: string[] = [];
  for (let i = 0; i < count; i++) keys.push(await s.addBouncer(`${tag}-${i}`));
  const sampler = rssSampler(s, s.name === 'crowdsec' ? CS_MAX_RSS_MB : null);
  let streaming = true;
  const lookups: number[] = [];
  let lookupFailures = 0;
  const live = (async () => {
    while (streaming) {
      try {
        const r = await get(`${s.base}/v1/decisions?ip=${HIT_IP}`, keys[0]!, s.limitMs);
        lookups.push(r.ms);
      } catch {
        lookupFailures++;
        await sleep(100);
      }
    }
  })();
  const results = await Promise.all(
    keys.map((k) =>
      get(`${s.base}/v1/decisions/stream?startup=true`, k, s.limitMs).then(
        (r) => ({ ok: r.status === 200, ms: r.ms, bytes: r.bytes, error: '' }),
        (e: Error) => ({ ok: false, ms: Number.NaN, bytes: 0, error: e.message }),
      ),
    ),
  );
  streaming = false;
  await live;
  const mem = sampler.stop();
  const times = results.filter((r) => r.ok).map((r) => r.ms);
  return { times, failed: results.filter((r) => !r.ok).map((r) => r.error), peakMB: mem.peak, killed: mem.killed, lookups, lookupFailures };
}

async function autocannon(url: string, key: string, connections: number) {
  const args = [
    join(ROOT, 'node_modules/autocannon/autocannon.js'),
    '-j',
    '-c',
    String(connections),
    '-d',
    String(DURATION),
    '-H',
    `X-Api-Key: ${key}`,
    '-H',
    `User-Agent: ${UA}`,
    url,
  ];
  const out = JSON.parse(await sh(NODE, args, process.env, (DURATION + 60) * 1000)) as {
    requests: { total: number };
    duration: number;
    latency: { p99: number };
  };
  return { rps: out.requests.total / out.duration, p99: out.latency.p99 };
}

export async function runLarge(total: number): Promise<void> {
  HIT_IP = hitIpFor(total);
  const tmp = mkdtempSync(join(tmpdir(), 'vigil-bench-large-'));
  const rows: Row[] = [];
  const notes: string[] = [];
  const load0 = loadavg();
  let vigilProc: ChildProcess | undefined;
  let helloProc: ChildProcess | undefined;
  let cs: CrowdsecInstance | undefined;
  // Interrupted: stop what this bench started (the private CrowdSec's folder included).
  const interrupted = () => {
    for (const c of [vigilProc, helloProc]) c?.kill('SIGKILL');
    const pid = cs?.pid();
    if (pid) process.kill(pid, 'SIGKILL');
    rmSync(tmp, { recursive: true, force: true });
    process.exit(130);
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  const label = total >= 1_000_000 ? `${total / 1_000_000}M` : `${total / 1000}k`;
  try {
    const helloPort = await freePort();
    helloProc = spawnHelloWorld(helloPort);
    const vigilPort = await freePort();
    const env = vigilEnv(`sqlite:${join(tmp, 'vigil.db')}`, vigilPort);
    const spawnVigil = () => spawnVigilServe(ROOT, env, join(tmp, 'vigil.log'));
    vigilProc = spawnVigil();
    const vigilBase = `http://127.0.0.1:${vigilPort}`;
    const vigilCli = (...a: string[]) => sh(NODE, ['bin/vigil.js', ...a], env);
    await waitFor('vigil /health', async () => (await get(`${vigilBase}/health`, '', 2000)).status === 200);
    const vigil: Server = {
      name: 'vigil',
      base: vigilBase,
      key: (await vigilCli('bouncers', 'add', 'bench', '-o', 'raw')).trim(),
      pid: () => vigilProc?.pid,
      addBouncer: async (n) => (await vigilCli('bouncers', 'add', n, '-o', 'raw')).trim(),
      limitMs: 600_000,
    };
    const servers: Server[] = [vigil];
    if (HAVE_CS) {
      cs = await startCrowdsec({ workDir: tmp, logLevel: 'warning', startTimeoutMs: 60_000 });
      const c = cs;
      servers.push({
        name: 'crowdsec',
        base: c.url.replace(/\/$/, ''),
        key: await c.addBouncer('bench'),
        pid: () => c.pid(),
        addBouncer: (n) => c.addBouncer(n),
        limitMs: CS_LIMIT_MS,
      });
    }
    const csv = join(tmp, 'decisions.csv');
    const lines = ['duration,scope,value,reason'];
    for (let i = 0; i < total; i++) lines.push(decisionLine(i));
    writeFileSync(csv, lines.join('\n') + '\n');
    lines.length = 0;

    const cells = (v: (s: Server) => Promise<string>) =>
      Promise.all(servers.map(async (s) => [s.name, await v(s).catch((e: Error) => `failed: ${e.message.split('\n')[0]}`)] as const));
    const put = (metric: string, target: string, got: ReadonlyArray<readonly [string, string]>) => {
      const m = new Map(got);
      rows.push({ metric, vigil: m.get('vigil') ?? '–', crowdsec: m.get('crowdsec') ?? '–', target });
      log(metric, JSON.stringify(Object.fromEntries(m)));
    };

    // --- import, one server after the other ---
    const imported = new Map<string, boolean>();
    const imp: Array<[string, string]> = [];
    for (const s of servers) {
      const t0 = performance.now();
      try {
        if (s.name === 'vigil') await vigilCli('decisions', 'import', '-i', csv);
        else await sh(cs!.cscliWrapper, ['decisions', 'import', '-i', csv], process.env, 2 * CS_LIMIT_MS);
        imported.set(s.name, true);
        imp.push([s.name, `${f((performance.now() - t0) / 1000)} s`]);
      } catch (e) {
        imported.set(s.name, false);
        const why = (e as Error).message;
        imp.push([
          s.name,
          why.includes('time limit') ? `> ${f((2 * CS_LIMIT_MS) / 1000, 0)} s (time limit hit)` : `failed: ${why.split('\n').slice(-3).join(' ')}`,
        ]);
      }
    }
    put(`import ${label} (decisions import)`, '–', imp);
    const active = servers.filter((s) => imported.get(s.name));

    // --- restart with everything stored: time to the first answer of the hit address ---
    const ready: Array<[string, string]> = [];
    for (const s of active) {
      const t0 = performance.now();
      if (s.name === 'vigil') {
        await stopServer(vigilProc);
        const started = performance.now();
        vigilProc = spawnVigil();
        const servesHit = async () => {
          const r = await get(`${s.base}/v1/decisions?ip=${HIT_IP}`, s.key, 2000);
          return r.status === 200 && r.body !== 'null';
        };
        const answer = await waitFor('the hit address served', servesHit, 600_000, 50).then(
          () => `${f((performance.now() - started) / 1000, 2)} s`,
          () => 'never',
        );
        ready.push([s.name, answer]);
      } else {
        // Until its LAPI answers (its own readiness probe): a `?ip=` at this size takes it far longer (row below).
        await cs!.stop();
        const started = performance.now();
        await cs!.start();
        ready.push([s.name, `${f((performance.now() - started) / 1000, 2)} s (LAPI up)`]);
      }
      log(`${s.name} restarted in ${f((performance.now() - t0) / 1000)} s`);
    }
    put(`serve start with ${label} stored, to the first answer`, '≤ 3 s', ready);
    await sleep(5000);
    put(`RSS at rest with ${label} (MB)`, "≤ 400 MB (CrowdSec's)", await cells(async (s) => f(residentMB(s.pid(), 'VmRSS'), 0)));

    // --- one startup stream ---
    put(
      `one startup=true stream at ${label}`,
      '≤ 3 s',
      await cells(async (s) => {
        if (!imported.get(s.name)) return 'not imported';
        const r = await get(`${s.base}/v1/decisions/stream?startup=true`, await s.addBouncer('bench-one'), s.limitMs);
        return `${f(r.ms / 1000, 2)} s, ${f(r.bytes / 1e6, 0)} MB`;
      }),
    );

    // --- twenty at once, live lookups beside them ---
    const conc = new Map<string, Awaited<ReturnType<typeof concurrentStartups>>>();
    for (const s of active) conc.set(s.name, await concurrentStartups(s, CONCURRENT, 'bench-many'));
    const of = (fn: (c: Awaited<ReturnType<typeof concurrentStartups>>) => string) => [...conc.entries()].map(([n, c]) => [n, fn(c)] as const);
    put(
      `${CONCURRENT} concurrent startup streams at ${label}: each (max; median)`,
      '≤ 15 s each',
      of((c) =>
        c.times.length === 0
          ? `none finished (${c.failed[0] ?? ''})`
          : `${f(Math.max(...c.times) / 1000)} s; ${f(pct(c.times, 50) / 1000)} s${c.failed.length ? ` (${c.failed.length} failed: ${c.failed[0]})` : ''}`,
      ),
    );
    put(
      `peak RSS during the ${CONCURRENT} streams (MB)`,
      '≤ 1,000 MB',
      of((c) => `${f(c.peakMB, 0)}${c.killed ? ` (stopped above ${CS_MAX_RSS_MB} MB)` : ''}`),
    );
    put(
      `live ?ip= beside them: p50 / p99 / max (ms), lookups`,
      'p99 < 50 ms',
      of(
        (c) =>
          `${f(pct(c.lookups, 50))} / ${f(pct(c.lookups, 99))} / ${f(c.lookups.length ? Math.max(...c.lookups) : Number.NaN)}, ${c.lookups.length}${c.lookupFailures ? ` (${c.lookupFailures} failed)` : ''}`,
      ),
    );

    // --- ?ip= throughput at N against the bare node:http server ---
    if (vigilProc.exitCode === null) {
      const hello = await autocannon(`http://127.0.0.1:${helloPort}/v1/decisions?ip=${HIT_IP}`, 'x', 64);
      const v = await autocannon(`${vigil.base}/v1/decisions?ip=${HIT_IP}`, vigil.key, 64);
      rows.push({
        metric: `?ip= hit at ${label}, 64 connections (req/s; % of node:http ${f(hello.rps, 0)})`,
        vigil: `${f(v.rps, 0)} (${f((100 * v.rps) / hello.rps, 0)} %), p99 ${v.p99} ms`,
        crowdsec: '–',
        target: '≥ 50 % of node:http',
      });
      log('ip= c64', JSON.stringify({ vigil: v, hello }));
    }
    const csServer = servers.find((s) => s.name === 'crowdsec');
    if (csServer && imported.get('crowdsec') && cs?.running()) {
      const r = await get(`${csServer.base}/v1/decisions?ip=${HIT_IP}`, csServer.key, CS_LIMIT_MS).then(
        (x) => `one request: ${f(x.ms / 1000, 1)} s`,
        (e: Error) => e.message,
      );
      const last = rows[rows.length - 1];
      if (last?.metric.startsWith('?ip=')) last.crowdsec = r;
    }
  } catch (e) {
    noteFatal(notes, e);
  } finally {
    await stopBench([vigilProc, helloProc], cs, tmp, notes);
  }
  const load1 = loadavg();
  console.log(`\n${label} decisions (load average at start ${load0.map((x) => x.toFixed(1)).join(' ')}, at end ${load1.map((x) => x.toFixed(1)).join(' ')})`);
  console.log('| metric | Vigil | CrowdSec 1.4.6 | target |\n|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.metric} | ${r.vigil} | ${r.crowdsec} | ${r.target} |`);
  if (notes.length) console.log(`\n${notes.join('\n')}`);
  writeResult(ROOT, `lapi-${label}`, {
    at: new Date().toISOString(),
    node: process.version,
    decisions: total,
    loadavg: { start: load0, end: load1 },
    csLimitS: CS_LIMIT_MS / 1000,
    rows,
    notes,
  });
}
