import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/lib/clock.ts';
import { loadConfig } from '../src/config/config.ts';
import { startWatch } from '../src/watch/start-watch.ts';
import { resolveWatchSettings } from '../src/watch/watch-config.ts';
import { startCustomBouncer, type CustomBouncerHandle } from './support/custom-bouncer.ts';
import { startCrowdsec, type CrowdsecInstance } from './support/crowdsec-instance.ts';
import { watchedCrowdsecAvailable } from './support/watched-crowdsec.ts';
import { DIALECTS, freshDbUrl } from './support/databases.ts';
import { mariadbAvailable, startMariadb } from './support/mariadb-instance.ts';
import { until } from './support/wait.ts';
import { listBouncers } from '../src/store/bouncers.ts';
import { openHealthIssues } from '../src/store/health-issues.ts';

/**
 * `vigil watch` against the real CrowdSec 1.4.6 (Debian) and the real crowdsec-custom-bouncer:
 * bouncers registered with CrowdSec's own cscli pull from CrowdSec's own Local API; stopping one
 * raises RC Integration Offline with a cause, starting it again resolves it.
 * - the real `vigil watch` binary, real time (offline_after 5s), through the SQLite source (found
 *   from CrowdSec's config file) and through the `--cscli` source;
 * - in process with a manual clock, CrowdSec on PostgreSQL (it creates its schema there) and on
 *   MariaDB, read with `--crowdsec-config` and `--crowdsec-db mysql://…`.
 */
const exec = promisify(execFile);
const BIN = path.resolve(import.meta.dirname, '../bin/vigil.js');
const { skip, note } = watchedCrowdsecAvailable();

interface IssueJson {
  id: number;
  kind: string;
  subject: string;
  status: string;
  summary: string;
  evidence: { causes: Array<{ cause: string; evidence: string[] }> };
}

