/**
 * Time to know, as a matrix: each row is a path an operator walks, run with real programs and
 * default health settings (Debian's crowdsec-custom-bouncer at its shipped 10 s, the real CrowdSec
 * 1.4.6 agent and Local API, the real @crowdsec/nodejs-bouncer in live mode), measured in wall-clock
 * time from the fault to the page a real webhook receiver gets. Failure rows must page within their
 * goal (stream 90 s, agents 3 min, fail-open Critical 2 min, live 15 min, CrowdSec LAPI down 60 s);
 * no-fault rows must page nothing.
 *
 * Run: npm run bench:time-to-know [-- --rows a,b] [--concurrency 4] [--down 10m] [--live-learn 5m] [--usage-every 5m]
 *   rows: fresh, restart, outage, wrongkey, probes, agent, reload, watch, watch-agent, live-wrongkey,
 *         live-traffic, live-usage (default: all). Rows run side by side, each with its own processes,
 *         store and ports; the longest (outage, probes, watch, live-*) take 12–35 min.
 * Writes bench/results/time-to-know-<time>.json and prints a table.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { crowdsecBouncersAvailable } from '../test/support/crowdsec-bouncers.ts';
import { crowdsecAvailable } from '../test/support/crowdsec-instance.ts';
import { parseDuration } from '../src/lib/duration.ts';
import { writeResult } from './support.ts';
import { ROOT, type Row } from './time-to-know/harness.ts';
import { liveStoppedWithTraffic, liveStoppedWithUsageMetrics, liveWrongKey, type LiveOptions } from './time-to-know/live-rows.ts';
import {
  agentStoppedServe,
  freshServeKilled,
  probesOnDeadBouncer,
  reloadNewChannel,
  restartedServeKilled,
  type RowContext,
  serveDownThenBack,
  wrongKeyStream,
} from './time-to-know/serve-rows.ts';
import { agentStoppedWatch, watchHealthyThenLapiDown } from './time-to-know/watch-rows.ts';

const args = process.argv.slice(2);
const flag = (name: string, fallback: string) => (args.includes(name) ? args[args.indexOf(name) + 1]! : fallback);
const live: LiveOptions = { learnMs: parseDuration(flag('--live-learn', '5m')), usageEveryMs: parseDuration(flag('--usage-every', '5m')) };
const downMs = parseDuration(flag('--down', '10m'));

const ROWS: Record<string, { needs: 'bouncers' | 'crowdsec' | 'npm'; run: (ctx: RowContext) => Promise<Row[]> }> = {
  fresh: { needs: 'bouncers', run: freshServeKilled },
  restart: { needs: 'bouncers', run: restartedServeKilled },
  outage: { needs: 'bouncers', run: serveDownThenBack },
  wrongkey: { needs: 'bouncers', run: wrongKeyStream },
  probes: { needs: 'bouncers', run: probesOnDeadBouncer },
  agent: { needs: 'crowdsec', run: agentStoppedServe },
  reload: { needs: 'bouncers', run: reloadNewChannel },
  watch: { needs: 'crowdsec', run: (ctx) => watchHealthyThenLapiDown(ctx) },
  'watch-agent': { needs: 'crowdsec', run: agentStoppedWatch },
  'live-wrongkey': { needs: 'npm', run: liveWrongKey },
  'live-traffic': { needs: 'npm', run: (ctx) => liveStoppedWithTraffic(ctx, live) },
  'live-usage': { needs: 'npm', run: (ctx) => liveStoppedWithUsageMetrics(ctx, live) },
};

const chosen = flag('--rows', Object.keys(ROWS).join(',')).split(',');
for (const r of chosen) if (!ROWS[r]) throw new Error(`--rows ${r}: use ${Object.keys(ROWS).join(', ')}`);
const concurrency = Number(flag('--concurrency', '4'));
if (!crowdsecBouncersAvailable().custom) throw new Error('crowdsec-custom-bouncer is needed: run scripts/install-crowdsec-bouncers.sh');
if (chosen.some((r) => ROWS[r]!.needs === 'crowdsec') && !crowdsecAvailable().available) throw new Error('CrowdSec is needed: run scripts/install-crowdsec.sh');

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-time-to-know-'));
const started = Date.now();
const results: Array<{ name: string; rows: Row[]; error?: string; minutes: number }> = [];

async function runRow(name: string): Promise<void> {
  const ctx: RowContext = { dir: path.join(work, name), cleanup: [], downMs };
  fs.mkdirSync(ctx.dir, { recursive: true });
  const t0 = Date.now();
  console.log(`[${new Date().toISOString().slice(11, 19)}] ${name}: started`);
  try {
    const rows = await ROWS[name]!.run(ctx);
    results.push({ name, rows, minutes: (Date.now() - t0) / 60_000 });
  } catch (e) {
    results.push({ name, rows: [], error: (e as Error).message.split('\n')[0], minutes: (Date.now() - t0) / 60_000 });
    console.log(`${name}: ${(e as Error).message.slice(0, 2000)}`);
  } finally {
    for (const c of ctx.cleanup.reverse())
      await Promise.resolve()
        .then(c)
        .catch(() => {});
  }
  console.log(`[${new Date().toISOString().slice(11, 19)}] ${name}: done in ${((Date.now() - t0) / 60_000).toFixed(1)} min`);
}

// Rows take turns in `concurrency` lanes; the long ones first so the run ends sooner.
const LONG = ['live-traffic', 'live-usage', 'probes', 'outage', 'watch', 'agent', 'watch-agent'];
const queue = [...chosen].sort((a, b) => (LONG.includes(b) ? 1 : 0) - (LONG.includes(a) ? 1 : 0));
await Promise.all(
  Array.from({ length: Math.min(concurrency, queue.length) }, async () => {
    for (let name = queue.shift(); name; name = queue.shift()) await runRow(name);
  }),
);

const table = results
  .sort((a, b) => chosen.indexOf(a.name) - chosen.indexOf(b.name))
  .flatMap((r) =>
    r.error
      ? [`| ${r.name} | – | – | – | error: ${r.error} | FAIL |`]
      : r.rows.map(
          (row) =>
            `| ${row.row} | ${row.expect} | ${row.seconds === null ? '–' : row.seconds.toFixed(1)} | ${row.expect === 'page' ? `≤ ${row.goalS}` : `${row.goalS} watched`} | ${row.what} | ${row.pass ? 'pass' : 'FAIL'} |`,
        ),
  );
console.log(`\ntime to know, ${chosen.length} row groups, ${((Date.now() - started) / 60_000).toFixed(1)} min, node ${process.version}`);
console.log('| row | expect | seconds | goal (s) | what was paged | verdict |');
console.log('|---|---|---:|---|---|---|');
for (const line of table) console.log(line);
writeResult(ROOT, 'time-to-know', { bench: 'time-to-know', at: new Date().toISOString(), node: process.version, downMs, live, results });
if (process.env.BENCH_KEEP) console.log(`kept ${work}`);
else fs.rmSync(work, { recursive: true, force: true });
