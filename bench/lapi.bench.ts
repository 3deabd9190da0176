// End-to-end LAPI benchmark: Vigil vs the real CrowdSec 1.4.6 LAPI (when installed) vs a bare
// node:http hello-world (the practical ceiling on this machine).
//
//   npm run bench            (node bench/lapi.bench.ts, on the Node 26 devDependency)
//   npm run bench -- --decisions 1000000   (the large-store table: bench/lapi-large.ts)
//
// Env knobs: BENCH_DURATION (s, default 5), BENCH_WARMUP (s, default 1), BENCH_SKIP_CROWDSEC=1.
// Everything runs on loopback. Results: one markdown table on stdout and
// bench/results/lapi-<timestamp>.json. Methodology follows crowdsec-wire-protocol.md §6
// (import via `cscli decisions import`, 10k then +90k -> 100k, probe hit/miss IPs).
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCrowdsec, type CrowdsecInstance } from '../test/support/crowdsec-instance.ts';
import { freePort, noteFatal, residentMB, sleep, spawnHelloWorld, spawnVigilServe, stopBench, stopServer, vigilEnv, waitFor } from './support.ts';
import { runLarge } from './lapi-large.ts';
import { cannonWith, type Target } from './lapi/autocannon.ts';
import { writeCsv } from './lapi/decisions-csv.ts';
import { get, type Resp } from './lapi/get.ts';
import { reportLapi, type Row } from './lapi/report.ts';
import { sh } from './lapi/shell.ts';

// `--decisions N`: the large-store comparison (bench/lapi-large.ts) instead of the 10k/100k one.
const decisionsFlag = process.argv.indexOf('--decisions');
if (decisionsFlag !== -1) {
  const total = Number(process.argv[decisionsFlag + 1]);
  if (!Number.isSafeInteger(total) || total < 1000) throw new Error('--decisions N: a whole number of decisions, at least 1000 (e.g. 1000000)');
  await runLarge(total);
  process.exit();
}

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const NODE = process.execPath;
const DURATION = Number(process.env.BENCH_DURATION ?? 5);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 1);
const HAVE_CS = existsSync('/usr/bin/crowdsec') && !process.env.BENCH_SKIP_CROWDSEC;
const MISS_IP = '192.0.2.200';
const BOUNCER_UA = 'crowdsec-custom-bouncer/v0.0.15';
const HIT = { '10k': '10.0.1.1', '100k': '10.1.0.1' } as const;

const rows: Row[] = [];
/** What each `?ip=` run reports, per server: the row's name, the cannon's field, its unit, which way is better. */
const CANNON_METRICS = [
  ['req/s', 'rps', 'req/s', 'higher'],
  ['p50 (ms)', 'p50', 'ms', 'lower'],
  ['p99 (ms)', 'p99', 'ms', 'lower'],
  ['server CPU per request (µs)', 'cpuUs', 'µs', 'lower'],
] as const;
const log = (...a: unknown[]) => console.error('[bench]', ...a);
const cannon = cannonWith({ warmupS: WARMUP, durationS: DURATION, userAgent: BOUNCER_UA, log });