describe.skipIf(skip)(`vigil watch on the real CrowdSec 1.4.6${note}`, () => {
  let work: string;
  let lapi: CrowdsecInstance;
  const running: CustomBouncerHandle[] = [];
  const watches: ChildProcess[] = [];

  beforeAll(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-watch-e2e-'));
    lapi = await startCrowdsec({ workDir: work });
  });

  afterAll(async () => {
    for (const b of running) await b.stop();
    for (const w of watches) {
      if (w.exitCode === null) {
        const exited = new Promise((r) => w.once('exit', r));
        w.kill('SIGTERM');
        await exited;
      }
    }
    await lapi?.destroy();
    fs.rmSync(work, { recursive: true, force: true });
  });

  async function bouncer(key: string, apiUrl = lapi.url) {
    const b = await startCustomBouncer({ apiUrl, apiKey: key, updateFrequency: '1s', workDir: work });
    running.push(b);
    return b;
  }

  /** Runs the real `vigil watch` binary in its own directory; returns a CLI bound to its store. */
  async function watchBinary(name: string, sourceArgs: string[], extraYaml: string[] = []) {
    const dir = path.join(work, name);
    fs.mkdirSync(dir);
    fs.writeFileSync(
      path.join(dir, 'vigil.yaml'),
      ['db: sqlite:./data/vigil.db', 'health:', '  offline_after: 5s', 'watch:', '  poll_every: 300ms', '  listen: 127.0.0.1:0', ...extraYaml, ''].join('\n'),
    );
    let log = '';
    const child = spawn(process.execPath, [BIN, 'watch', ...sourceArgs], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    watches.push(child);
    child.stdout!.on('data', (d) => (log += d));
    child.stderr!.on('data', (d) => (log += d));
    const context = () => `vigil watch log:\n${log.slice(-4000)}\nCrowdSec log:\n${lapi.logs().slice(-2000)}`;
    const url = await until('the watch listener', async () => /admin API and \/metrics on (http:\/\/[^,"]+)/.exec(log)?.[1], context);
    const vigil = async (...args: string[]) => (await exec(process.execPath, [BIN, ...args], { cwd: dir })).stdout;
    const issues = async (): Promise<IssueJson[]> => JSON.parse(await vigil('issues', 'list', '-o', 'json'));
    return { dir, url, vigil, issues, context, log: () => log };
  }

  async function offlineThenBack(w: Awaited<ReturnType<typeof watchBinary>>, name: string, key: string) {
    const first = await bouncer(key);
    await until(
      `${name} healthy`,
      async () => {
        const list = JSON.parse(await w.vigil('bouncers', 'list', '-o', 'json'));
        const b = list.find((x: { name: string }) => x.name === name);
        return b?.health === 'healthy' && b?.type === 'crowdsec-custom-bouncer' ? b : undefined;
      },
      w.context,
    );
    expect((await w.issues()).filter((i) => i.subject === `bouncer:${name}`)).toEqual([]);

    await first.stop();
    const offline = await until(
      'RC Integration Offline',
      async () => (await w.issues()).find((i) => i.kind === 'rc_integration_offline' && i.subject === `bouncer:${name}`),
      w.context,
    );
    expect(offline.evidence.causes[0]!.cause).toBe('stopped_or_network');
    expect(offline.summary).toMatch(new RegExp(`bouncer '${name}' \\(crowdsec-custom-bouncer\\) has not pulled decisions for`));
    expect(w.log()).toContain('issue opened');
    const shown = await w.vigil('issues', 'show', String(offline.id));
    expect(shown).toContain('service stopped, integration not loaded, or network');
    // Runbooks speak CrowdSec's own CLI in watch mode, and name its Local API.
    expect(shown).toContain('cscli bouncers list');
    expect(shown).not.toMatch(/\bvigil bouncers\b/);
    expect(shown).toContain(lapi.url);

    await bouncer(key);
    await until('resolution', async () => ((await w.issues()).some((i) => i.id === offline.id) ? undefined : true), w.context);
    const history: IssueJson[] = JSON.parse(await w.vigil('issues', 'list', '--all', '-o', 'json'));
    expect(history.find((i) => i.id === offline.id)!.status).toBe('resolved');
    expect(w.log()).toContain('issue resolved');
  }

  it('SQLite source (from CrowdSec config): offline when the bouncer stops, resolved when it runs again; admin API, metrics, notifications', async () => {
    // A webhook receiver: watch notifies as serve does, with CrowdSec's runbook.
    const received: Array<{ event: string; issues: Array<{ kind: string; bouncer: string; runbook: { markdown: string } | null }> }> = [];
    const receiver = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        received.push(JSON.parse(body));
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
    const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    try {
      const key = await lapi.addBouncer('custom-sqlite');
      const w = await watchBinary(
        'sqlite',
        ['--crowdsec-config', lapi.configPath],
        ['notifications:', '  channels:', '    ops:', '      type: webhook', `      url: ${hook}`],
      );
      await offlineThenBack(w, 'custom-sqlite', key);
      await until('the resolved notification', async () => (received.some((m) => m.event === 'resolved') ? true : undefined), w.context);
      const opened = received.find((m) => m.event === 'opened' && m.issues.some((i) => i.bouncer === 'custom-sqlite'))!;
      const issue = opened.issues.find((i) => i.bouncer === 'custom-sqlite')!;
      expect(issue.kind).toBe('rc_integration_offline');
      expect(issue.runbook!.markdown).toContain('sudo cscli bouncers');
      expect(issue.runbook!.markdown).not.toMatch(/\bvigil bouncers\b/);
      await checkAdminAndMetrics(w);
    } finally {
      receiver.close();
    }
  }, 90_000);

  async function checkAdminAndMetrics(w: Awaited<ReturnType<typeof watchBinary>>) {
    const metrics = await (await fetch(`${w.url}/metrics`)).text();
    expect(metrics).toMatch(/^vigil_watch_source_up 1$/m);
    expect(metrics).toMatch(/^vigil_bouncer_last_pull_timestamp_seconds\{bouncer="custom-sqlite",type="crowdsec-custom-bouncer"\} \d+/m);
    expect(metrics).not.toContain('vigil_decisions_active');
    expect((await fetch(`${w.url}/admin/v1/issues`)).status).toBe(401);
    const token = (await w.vigil('admin', 'token'))
      .trim()
      .split(/\s+/)
      .find((t) => t.startsWith('vigil_'))!;
    const status = await (await fetch(`${w.url}/admin/v1/watch`, { headers: { authorization: `Bearer ${token}` } })).json();
    // CrowdSec's own Local API is probed at the address its config gives.
    expect(status).toMatchObject({ up: true, source: `sqlite:${lapi.dbPath}`, consecutiveFailures: 0, lapi: { state: 'up', notServingSince: null } });
    expect(metrics).toMatch(/^vigil_watch_lapi_up 1$/m);
    const listed = await (await fetch(`${w.url}/admin/v1/bouncers`, { headers: { authorization: `Bearer ${token}` } })).json();
    expect(listed.find((b: { name: string }) => b.name === 'custom-sqlite')).toMatchObject({ health: 'healthy' });
    // The dashboard shares the listener, behind its login; its first-start password was printed once.
    expect(w.log()).toMatch(/Dashboard http:\/\/127\.0\.0\.1:\d+\/ui\/: first-start password \(shown once, stored hashed\): \S+/);
    const ui = await fetch(`${w.url}/ui/`, { redirect: 'manual' });
    expect([200, 302, 303]).toContain(ui.status);
    const page = await fetch(`${w.url}/ui/bouncers`, { headers: { authorization: `Bearer ${token}` }, redirect: 'manual' });
    expect([200, 302, 303]).toContain(page.status);
  }

  it('--cscli source (a command prefix, run without a shell): offline, then resolved', async () => {
    const key = await lapi.addBouncer('custom-cscli');
    const w = await watchBinary('cscli', ['--cscli', `env LC_ALL=C cscli -c ${lapi.configPath}`]);
    await offlineThenBack(w, 'custom-cscli', key);
  }, 90_000);

  it('a new bouncer CrowdSec 1.4 registered (last_pull = creation time) is "never pulled", not offline', async () => {
    await lapi.addBouncer('registered-only');
    const dir = path.join(work, 'once');
    fs.mkdirSync(dir);
    // Default offline_after (24h); one read and evaluation.
    const out = (await exec(process.execPath, [BIN, 'watch', '--once', '--cscli', `${lapi.cscliWrapper}`], { cwd: dir })).stdout;
    expect(out).not.toContain('registered-only');
    const list = JSON.parse((await exec(process.execPath, [BIN, 'bouncers', 'list', '-o', 'json'], { cwd: dir })).stdout);
    expect(list.find((b: { name: string }) => b.name === 'registered-only')).toMatchObject({ health: 'never_pulled', last_pull: null });
  });

  it('--once exits 1 with one line when the source cannot be read', async () => {
    const dir = path.join(work, 'broken');
    fs.mkdirSync(dir);
    const err = await exec(process.execPath, [BIN, 'watch', '--once', '--crowdsec-db', `sqlite:${path.join(dir, 'missing.db')}`], { cwd: dir }).then(
      () => undefined,
      (e: { code: number; stderr: string; stdout: string }) => e,
    );
    expect(err?.code).toBe(1);
    expect(err?.stderr).toMatch(/^level=fatal msg=".*missing\.db: cannot open/m);
    expect(err?.stdout).toContain('source_unavailable');
  });

  it("refuses CrowdSec's own database as Vigil's store", async () => {
    const err = await exec(process.execPath, [BIN, '--db', `sqlite:${lapi.dbPath}`, 'watch', '--once', '--crowdsec-config', lapi.configPath], {
      cwd: work,
    }).then(
      () => undefined,
      (e: { code: number; stderr: string }) => e,
    );
    expect(err?.code).toBe(1);
    expect(err?.stderr).toContain(
      `level=fatal msg="db: Vigil's store would be CrowdSec's own database (sqlite:${lapi.dbPath}); give vigil watch a store of its own`,
    );
  });

  /** In process, manual clock: read a CrowdSec on a database server through `flags`. */
  async function serverScenario(lapiOnDb: CrowdsecInstance, flags: Parameters<typeof resolveWatchSettings>[0]['flags']) {
    const key = await lapiOnDb.addBouncer('db-bouncer');
    await lapiOnDb.addBouncer('db-fresh');
    let b = await bouncer(key, lapiOnDb.url);
    await until(
      'a pull recorded by CrowdSec',
      async () => ((await lapiOnDb.listBouncers()).find((x) => x.name === 'db-bouncer')?.ip_address ? true : undefined),
      () => lapiOnDb.logs(),
    );
    await b.stop();
    const stoppedAt = Date.now();

    const dir = fs.mkdtempSync(path.join(work, 'inproc-'));
    const config = loadConfig({ flags: { db: `sqlite:${path.join(dir, 'vigil.db')}` }, env: {}, cwd: dir });
    const settings = resolveWatchSettings({ flags: { ...flags, listen: 'off' }, file: {}, configFile: null, env: {}, cwd: dir });
    const clock = new ManualClock(Date.now());
    const silent = { write: () => true } as unknown as NodeJS.WritableStream;
    const { createLogger } = await import('../src/app/serve.ts');
    const w = await startWatch(config, settings, { clock, log: createLogger('silent', silent), poll: false });
    try {
      let r = await w.watcher.pollOnce();
      expect(r.read, r.error).toBe('ok');
      const mirrored = await listBouncers(w.store);
      expect(mirrored.find((x) => x.name === 'db-fresh')).toMatchObject({ lastPullAt: null, ipAddress: '' });
      expect(mirrored.find((x) => x.name === 'db-bouncer')).toMatchObject({ type: 'crowdsec-custom-bouncer', ipAddress: '127.0.0.1' });
      expect(await openHealthIssues(w.store)).toEqual([]);

      clock.set(stoppedAt + 25 * 3600_000);
      r = await w.watcher.pollOnce();
      const open = await openHealthIssues(w.store);
      expect(open.map((i) => `${i.kind} ${i.subject}`).sort()).toEqual([
        // CrowdSec's own machine (the harness's, used by nothing here) is read from its machines table too.
        'lp_offline machine:vigil-test-machine',
        'rc_integration_offline bouncer:db-bouncer',
        'rc_integration_offline bouncer:db-fresh',
        'se_no_active_rc fleet',
      ]);
      expect((open.find((i) => i.bouncerName === 'db-bouncer')!.evidence.causes[0] as { cause: string }).cause).toBe('stopped_or_network');
      expect((open.find((i) => i.bouncerName === 'db-fresh')!.evidence.causes[0] as { cause: string }).cause).toBe('never_pulled');

      b = await bouncer(key, lapiOnDb.url);
      await until(
        'a new pull',
        async () => {
          const lp = (await lapiOnDb.listBouncers()).find((x) => x.name === 'db-bouncer')?.last_pull;
          return lp && Date.parse(lp) > stoppedAt + 1000 ? true : undefined;
        },
        () => lapiOnDb.logs(),
      );
      clock.set(Date.now() + 1000);
      r = await w.watcher.pollOnce();
      // (db-fresh resolves too: with the clock back at the real time it is new again.)
      expect(r.evaluation.resolved.map((i) => i.subject)).toEqual(expect.arrayContaining(['bouncer:db-bouncer', 'fleet']));
      await b.stop();
    } finally {
      await w.close();
    }
  }

  it.skipIf(!DIALECTS.includes('postgres'))('PostgreSQL source (CrowdSec created its schema there), from --crowdsec-config', async () => {
    const db = await freshDbUrl('postgres');
    const onPg = await startCrowdsec({ workDir: work, db: { type: 'postgresql', url: db.url } });
    try {
      await serverScenario(onPg, { crowdsecConfig: onPg.configPath });
    } finally {
      await onPg.destroy();
      await db.cleanup();
    }
  });

  const maria = mariadbAvailable();
  it.skipIf(!maria.available && !process.env.CI)(
    `MySQL/MariaDB source, from --crowdsec-db mysql://…${maria.available ? '' : ` (skipped: ${maria.reason})`}`,
    async () => {
      const db = await startMariadb({ workDir: work });
      try {
        const onMaria = await startCrowdsec({ workDir: work, db: { type: 'mysql', url: db.url } });
        try {
          await serverScenario(onMaria, { crowdsecDb: db.url });
        } finally {
          await onMaria.destroy();
        }
      } finally {
        await db.destroy();
      }
    },
  );
});
