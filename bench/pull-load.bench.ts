// Pull-load benchmark (issue 5): 10,000 registered bouncers, each pulling the stream every 10 s,
// i.e. 1,000 pulls/s, against `vigil serve` on SQLite. Reports pull latency (p50/p99/max), the
// rate achieved, errors, and how far each bouncer's recorded last pull is from the moment the
// bouncer actually pulled (target: within a second for all of them).
//
//   npm run bench:pull-load        (env: PULL_BOUNCERS=10000 PULL_EVERY_S=10 PULL_SECONDS=40)
//
// Each bouncer pulls once with ?startup=true (the first round, not measured), then deltas, as
// go-cs-bouncer does; a decision is added every second meanwhile so deltas carry data. Requests go
// over a pool of keep-alive connections (the server cost per pull is what is measured; 10k
// sockets would measure the client). Results: a table on stdout and bench/results/pull-load-*.json.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import http from 'node:http';
import crypto from 'node:crypto';
import { Store } from '../src/store/store.ts';
import { freePort, residentMB, sleep, stopServer, writeResult } from './support.ts';
import { hashApiKey } from '../src/core/bouncers/api-key.ts';
import { buildDecision, manualAlert } from '../src/decisions/new-decisions.ts';
import { createBouncer, listBouncers } from '../src/store/bouncers.ts';
import { addDecisions } from '../src/store/decisions.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const BOUNCERS = Number(process.env.PULL_BOUNCERS ?? 10_000);
const EVERY_MS = Number(process.env.PULL_EVERY_S ?? 10) * 1000;
const SECONDS = Number(process.env.PULL_SECONDS ?? 40);
const SOCKETS = Number(process.env.PULL_SOCKETS ?? 128);
const log = (...a: unknown[]) => console.error('[pull-load]', ...a);
const vm = residentMB;

const tmp = mkdtempSync(join(tmpdir(), 'vigil-pull-'));
const dbUrl = `sqlite:${join(tmp, 'vigil.db')}`;
let server: ChildProcess | undefined;
const out: Record<string, unknown> = { at: new Date().toISOString(), bouncers: BOUNCERS, everyMs: EVERY_MS, seconds: SECONDS, sockets: SOCKETS };

