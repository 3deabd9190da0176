/**
 * Time to know: how long after a stream bouncer dies does a person know, in real wall-clock time.
 * A real crowdsec-custom-bouncer (Debian's) pulls every 10 s (the shipped update_frequency) from
 * the real `vigil` binary; it is killed (SIGKILL), then started with a stale key, then with its
 * key again. Measured, as a new user sees it:
 *   - the first status change in `vigil bouncers list` (healthy → late);
 *   - the first issue, as a webhook receiver gets it, and whether its likely cause is right;
 *   - the cause changing to "authentication" once the stale key is refused (an `updated` message);
 *   - the escalation to Critical (RC Integration Offline, the same issue, an `updated` message);
 *   - the resolution after the bouncer runs again with its key.
 *
 * Run: npm run bench:time-to-know [-- --target serve|watch] [--defaults]
 *   --target serve (default): `vigil serve`, its own Local API, default health settings apart from
 *     the port, and (unless --defaults) the escalation brought to 2 min (`offline_after_factor: 12`,
 *     `offline_after_min: 2m`) so a run takes about 4 min; --defaults keeps the 10 min (about 12 min).
 *   --target watch: `vigil watch --crowdsec-config` beside a real CrowdSec Local API (Debian's 1.4.6,
 *     logging to crowdsec_api.log, Prometheus on), the bouncer pulling from CrowdSec: watch learns
 *     its pulls from CrowdSec's database and access log, every `watch.poll_every` (30 s).
 * Writes bench/results/time-to-know-<target>-<time>.json and prints a table.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { crowdsecBouncersAvailable, startCustomBouncer, type CustomBouncerHandle } from '../test/support/crowdsec-bouncers.ts';
import { crowdsecAvailable, startCrowdsec, type CrowdsecInstance } from '../test/support/crowdsec-instance.ts';
import { freePort, sleep } from './support.ts';

const exec = promisify(execFile);
const ROOT = path.join(import.meta.dirname, '..');
const BIN = path.join(ROOT, 'bin/vigil.js');
const args = process.argv.slice(2);
const target = (args.includes('--target') ? args[args.indexOf('--target') + 1] : 'serve') as 'serve' | 'watch';
if (target !== 'serve' && target !== 'watch') throw new Error(`--target ${target}: use serve or watch`);
const defaults = args.includes('--defaults');
const UPDATE_FREQUENCY = '10s';
const STALE_KEY = 'stale-key-0000000000000000000000000';

interface Hook {
  at: number;
  event: string;
  issues: Array<{ id: number; kind: string; criticality: string; bouncer: string | null; likelyCause: { cause: string } | null }>;
}

const avail = crowdsecBouncersAvailable();
if (!avail.custom) throw new Error(`crowdsec-custom-bouncer is needed: ${avail.reason}`);
if (target === 'watch' && !crowdsecAvailable().available) throw new Error(`CrowdSec is needed for --target watch: ${crowdsecAvailable().reason}`);

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-time-to-know-'));
const children: ChildProcess[] = [];
const bouncers: CustomBouncerHandle[] = [];
let crowdsec: CrowdsecInstance | undefined;

// A webhook receiver: what a person's pager would get, and when.
const received: Hook[] = [];
const receiver = http.createServer((req, res) => {
  let body = '';
  req.on('data', (d) => (body += d));
  req.on('end', () => {
    received.push({ at: Date.now(), ...JSON.parse(body) });
    res.writeHead(200).end();
  });
});
await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
const hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;

let log = '';
function run(cmd: string, cwd: string): ChildProcess {
  const child = spawn(process.execPath, [BIN, cmd], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d) => (log += d));
  child.stderr!.on('data', (d) => (log += d));
  children.push(child);
  return child;
}
const vigil = async (...a: string[]) => (await exec(process.execPath, [BIN, ...a], { cwd: work })).stdout;

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number, everyMs = 500): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) {
      console.log(`  (no ${what} within ${Math.round(timeoutMs / 1000)} s)`);
      return undefined;
    }
    await sleep(everyMs);
  }
}

const health = defaults ? [] : ['  offline_after_factor: 12', '  offline_after_min: 2m'];
const notify = ['notifications:', '  channels:', '    pager:', '      type: webhook', `      url: ${hookUrl}`];
let apiUrl: string;
let key: string | undefined;
let addBouncer: () => Promise<string>;
try {
  if (target === 'serve') {
    const port = await freePort();
    apiUrl = `http://127.0.0.1:${port}/`;
    fs.writeFileSync(
      path.join(work, 'vigil.yaml'),
      [`listen: 127.0.0.1:${port}`, 'db: sqlite:./data/vigil.db', ...(health.length ? ['health:', ...health] : []), ...notify, ''].join('\n'),
    );
    run('serve', work);
    await until('vigil serve', async () => ((await fetch(`${apiUrl}health`).catch(() => undefined))?.ok ? true : undefined), 30_000, 200);
    addBouncer = async () => (await vigil('bouncers', 'add', 'bench', '-o', 'raw')).trim();
  } else {
    // As Debian installs it: the Local API logs to crowdsec_api.log, Prometheus on.
    crowdsec = await startCrowdsec({ workDir: work, logMedia: 'file', prometheus: true });
    apiUrl = crowdsec.url;
    fs.writeFileSync(
      path.join(work, 'vigil.yaml'),
      ['db: sqlite:./data/vigil.db', ...(health.length ? ['health:', ...health] : []), 'watch:', '  listen: 127.0.0.1:0', ...notify, ''].join('\n'),
    );
    const cs = crowdsec;
    addBouncer = async () => await cs.addBouncer('bench');
    key = await addBouncer();
    const child = spawn(process.execPath, [BIN, 'watch', '--crowdsec-config', cs.configPath], { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (d) => (log += d));
    child.stderr!.on('data', (d) => (log += d));
    children.push(child);
    await until('vigil watch', async () => (/admin API and \/metrics on/.test(log) ? true : undefined), 30_000, 200);
  }
  key ??= await addBouncer();

  const list = async () =>
    (
      JSON.parse(await vigil('bouncers', 'list', '-o', 'json')) as Array<{
        name: string;
        health: string;
        pull_cadence_ms: number | null;
        last_pull: string | null;
      }>
    ).find((b) => b.name === 'bench');
  const start = async (apiKey: string) => {
    const b = await startCustomBouncer({ apiUrl, apiKey, updateFrequency: UPDATE_FREQUENCY, cacheRetentionDuration: '10s', workDir: work });
    bouncers.push(b);
    return b;
  };
  const hook = (pred: (h: Hook) => boolean) => async () => received.find(pred);

  console.log(`time to know, target ${target}${defaults ? ' (default escalation)' : ' (escalation at 2 min)'}, bouncer update_frequency ${UPDATE_FREQUENCY}`);
  const first = await start(key);
  const cadence = await until('learnt cadence', async () => ((await list())?.pull_cadence_ms ? (await list())!.pull_cadence_ms : undefined), 150_000, 2000);
  console.log(`  cadence learnt: ${cadence ?? 'none'} ms`);
  const beforeKill = await list();
  process.kill(first.pid, 'SIGKILL');
  const killedAt = Date.now();
  await first.stop();
  const lastPull = beforeKill?.last_pull ? Date.parse(beforeKill.last_pull) : null;
  console.log(`  killed ${lastPull === null ? '' : `${((killedAt - lastPull) / 1000).toFixed(1)} s after its last pull`}`);
  const since = (t: number | undefined, from: number) => (t === undefined ? null : Math.round((t - from) / 100) / 10);

  const late = await until('late status', async () => ((await list())?.health !== 'healthy' ? Date.now() : undefined), 180_000, 1000);
  const statusAfterLate = (await list())?.health;
  const opened = await until(
    'issue',
    hook((h) => h.event === 'opened' && h.issues.some((i) => i.bouncer === 'bench')),
    240_000,
  );
  const openedIssue = opened?.issues.find((i) => i.bouncer === 'bench');
  let staleAt: number | undefined;
  let causeChanged: Hook | undefined;
  let escalated: Hook | undefined;
  if (opened) {
    // Its key was rotated and the bouncer restarted with the old one: the Local API refuses it.
    const stale = await start(STALE_KEY);
    staleAt = Date.now();
    causeChanged = await until(
      'cause change',
      // fail_open: its stale key refused past health.fail_open_after with nothing succeeding (Critical at once, docs/health.md).
      hook(
        (h) =>
          h.at >= staleAt! && h.event === 'updated' && h.issues.some((i) => i.likelyCause?.cause === 'authentication' || i.likelyCause?.cause === 'fail_open'),
      ),
      90_000,
    );
    escalated = await until(
      'escalation',
      hook((h) => h.event === 'updated' && h.issues.some((i) => i.bouncer === 'bench' && i.criticality === 'critical')),
      defaults ? 900_000 : 240_000,
    );
    await stale.stop();
  }
  await start(key);
  const restartedAt = Date.now();
  const resolved = opened
    ? await until(
        'resolution',
        hook((h) => h.event === 'resolved' && h.issues.some((i) => i.id === openedIssue!.id)),
        90_000,
      )
    : undefined;
  const healthyAgain = await until('healthy status', async () => ((await list())?.health === 'healthy' ? Date.now() : undefined), 90_000, 1000);

  const rows: Array<[string, number | null, string]> = [
    ['status late (`bouncers list`)', since(late, killedAt), statusAfterLate ?? '-'],
    ['first issue (webhook)', since(opened?.at, killedAt), openedIssue ? `${openedIssue.kind} ${openedIssue.criticality}` : 'none'],
    ['  its likely cause', null, openedIssue?.likelyCause?.cause ?? '-'],
    ['cause → authentication (update), after stale key', since(causeChanged?.at, staleAt ?? 0), causeChanged ? 'updated' : 'none'],
    ['escalation to Critical (update)', since(escalated?.at, killedAt), escalated ? escalated.issues.find((i) => i.bouncer === 'bench')!.kind : 'none'],
    ['resolved (webhook), after restart', since(resolved?.at, restartedAt), resolved ? 'resolved' : 'none'],
    ['healthy status, after restart', since(healthyAgain, restartedAt), healthyAgain ? 'healthy' : '-'],
  ];
  console.log('');
  console.log(`| milestone | seconds | what |`);
  console.log(`|---|---:|---|`);
  for (const [what, s, note] of rows) console.log(`| ${what} | ${s === null ? '–' : s.toFixed(1)} | ${note} |`);
  const events = received.map((h) => ({
    at: since(h.at, killedAt),
    event: h.event,
    issues: h.issues.map((i) => ({ id: i.id, kind: i.kind, criticality: i.criticality, cause: i.likelyCause?.cause ?? null })),
  }));
  console.log('\nnotifications (seconds since the kill):');
  for (const e of events)
    console.log(
      `  ${String(e.at).padStart(6)}  ${e.event.padEnd(8)} ${e.issues.map((i) => `#${i.id} ${i.kind} ${i.criticality} ${i.cause ?? ''}`).join(', ')}`,
    );
  const out = {
    bench: 'time-to-know',
    target,
    escalation: defaults ? 'default (offline_after_factor 30, offline_after_min 10m)' : 'offline_after_factor 12, offline_after_min 2m',
    updateFrequency: UPDATE_FREQUENCY,
    at: new Date().toISOString(),
    node: process.version,
    cadenceMs: cadence ?? null,
    killedAfterLastPullS: lastPull === null ? null : since(killedAt, lastPull),
    milestones: Object.fromEntries(rows.map(([what, s, note]) => [what.trim(), { seconds: s, note }])),
    notifications: events,
  };
  fs.mkdirSync(path.join(ROOT, 'bench/results'), { recursive: true });
  const file = path.join(ROOT, `bench/results/time-to-know-${target}-${out.at.replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
  console.log(`\nwrote ${path.relative(ROOT, file)}`);
} finally {
  for (const b of bouncers) await b.stop().catch(() => {});
  for (const c of children) {
    if (c.exitCode === null) {
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGTERM');
      await exited;
    }
  }
  await crowdsec?.destroy();
  receiver.close();
  if (process.env.BENCH_KEEP) console.log(`kept ${work}\n${log.slice(-3000)}`);
  else fs.rmSync(work, { recursive: true, force: true });
}
