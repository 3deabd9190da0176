// Alerts under load: `vigil serve` on SQLite taking 1,000 alerts/s from agents (JWT, the real
// CrowdSec 1.4.6 agent's ssh-bf alert body from test/fixtures/crowdsec-1.4.6/agent-alerts-post.json,
// each with its own source address so the default profile makes one ban per alert) while serving
// 1,000 bouncer pulls/s (50 stream bouncers, the rest live `GET /v1/decisions?ip=`). Reports what was
// achieved, pull latency p50/p99/max (target p99 < 50 ms), alert push latency, errors, the
// decisions made, and the server's CPU and peak memory.
//
//   npm run bench:alerts     (env: ALERTS_PER_S=1000 ALERTS_PER_POST=10 AGENTS=10
//                             PULLS_PER_S=1000 PULL_EVERY_S=10 STREAM_BOUNCERS=50 SECONDS=30
//                             STREAM_TOGETHER=0)
//   diagnostics: BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR" (profile the server), BENCH_KEEP=1
//   (keep its database and log), BENCH_LOG_LEVEL=debug (its log says each event-loop stall over 20 ms,
//   with the monotonic time a --cpu-prof profile uses), SLOW_OUT=FILE (the slow requests, with monotonic times)
//   HEAVY_WATCHERS=1: issue 27's heavy watcher requests fired once mid-run (bench/heavy-watchers.ts);
//   the pulls sent while they ran get a row of their own
//
// PULLS_PER_S × PULL_EVERY_S bouncers are registered (10,000 by default), STREAM_BOUNCERS (50) of
// them in stream mode (firewall bouncers), the others live (web-server bouncers asking about each
// client); each pulls once every PULL_EVERY_S at its own phase, as bench/pull-load.bench.ts does
// (the stream ones spread over the fleet; STREAM_TOGETHER=1: all within the same 50 ms, the worst case).
// Stream bouncers make their startup pull before the load (they were running when the attack
// began). Every new decision then has to reach every stream bouncer: ALERTS_PER_S × STREAM_BOUNCERS
// decisions/s leave the server in deltas (50,000/s by default), which is what makes a big stream
// fleet heavy under an attack this size (STREAM_BOUNCERS=0: the write path against live pulls only).
//
// The agent in 1.4.6 pushes the alerts of one overflow burst in one POST (agent-session.json: two
// alerts, one request); ALERTS_PER_POST=1 measures one request per alert. Requests go over pools
// of keep-alive connections. Results: a table on stdout and bench/results/alerts-load-*.json.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { alertAddress } from '../test/support/heavy-alerts.ts';
import { alertFor } from './alerts-load/agent-alert.ts';
import { cpuSeconds, cpuStallUs } from './alerts-load/cpu.ts';
import { keepAliveClient } from './alerts-load/keep-alive-client.ts';
import { registerFleet } from './alerts-load/register.ts';
import { type AlertsLoadResults, printAlertsLoadTable, q } from './alerts-load/report.ts';
import { fireHeavyWatchers, HEAVY_MACHINES, heavyBodies } from './heavy-watchers.ts';
import {
  freePort,
  loopHistograms,
  residentMB,
  sleep,
  spawnVigilServe,
  stopServer,
  ticksOver,
  vigilEnv,
  waitFor,
  writeResult,
  type LoopHistograms,
} from './support.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const ALERTS_PER_S = Number(process.env.ALERTS_PER_S ?? 1000);
const ALERTS_PER_POST = Math.max(1, Number(process.env.ALERTS_PER_POST ?? 10));
const AGENTS = Number(process.env.AGENTS ?? 10);
const PULLS_PER_S = Number(process.env.PULLS_PER_S ?? 1000);
/** Each bouncer pulls once every PULL_EVERY_S (go-cs-bouncer's default update_frequency is 10 s). */
const PULL_EVERY_S = Number(process.env.PULL_EVERY_S ?? 10);
const BOUNCERS = Math.max(1, Math.round(PULLS_PER_S * PULL_EVERY_S));
/** How many of them run in stream mode (the others query live, `GET /v1/decisions?ip=`). */
const STREAM_BOUNCERS = Math.min(BOUNCERS, Math.max(0, Number(process.env.STREAM_BOUNCERS ?? 50)));
/** A request not answered in this long counts as an error (and the run ends). */
const REQUEST_TIMEOUT_MS = 10_000;
const SECONDS = Number(process.env.SECONDS ?? 30);
/** Not measured: the first seconds (every stream bouncer's startup pull is never measured). */
const WARMUP_S = 3;
const SOCKETS = Number(process.env.SOCKETS ?? 64);
const HEAVY = process.env.HEAVY_WATCHERS === '1';
const AGENT_UA = 'crowdsec/v1.4.6-6~deb12u1+b1-linux-debian';
/**
 * SLOW_OUT=FILE: every request slower than 30 ms, one line each: monotonic send and end times (ns,
 * the clock a server's --cpu-prof uses, so they can be matched with what it was doing), ms, method,
 * path and when the response headers came.
 */
