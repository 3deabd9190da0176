/**
 * The live-mode rows: a site protected by the real `@crowdsec/nodejs-bouncer@0.2.0` in live mode (its
 * default; test/fixtures/npm-clients/live-site.mjs) against the real `vigil serve`. The bench sends the
 * site its visitors (2 requests/s, each from an address the bouncer has not cached, so each asks the
 * Local API `GET /v1/decisions?ip=`); the addresses are only header values, nothing is sent to them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { npmClientProject } from '../../test/support/npm-clients.ts';
import { sleep } from '../support.ts';
import { about, pageRow, Pager, type Row, until, VigilProcess } from './harness.ts';
import { STALE_KEY, type RowContext } from './serve-rows.ts';

export interface LiveOptions {
  /** How long the site runs with its key before it stops, so its rhythm can be learnt. */
  learnMs: number;
  /**
   * How often the site pushes usage metrics in the usage-metrics row. The Lua bouncer's is 15 min and
   * the Go bouncers' 30 min; the bench uses 5 min so the row takes minutes, not an hour: the time to
   * know scales with it (two missed reports and a minute: docs/health.md).
   */
  usageEveryMs: number;
}

class LiveSite {
  #child: ChildProcess | undefined;
  #traffic: NodeJS.Timeout | undefined;
  #n = 0;
  port = 0;

  async start(project: string, lapiUrl: string, key: string, usageEveryMs = 0): Promise<void> {
    const child = spawn(process.execPath, [path.join(project, 'live-site.mjs')], {
      cwd: project,
      env: { ...process.env, LAPI_URL: lapiUrl.replace(/\/$/, ''), BOUNCER_KEY: key, USAGE_EVERY_MS: String(usageEveryMs) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#child = child;
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.resume();
    const port = await until(() => /"listening":(\d+)/.exec(out)?.[1], 20_000, 100);
    if (!port) throw new Error(`live-site did not start:\n${out}`);
    this.port = Number(port);
  }

  /** Visitors at `perSecond`, each from an address of 198.18.0.0/15 the bouncer has not seen. */
  visit(perSecond: number): void {
    this.#traffic = setInterval(() => {
      const n = this.#n++;
      const ip = `198.${18 + ((n >> 16) & 1)}.${(n >> 8) & 255}.${n & 255}`;
      fetch(`http://127.0.0.1:${this.port}/`, { headers: { 'x-client-ip': ip } })
        .then((r) => r.arrayBuffer())
        .catch(() => {});
    }, 1000 / perSecond);
  }

  async stop(): Promise<void> {
    clearInterval(this.#traffic);
    const c = this.#child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await exited;
  }
}

async function servedSite(ctx: RowContext): Promise<{ v: VigilProcess; pager: Pager; project: string; key: string }> {
  const project = npmClientProject();
  const pager = await new Pager().start();
  ctx.cleanup.push(() => pager.close());
  const v = await VigilProcess.serve(path.join(ctx.dir, 'serve'), pager.channelLines());
  ctx.cleanup.push(() => v.stop());
  await v.start();
  const key = (await v.cli('bouncers', 'add', 'site', '-o', 'raw')).trim();
  return { v, pager, project, key };
}

function site(ctx: RowContext): LiveSite {
  const s = new LiveSite();
  ctx.cleanup.push(() => s.stop());
  return s;
}

/** Its key is replaced by a wrong one while visitors keep coming: the site fails open. */
export async function liveWrongKey(ctx: RowContext): Promise<Row[]> {
  const { v, pager, project, key } = await servedSite(ctx);
  const good = site(ctx);
  await good.start(project, v.url, key);
  good.visit(2);
  await sleep(120_000);
  await good.stop();
  const bad = site(ctx);
  await bad.start(project, v.url, STALE_KEY);
  bad.visit(2);
  const from = Date.now();
  const critical = await pager.first((p) => p.issues.some((i) => i.bouncer === 'site' && i.criticality === 'critical'), from, 300_000);
  const auth = (i: { likelyCause: { cause: string } | null }) =>
    i.likelyCause?.cause === 'authentication' || i.likelyCause?.cause === 'fail_open' ? null : 'cause is not authentication or fail_open';
  return [pageRow('live, wrong key while visitors arrive: Critical', 120, critical, from, 'site', auth)];
}

const HOUR_MS = 3600_000;
const WEEKS = 4;

/**
 * The rhythm is learnt per hour of the week over 2 to 4 weeks (docs/health.md), which a bench cannot
 * wait for: with serve stopped, the site's bouncer is given the history of a site that has run for
 * four weeks with this bench's traffic (about 2 live queries a minute recorded, the most Vigil
 * records being one a minute: 40 an hour), and a creation date to match. Then serve runs again and
 * the real traffic and the real stop are measured.
 */
async function injectFourWeeksOfTraffic(v: VigilProcess, name: string): Promise<void> {
  await v.stop();
  const db = new SqliteDatabase(path.join(v.dir, 'data/vigil.db'));
  try {
    const now = Date.now();
    const first = Math.floor((now - WEEKS * 7 * 24 * HOUR_MS) / HOUR_MS) * HOUR_MS;
    const { id } = db.prepare('SELECT id FROM bouncers WHERE name = ?').get(name) as { id: number };
    db.prepare('UPDATE bouncers SET created_at = ? WHERE id = ?').run(first, id);
    const insert = db.prepare('INSERT INTO bouncer_pull_hours (bouncer_id, hour, pulls) VALUES (?, ?, 40)');
    db.transaction(() => {
      for (let hour = first; hour < Math.floor(now / HOUR_MS) * HOUR_MS; hour += HOUR_MS) insert.run(id, hour);
    })();
  } finally {
    db.close();
  }
  await v.start();
}

/** Steady visitors for `learnMs` (after four weeks of history), then the bouncer stops asking (the site or its module is gone). */
export async function liveStoppedWithTraffic(ctx: RowContext, opts: LiveOptions): Promise<Row[]> {
  const { v, pager, project, key } = await servedSite(ctx);
  await injectFourWeeksOfTraffic(v, 'site');
  const s = site(ctx);
  await s.start(project, v.url, key);
  s.visit(2);
  await sleep(opts.learnMs);
  await s.stop();
  const stoppedAt = Date.now();
  const page = await pager.first((p) => p.event === 'opened' && about('site')(p), stoppedAt, 1_800_000);
  return [pageRow(`live, steady visitors (4 weeks of history), stopped`, 900, page, stoppedAt, 'site')];
}

/**
 * A quiet site (one visitor every 30 s, far too few for a traffic rhythm, and no history), usage
 * metrics every `usageEveryMs`; then it stops. @crowdsec/nodejs-bouncer 0.2.0 sends no report at all
 * from a site without visitors, hence the trickle.
 */
export async function liveStoppedWithUsageMetrics(ctx: RowContext, opts: LiveOptions): Promise<Row[]> {
  const { v, pager, project, key } = await servedSite(ctx);
  const s = site(ctx);
  await s.start(project, v.url, key, opts.usageEveryMs);
  s.visit(1 / 30);
  await sleep(opts.usageEveryMs * 2 + 30_000);
  await s.stop();
  const stoppedAt = Date.now();
  const page = await pager.first((p) => p.event === 'opened' && about('site')(p), stoppedAt, Math.max(1_800_000, opts.usageEveryMs * 6));
  return [pageRow(`live, usage metrics every ${Math.round(opts.usageEveryMs / 60_000)} min, stopped`, 900, page, stoppedAt, 'site')];
}