const vmHWM = (pid: number | undefined) => residentMB(pid, 'VmHWM');
const vmRSS = (pid: number | undefined) => residentMB(pid, 'VmRSS');
const memStages: Array<{ stage: string; [k: string]: unknown }> = [];
function memStage(stage: string, ts: Array<{ name: string; pid(): number | undefined }>) {
  const e: { stage: string; [k: string]: unknown } = { stage };
  for (const t of ts) e[t.name] = { rssMB: vmRSS(t.pid()), hwmMB: vmHWM(t.pid()) };
  memStages.push(e);
  log('mem', JSON.stringify(e));
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

// ---------- main ----------
const tmp = mkdtempSync(join(tmpdir(), 'vigil-bench-'));
let vigilProc: ChildProcess | undefined;
let helloProc: ChildProcess | undefined;
let csInstance: CrowdsecInstance | undefined;
const failures: string[] = [];
const tStart = Date.now();

try {
  // --- hello-world ceiling (separate process, like the servers) ---
  const helloPort = await freePort();
  helloProc = spawnHelloWorld(helloPort);
  const hello: Target = { name: 'hello', base: `http://127.0.0.1:${helloPort}`, key: 'x', pid: () => helloProc?.pid };
  await waitFor('hello-world', async () => (await get(hello.base + '/')).status === 200);

  // --- Vigil ---
  const vigilPort = await freePort();
  const env = vigilEnv(`sqlite:${join(tmp, 'vigil.db')}`, vigilPort);
  const vigilCli = (...args: string[]) => sh(NODE, ['bin/vigil.js', ...args], { env });
  const spawnVigil = () => {
    const p = spawnVigilServe(ROOT, env, join(tmp, 'vigil.log'));
    p.once('exit', (c, sig) => {
      if (c !== 0 && sig !== 'SIGTERM') log(`vigil serve exited code=${c} signal=${sig}; log ${join(tmp, 'vigil.log')}`);
    });
    return p;
  };
  vigilProc = spawnVigil();
  const vigil: Target = { name: 'vigil', base: `http://127.0.0.1:${vigilPort}`, key: '', pid: () => vigilProc?.pid };
  await waitFor('vigil /health', async () => (await get(vigil.base + '/health')).status === 200);
  vigil.key = (await vigilCli('bouncers', 'add', 'bench', '-o', 'raw')).stdout.trim();
  log(`vigil serve pid ${vigilProc.pid} on ${vigil.base}`);

  // --- CrowdSec ---
  let crowdsec: Target | undefined;
  if (HAVE_CS) {
    // A private instance (test/support/crowdsec-instance.ts): its own config, database and port in
    // this bench's temporary folder; /etc/crowdsec and /var/lib/crowdsec are never touched.
    csInstance = await startCrowdsec({ workDir: tmp, logLevel: 'warning', startTimeoutMs: 60_000 });
    const cs = csInstance;
    crowdsec = { name: 'crowdsec', base: cs.url.replace(/\/$/, ''), key: '', pid: () => cs.pid() };
    crowdsec.key = await cs.addBouncer('bench');
    log(`crowdsec pid ${cs.pid()} on ${crowdsec.base}`);
  } else {
    console.log('CrowdSec absent: measuring Vigil alone');
  }
  const servers = [vigil, ...(crowdsec ? [crowdsec] : [])];
  memStage('started', servers);

  // The hello-world (the ceiling) is measured right before each Vigil run with the same client and
  // connections: its own numbers drift over a long run, so a single early run would flatter it.
  const helloRun = (c: number) => cannon(hello, '/v1/decisions?ip=' + MISS_IP, c);
  // Both servers are compared in their steady state. Every server here idles while the others are
  // measured, and a node:http process that has idled ~25 s after serving load is slower from then on
  // (a hello-world: 8.6-9.2 µs of CPU a request before, 10.2-10.8 µs after; V8's memory reducer: with
  // --no-memory-reducer it stays fast). So the hello-world serves a c1 and a c64 run that are not
  // recorded, then idles 30 s, before its first recorded run.
  log('hello-world warm-up (not recorded)', JSON.stringify([await helloRun(1), await helloRun(64)]));
  await sleep(30_000);

  // 10k first; then both stores are emptied and the full 100k file is imported in one go (the
  // import row of the targets), so each import starts from the same state on both servers.
  const sizes: Array<{ label: '10k' | '100k'; from: number; to: number; clearFirst: boolean }> = [
    { label: '10k', from: 0, to: 10_000, clearFirst: false },
    { label: '100k', from: 0, to: 100_000, clearFirst: true },
  ];
  for (const size of sizes) {
    if (size.clearFirst) {
      for (const t of servers) {
        try {
          if (t.name === 'vigil') await vigilCli('decisions', 'delete', '--all');
          else await csInstance!.cscli(['decisions', 'delete', '--all']);
        } catch (e) {
          failures.push(`${t.name} delete --all: ${(e as Error).message}`);
        }
      }
    }
    const csv = join(tmp, `d-${size.label}.csv`);
    writeCsv(csv, size.from, size.to);
    const n = size.to - size.from;
    const hitPath = '/v1/decisions?ip=' + HIT[size.label];
    // import
    const imp: Record<string, number | null> = { vigil: null, crowdsec: null };
    for (const t of servers) {
      try {
        const t0 = performance.now();
        if (t.name === 'vigil') await vigilCli('decisions', 'import', '-i', csv);
        else await csInstance!.cscli(['decisions', 'import', '-i', csv]);
        const ms = performance.now() - t0;
        imp[t.name] = ms / 1000;
        // The decisions are usable once the server answers the hit IP (Vigil syncs CLI writes every 250 ms).
        const tv = performance.now();
        await waitFor(`${t.name} sees ${size.label}`, async () => {
          const r = await get(t.base + hitPath, { 'X-Api-Key': t.key });
          return r.status === 200 && r.body.toString() !== 'null';
        });
        log(`${t.name} import ${n}: ${(ms / 1000).toFixed(2)} s (+${((performance.now() - tv) / 1000).toFixed(2)} s until served)`);
      } catch (e) {
        failures.push(`${t.name} import ${size.label}: ${(e as Error).message}`);
        log(failures.at(-1));
      }
    }
    memStage(`after import ${size.label}`, servers);
    rows.push({
      metric: size.clearFirst ? 'import 100k, emptied store (s)' : 'import 10k (s)',
      vigil: imp.vigil,
      crowdsec: imp.crowdsec,
      unit: 's',
      better: 'lower',
    });

    // ?ip= hit / miss, 1 and 64 connections, alternating servers
    for (const [kind, path] of [
      ['hit', hitPath],
      ['miss', '/v1/decisions?ip=' + MISS_IP],
    ] as const) {
      for (const c of [1, 64]) {
        const res: Record<string, Awaited<ReturnType<typeof cannon>> | null> = { vigil: null, crowdsec: null };
        const helloNow = await helloRun(c);
        for (const t of servers) {
          try {
            res[t.name] = await cannon(t, path, c);
          } catch (e) {
            failures.push(`${t.name} ${size.label} ${kind} c${c}: ${(e as Error).message}`);
          }
        }
        const lbl = `${size.label} ?ip= ${kind} c${c}`;
        log(lbl, JSON.stringify({ ...res, hello: helloNow }));
        for (const [metric, key, unit, better] of CANNON_METRICS) {
          rows.push({ metric: `${lbl} ${metric}`, vigil: res.vigil?.[key] ?? null, crowdsec: res.crowdsec?.[key] ?? null, unit, better, hello: helloNow[key] });
        }
      }
    }
    memStage(`after ?ip= runs ${size.label}`, servers);
  }

  // --- stream startup at 100k: 3 runs, fresh bouncer each, median; then delta ---
  const stream: Record<string, { ms: number; bytes: number; deltaMs: number; deltaBytes: number } | null> = { vigil: null, crowdsec: null };
  for (const t of servers) {
    try {
      const times: number[] = [];
      const sizesB: number[] = [];
      let lastKey = '';
      for (let run = 0; run < 3; run++) {
        const name = `bench-stream-${run}`;
        lastKey = t.name === 'vigil' ? (await vigilCli('bouncers', 'add', name, '-o', 'raw')).stdout.trim() : await csInstance!.addBouncer(name);
        const r = await get(t.base + '/v1/decisions/stream?startup=true', { 'X-Api-Key': lastKey, 'User-Agent': BOUNCER_UA }, false);
        if (r.status !== 200) throw new Error(`stream startup status ${r.status}`);
        times.push(r.ms);
        sizesB.push(r.bytes);
      }
      // Deltas with nothing new, as a bouncer polls: median of 5, a second apart.
      const deltas: Resp[] = [];
      for (let i = 0; i < 5; i++) {
        await sleep(1000);
        deltas.push(await get(t.base + '/v1/decisions/stream', { 'X-Api-Key': lastKey, 'User-Agent': BOUNCER_UA }));
      }
      const d = deltas[0]!;
      const deltaMs = median(deltas.map((x) => x.ms));
      stream[t.name] = { ms: median(times), bytes: median(sizesB), deltaMs, deltaBytes: d.bytes };
      log(
        `${t.name} stream startup 100k: ${times.map((x) => x.toFixed(0)).join('/')} ms, ${sizesB.join('/')} B; deltas ${deltas.map((x) => x.ms.toFixed(1)).join('/')} ms ${d.bytes} B ${d.body.toString().slice(0, 60)}`,
      );
    } catch (e) {
      failures.push(`${t.name} stream: ${(e as Error).message}`);
      log(failures.at(-1));
    }
  }
  memStage('after streams', servers);
  for (const [metric, key, unit] of [
    ['100k stream startup, median of 3 (ms)', 'ms', 'ms'],
    ['100k stream startup bytes', 'bytes', 'B'],
    ['100k stream delta, nothing new, median of 5 (ms)', 'deltaMs', 'ms'],
    ['100k stream delta bytes', 'deltaBytes', 'B'],
  ] as const) {
    rows.push({ metric, vigil: stream.vigil?.[key] ?? null, crowdsec: stream.crowdsec?.[key] ?? null, unit, better: 'lower' });
  }

  // --- peak memory ---
  rows.push({
    metric: 'peak RSS VmHWM (MB)',
    vigil: vmHWM(vigil.pid()),
    crowdsec: crowdsec ? vmHWM(crowdsec.pid()) : null,
    unit: 'MB',
    better: 'lower',
    hello: vmHWM(hello.pid()),
  });

  // --- Vigil restarted with its 100k decisions stored (how a LAPI usually comes up) ---
  // The process above started empty and got its decisions while serving; in that history node's
  // http internals end up slower per request (README "Benchmarks"). A restart is the other common
  // history: measured here against a hello-world run right beside it. Readiness is probed with
  // Connection: close requests, as an orchestrator does.
  await stopServer(vigilProc);
  const restartAt = performance.now();
  vigilProc = spawnVigil();
  await waitFor('restarted vigil /health', async () => (await get(vigil.base + '/health')).status === 200);
  await waitFor('restarted vigil serves 100k', async () => {
    const r = await get(vigil.base + '/v1/decisions?ip=' + HIT['100k'], { 'X-Api-Key': vigil.key, 'User-Agent': BOUNCER_UA });
    return r.status === 200 && r.body.toString() !== 'null';
  });
  const restartS = (performance.now() - restartAt) / 1000;
  rows.push({ metric: 'restart with 100k stored, until the first hit is served (s)', vigil: restartS, crowdsec: null, unit: 's', better: 'lower' });
  for (const [kind, path] of [
    ['hit', '/v1/decisions?ip=' + HIT['100k']],
    ['miss', '/v1/decisions?ip=' + MISS_IP],
  ] as const) {
    const helloNow = await helloRun(64);
    const res = await cannon(vigil, path, 64);
    const lbl = `after restart, 100k ?ip= ${kind} c64`;
    log(lbl, JSON.stringify({ vigil: res, hello: helloNow }));
    rows.push({ metric: `${lbl} req/s`, vigil: res.rps, crowdsec: null, unit: 'req/s', better: 'higher', hello: helloNow.rps });
    rows.push({ metric: `${lbl} server CPU per request (µs)`, vigil: res.cpuUs, crowdsec: null, unit: 'µs', better: 'lower', hello: helloNow.cpuUs });
  }
} catch (e) {
  noteFatal(failures, e);
} finally {
  await stopBench([vigilProc, helloProc], csInstance, tmp, failures);
}

reportLapi(ROOT, { rows, failures, memStages, tStart, durationS: DURATION, warmupS: WARMUP, crowdsec: HAVE_CS });