const SLOW_OUT = process.env.SLOW_OUT;
const slowLog: string[] = [];
const log = (...a: unknown[]) => console.error('[alerts-load]', ...a);

const tmp = mkdtempSync(join(tmpdir(), 'vigil-alerts-load-'));
const dbUrl = `sqlite:${join(tmp, 'vigil.db')}`;
let server: ChildProcess | undefined;
const out: Record<string, unknown> = {
  at: new Date().toISOString(),
  db: 'sqlite',
  alertsPerSecondTarget: ALERTS_PER_S,
  alertsPerPost: ALERTS_PER_POST,
  agents: AGENTS,
  pullsPerSecondTarget: PULLS_PER_S,
  pullEverySeconds: PULL_EVERY_S,
  streamBouncers: STREAM_BOUNCERS,
  bouncers: BOUNCERS,
  seconds: SECONDS,
};

try {
  // --- machines (bcrypt, as `vigil machines add`) and bouncers, written before the server starts ---
  const agentIds = Array.from({ length: AGENTS }, (_, i) => `agent-${i}`);
  const { password, keys } = await registerFleet(dbUrl, [...agentIds, ...(HEAVY ? HEAVY_MACHINES : [])], BOUNCERS);
  log(`registered ${AGENTS} machines and ${BOUNCERS} bouncers`);

  // --- the server, launched the way an operator runs it ---
  const port = await freePort();
  // The server's own event-loop probe (vigil_event_loop_*), read around the heavy requests.
  const metricsUrl = `http://127.0.0.1:${await freePort()}/metrics`;
  server = spawnVigilServe(
    ROOT,
    vigilEnv(dbUrl, port, { VIGIL_METRICS_LISTEN: new URL(metricsUrl).host, VIGIL_LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn' }),
    join(tmp, 'vigil.log'),
  );
  const base = `http://127.0.0.1:${port}`;
  const pullAgent = new http.Agent({ keepAlive: true, maxSockets: SOCKETS });
  const pushAgent = new http.Agent({ keepAlive: true, maxSockets: Math.max(AGENTS, 16) });

  const request = keepAliveClient(base, REQUEST_TIMEOUT_MS, SLOW_OUT ? slowLog : undefined);

  await waitFor('vigil serve /health', async () => (await request(pullAgent, 'GET', '/health', {})).status === 200, 20_000);
  log(`vigil serve pid ${server.pid} on ${base}`);

  // --- agents log in as the real agent does ---
  const tokens: string[] = [];
  for (let i = 0; i < AGENTS; i++) {
    const body = JSON.stringify({ machine_id: `agent-${i}`, password, scenarios: ['crowdsecurity/ssh-bf', 'crowdsecurity/ssh-slow-bf'] });
    const r = await request(pushAgent, 'POST', '/v1/watchers/login', { 'Content-Type': 'application/json', 'User-Agent': AGENT_UA }, body);
    if (r.status !== 200) throw new Error(`login agent-${i}: ${r.status} ${r.body}`);
    tokens.push((JSON.parse(r.body) as { token: string }).token);
  }
  const heavyTokens: string[] = [];
  for (const m of HEAVY ? HEAVY_MACHINES : []) {
    const body = JSON.stringify({ machine_id: m, password, scenarios: [] });
    const r = await request(pushAgent, 'POST', '/v1/watchers/login', { 'Content-Type': 'application/json', 'User-Agent': AGENT_UA }, body);
    if (r.status !== 200) throw new Error(`login ${m}: ${r.status} ${r.body}`);
    heavyTokens.push((JSON.parse(r.body) as { token: string }).token);
  }
  const bodies = HEAVY ? heavyBodies() : undefined;
  const streamBouncers = STREAM_BOUNCERS;
  // Bouncer i pulls at phase i ms: the stream bouncers are spread over the fleet (every stride-th),
  // each at its own phase as firewall bouncers started at different times are. STREAM_TOGETHER=1
  // makes them the first ones, all pulling within the same 50 ms (the worst case).
  const stride = process.env.STREAM_TOGETHER === '1' || streamBouncers === 0 ? 1 : Math.floor(BOUNCERS / streamBouncers);
  const isStream = (i: number) => i % stride === 0 && i / stride < streamBouncers;
  for (let i = 0; i < streamBouncers; i += 100) {
    await Promise.all(
      Array.from({ length: Math.min(100, streamBouncers - i) }, (_, j) =>
        request(
          pullAgent,
          'GET',
          '/v1/decisions/stream?startup=true',
          { 'X-Api-Key': keys[(i + j) * stride]!, 'User-Agent': 'crowdsec-firewall-bouncer/v0.0.25' },
          undefined,
          false,
        ),
      ),
    );
  }
  log('agents logged in; load begins');

  // --- the load ---
  const pullLat: number[] = [];
  const streamLat: number[] = [];
  const liveLat: number[] = [];
  const pushLat: number[] = [];
  /** HEAVY_WATCHERS: pulls sent while the heavy requests ran, and how each of those ended. */
  const heavyLat: number[] = [];
  type HeavyRun = { from: number; to: number; results: string[]; loop?: [LoopHistograms | undefined, LoopHistograms | undefined] };
  let heavy: HeavyRun | undefined;
  let pullErrors = 0;
  let pushErrors = 0;
  let pullsSent = 0;
  let pullBytes = 0;
  let postsSent = 0;
  let alertsSent = 0;
  let alertsAccepted = 0;
  let alertCounter = 1;
  let firstPushError = '';
  const pending = new Set<Promise<void>>();
  const track = (p: Promise<void>) => {
    pending.add(p);
    void p.finally(() => pending.delete(p));
  };
  // The load generator's own event-loop delay: a response it reads late counts as a slow pull.
  const clientLag = monitorEventLoopDelay({ resolution: 1 });
  const start = Date.now();
  const measureFrom = start + WARMUP_S * 1000;
  const endAt = start + SECONDS * 1000;
  const cpu0 = cpuSeconds(server.pid);
  let cpuAtMeasure: number | null = null;
  let clientCpuAtMeasure = process.cpuUsage();
  let stallAtMeasure = cpuStallUs();
  let measuredAt = 0;
  let nextPull = 0;
  let nextPost = 0;
  const postsPerS = ALERTS_PER_S / ALERTS_PER_POST;
  while (Date.now() < endAt) {
    const elapsed = Date.now() - start;
    if (cpuAtMeasure === null && Date.now() >= measureFrom) {
      cpuAtMeasure = cpuSeconds(server.pid);
      clientCpuAtMeasure = process.cpuUsage();
      stallAtMeasure = cpuStallUs();
      measuredAt = Date.now();
      clientLag.enable();
    }
    if (HEAVY && !heavy && elapsed >= (SECONDS * 1000) / 3) {
      const fired: HeavyRun = { from: Date.now(), to: Number.POSITIVE_INFINITY, results: [] };
      heavy = fired;
      track(
        (async () => {
          const before = await loopHistograms(metricsUrl);
          fired.results = await fireHeavyWatchers(base, heavyTokens, bodies!);
          fired.to = Date.now();
          fired.loop = [before, await loopHistograms(metricsUrl)];
        })(),
      );
    }
    // Pull k is bouncer (k % BOUNCERS)'s pull in round floor(k / BOUNCERS).
    const pullsDue = Math.floor((elapsed * BOUNCERS) / (PULL_EVERY_S * 1000));
    for (; nextPull < pullsDue; nextPull++) {
      const k = nextPull;
      const bouncer = k % BOUNCERS;
      const live = !isStream(bouncer);
      const path = live ? `/v1/decisions?ip=${alertAddress(k)}` : '/v1/decisions/stream';
      const sentAt = Date.now();
      pullsSent++;
      track(
        request(
          pullAgent,
          'GET',
          path,
          { 'X-Api-Key': keys[bouncer]!, 'User-Agent': live ? 'nodejs-cs-bouncer/v0.2.0' : 'crowdsec-firewall-bouncer/v0.0.25' },
          undefined,
          false,
        ).then((r) => {
          if (r.status !== 200) pullErrors++;
          pullBytes += r.bytes;
          if (sentAt >= measureFrom) {
            pullLat.push(r.ms);
            (live ? liveLat : streamLat).push(r.ms);
          }
          if (heavy && sentAt >= heavy.from && sentAt <= heavy.to) heavyLat.push(r.ms);
        }),
      );
    }
    const postsDue = Math.floor((elapsed * postsPerS) / 1000);
    for (; nextPost < postsDue; nextPost++) {
      const now = new Date();
      const items: string[] = [];
      for (let j = 0; j < ALERTS_PER_POST; j++) items.push(alertFor(alertCounter++, now));
      const body = `[${items.join(',')}]`;
      const sentAt = Date.now();
      postsSent++;
      alertsSent += ALERTS_PER_POST;
      track(
        request(
          pushAgent,
          'POST',
          '/v1/alerts',
          { Authorization: `Bearer ${tokens[nextPost % AGENTS]}`, 'Content-Type': 'application/json', 'User-Agent': AGENT_UA },
          body,
        ).then((r) => {
          if (r.status !== 201) {
            pushErrors++;
            firstPushError ||= `${r.status} ${r.body.slice(0, 300)}`;
          } else alertsAccepted += (JSON.parse(r.body) as unknown[]).length;
          if (sentAt >= measureFrom) pushLat.push(r.ms);
        }),
      );
    }
    await sleep(2);
  }
  clientLag.disable();
  const cpuEnd = cpuSeconds(server.pid);
  const clientCpu = process.cpuUsage(clientCpuAtMeasure);
  const stallEnd = cpuStallUs();
  const measuredS = (Date.now() - measuredAt) / 1000;
  await Promise.all([...pending]);
  const totalS = (Date.now() - start) / 1000;

  // Decisions made: every accepted alert's address is in the stream of a fresh bouncer.
  const startup = await request(pullAgent, 'GET', '/v1/decisions/stream?startup=true', { 'X-Api-Key': keys[BOUNCERS - 1]!, 'User-Agent': 'bench-check/v0' });
  const decisionsActive = ((JSON.parse(startup.body) as { new: unknown[] | null }).new ?? []).length;

  for (const xs of [pullLat, streamLat, liveLat, pushLat, heavyLat]) xs.sort((a, b) => a - b);
  const [loopBefore, loopAfter] = heavy?.loop ?? [];
  const BOUNDS = [0.02, 0.05, 0.1];
  const heavyLoop =
    loopBefore && loopAfter
      ? { busy: ticksOver(loopBefore.busy, loopAfter.busy, BOUNDS), delay: ticksOver(loopBefore.delay, loopAfter.delay, BOUNDS) }
      : undefined;
  const cpuPct = cpuAtMeasure !== null && cpuEnd !== null ? (100 * (cpuEnd - cpuAtMeasure)) / measuredS : null;
  const results: AlertsLoadResults = {
    pullsSent,
    pullsPerSecond: pullsSent / totalS,
    pullMBPerSecond: pullBytes / totalS / 1e6,
    postsSent,
    alertsSent,
    alertsAccepted,
    alertsPerSecond: alertsSent / totalS,
    decisionsActive,
    pullP50Ms: q(pullLat, 0.5),
    pullP99Ms: q(pullLat, 0.99),
    pullMaxMs: pullLat.at(-1),
    streamP99Ms: q(streamLat, 0.99),
    liveP99Ms: q(liveLat, 0.99),
    pushP50Ms: q(pushLat, 0.5),
    pushP99Ms: q(pushLat, 0.99),
    pushMaxMs: pushLat.at(-1),
    pullErrors,
    pushErrors,
    firstPushError: firstPushError || undefined,
    serverCpuPercentOfOneCore: cpuPct,
    serverCpuSecondsTotal: cpuEnd !== null && cpu0 !== null ? cpuEnd - cpu0 : null,
    serverPeakRssMB: residentMB(server.pid, 'VmHWM'),
    machineCpuStallPercent: stallEnd !== null && stallAtMeasure !== null ? (100 * (stallEnd - stallAtMeasure)) / 1e6 / measuredS : null,
    loadGeneratorLagP99Ms: clientLag.percentile(99) / 1e6,
    loadGeneratorLagMaxMs: clientLag.max / 1e6,
    loadGeneratorCpuPercentOfOneCore: (100 * (clientCpu.user + clientCpu.system)) / 1e6 / measuredS,
    heavyWatchers: heavy
      ? {
          pulls: heavyLat.length,
          p50Ms: q(heavyLat, 0.5),
          p99Ms: q(heavyLat, 0.99),
          maxMs: heavyLat.at(-1),
          results: heavy.results,
          // In the server, meanwhile: 10 ms ticks whose main-thread CPU (busy) or lateness (delay) passed each bound.
          serverLoopBusy: heavyLoop?.busy,
          serverLoopDelay: heavyLoop?.delay,
        }
      : undefined,
  };
  Object.assign(out, results);
  printAlertsLoadTable(
    {
      alertsPerS: ALERTS_PER_S,
      alertsPerPost: ALERTS_PER_POST,
      agents: AGENTS,
      pullsPerS: PULLS_PER_S,
      bouncers: BOUNCERS,
      pullEveryS: PULL_EVERY_S,
      streamBouncers: STREAM_BOUNCERS,
      seconds: SECONDS,
    },
    results,
  );
} catch (e) {
  log('fatal', e);
  process.exitCode = 1;
} finally {
  await stopServer(server);
  // BENCH_KEEP=1 keeps the database and the server's log (e.g. with BENCH_NODE_ARGS=--trace-gc).
  if (process.env.BENCH_KEEP === '1') log(`kept ${tmp}`);
  else rmSync(tmp, { recursive: true, force: true });
}
if (SLOW_OUT) writeFileSync(SLOW_OUT, `${slowLog.join('\n')}\n`);
writeResult(ROOT, 'alerts-load', out);
process.exit(process.exitCode ?? 0);