try {
  // --- registry and a small decision set, written before the server starts ---
  const store = await Store.open(dbUrl);
  const keys: string[] = [];
  const t0 = performance.now();
  for (let i = 0; i < BOUNCERS; i++) {
    const key = crypto.randomBytes(16).toString('hex');
    keys.push(key);
    await createBouncer(store, { name: `rc-${i}`, apiKeyHash: hashApiKey(key), now: Date.now() });
  }
  log(`registered ${BOUNCERS} bouncers in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const addBenchDecisions = async (n: number, from: number) => {
    const now = Date.now();
    const ds = Array.from({ length: n }, (_, i) =>
      buildDecision(
        { scope: 'Ip', value: `10.9.${((from + i) >> 8) & 255}.${(from + i) & 255}`, type: 'ban', duration: '4h', reason: 'pull-load', origin: 'cscli' },
        now,
      ),
    );
    await addDecisions(store, manualAlert({ now, scenario: 'pull-load', scope: 'Ip', value: ds[0]!.value, count: n, machineId: 'bench' }), ds);
  };
  await addBenchDecisions(100, 0);

  // --- the server, launched the way an operator runs it ---
  const port = await freePort();
  const logFd = openSync(join(tmp, 'vigil.log'), 'a');
  server = spawn(join(ROOT, 'bin/vigil.js'), ['serve'], {
    cwd: ROOT,
    env: {
      ...process.env,
      PATH: `${join(ROOT, 'node_modules/.bin')}:${process.env.PATH}`,
      VIGIL_DB: dbUrl,
      VIGIL_LISTEN: `127.0.0.1:${port}`,
      VIGIL_METRICS_LISTEN: 'off',
      VIGIL_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', logFd, logFd],
  });
  const base = `http://127.0.0.1:${port}`;
  const agent = new http.Agent({ keepAlive: true, maxSockets: SOCKETS });
  const pull = (i: number, startup: boolean): Promise<{ ms: number; status: number; sentAt: number }> =>
    new Promise((resolve) => {
      const sentAt = Date.now();
      const t = performance.now();
      const req = http.get(
        `${base}/v1/decisions/stream${startup ? '?startup=true' : ''}`,
        { agent, headers: { 'X-Api-Key': keys[i]!, 'User-Agent': 'crowdsec-firewall-bouncer/v0.0.25' } },
        (res) => {
          res.resume();
          res.on('end', () => resolve({ ms: performance.now() - t, status: res.statusCode ?? 0, sentAt }));
        },
      );
      req.on('error', () => resolve({ ms: performance.now() - t, status: 0, sentAt }));
    });
  for (let i = 0; i < 100; i++) {
    try {
      if ((await pull(0, true)).status === 200) break;
    } catch {
      /* not up yet */
    }
    await sleep(100);
  }
  log(`vigil serve pid ${server.pid} on ${base}`);

  // --- the load: bouncer i pulls at phase i*EVERY/BOUNCERS, every EVERY_MS ---
  const lastSent = new Array<number>(BOUNCERS).fill(0);
  const pulled = new Array<boolean>(BOUNCERS).fill(false);
  const latencies: number[] = [];
  let errors = 0;
  let sent = 0;
  let inflight = 0;
  let maxInflight = 0;
  const start = Date.now();
  const endAt = start + SECONDS * 1000;
  const measureFrom = start + EVERY_MS; // the first round is every bouncer's startup pull
  let next = 0; // next pull index, in global order: bouncer (k % BOUNCERS), round floor(k / BOUNCERS)
  const pending: Promise<void>[] = [];
  let decisionsAdded = 100;
  const adder = setInterval(() => {
    addBenchDecisions(1, decisionsAdded++).catch((e) => log('adding a decision failed', e));
  }, 1000);
  while (Date.now() < endAt) {
    const due = Math.floor(((Date.now() - start) * BOUNCERS) / EVERY_MS);
    for (; next <= due; next++) {
      const i = next % BOUNCERS;
      const startup = !pulled[i];
      pulled[i] = true;
      sent++;
      inflight++;
      maxInflight = Math.max(maxInflight, inflight);
      pending.push(
        pull(i, startup).then((r) => {
          inflight--;
          if (r.status !== 200) errors++;
          else lastSent[i] = Math.max(lastSent[i]!, r.sentAt);
          if (r.sentAt >= measureFrom) latencies.push(r.ms);
        }),
      );
    }
    if (pending.length > 5000) await Promise.all(pending.splice(0, pending.length));
    await sleep(5);
  }
  clearInterval(adder);
  await Promise.all(pending);
  const elapsed = (Date.now() - start) / 1000;
  // The server writes last pulls every activity_flush_every (1 s): wait two periods.
  await sleep(2500);
  const rows = await listBouncers(store);
  let maxErr = 0;
  let over1s = 0;
  let missing = 0;
  const byName = new Map(rows.map((b) => [b.name, b]));
  for (let i = 0; i < BOUNCERS; i++) {
    if (!lastSent[i]) continue;
    const b = byName.get(`rc-${i}`);
    if (!b || b.lastPullAt === null) {
      missing++;
      continue;
    }
    const err = Math.abs(b.lastPullAt - lastSent[i]!);
    maxErr = Math.max(maxErr, err);
    if (err > 1000) over1s++;
  }
  await store.close();
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
  Object.assign(out, {
    pullsSent: sent,
    pullsPerSecond: sent / elapsed,
    measured: latencies.length,
    p50Ms: q(0.5),
    p99Ms: q(0.99),
    maxMs: latencies.at(-1),
    errors,
    maxInflight,
    lastPullMaxErrorMs: maxErr,
    lastPullsOver1s: over1s,
    lastPullsMissing: missing,
    serverPeakRssMB: vm(server.pid, 'VmHWM'),
  });
  const pass = q(0.99) < 50 && over1s === 0 && missing === 0 && errors === 0;
  console.log('');
  console.log(`| pull load: ${BOUNCERS} bouncers, one stream pull each every ${EVERY_MS / 1000} s, ${SECONDS} s, SQLite | value | target |`);
  console.log('|---|---|---|');
  console.log(`| pulls/s achieved | ${(sent / elapsed).toFixed(0)} | ${(BOUNCERS / (EVERY_MS / 1000)).toFixed(0)} |`);
  console.log(
    `| pull latency p50 / p99 / max (ms), after the startup round | ${q(0.5).toFixed(2)} / ${q(0.99).toFixed(2)} / ${(latencies.at(-1) ?? NaN).toFixed(1)} | p99 < 50 |`,
  );
  console.log(`| errors (non-200 or connection) | ${errors} | 0 |`);
  console.log(`| last pull recorded vs sent: max error (ms) | ${maxErr} | ≤ 1000 |`);
  console.log(`| bouncers whose last pull is off by > 1 s, or missing | ${over1s}, ${missing} | 0, 0 |`);
  console.log(`| server peak RSS (MB) | ${(out.serverPeakRssMB as number | null)?.toFixed(0) ?? '–'} | |`);
  console.log(`\n${pass ? 'PASS' : 'MISS'}: p99 < 50 ms and every last pull within a second`);
} catch (e) {
  log('fatal', e);
  process.exitCode = 1;
} finally {
  await stopServer(server);
  rmSync(tmp, { recursive: true, force: true });
}
writeResult(ROOT, 'pull-load', out);
process.exit(process.exitCode ?? 0);
