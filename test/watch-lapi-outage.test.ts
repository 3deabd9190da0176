import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/config.ts';
import { createLogger } from '../src/lib/logger.ts';
import { startWatch, type RunningWatch } from '../src/watch/start-watch.ts';
import { resolveWatchSettings } from '../src/watch/watch-config.ts';
import { runVigil } from './support/cli.ts';
import { startCustomBouncer, type CustomBouncerHandle } from './support/custom-bouncer.ts';
import type { CrowdsecInstance } from './support/crowdsec-instance.ts';
import { startWatchedCrowdsec, watchedCrowdsecAvailable } from './support/watched-crowdsec.ts';
import { startVigilServe, type VigilServe } from './support/vigil-serve.ts';
import { useCleanups } from './support/cleanups.ts';
import { until } from './support/wait.ts';
import { listBouncers } from '../src/store/bouncers.ts';
import { healthIssues, openHealthIssues } from '../src/store/health-issues.ts';

/**
 * `vigil watch` over a real, unchanged CrowdSec 1.4.6 (access log on file, Prometheus on) with the
 * real crowdsec-custom-bouncer pulling every 2 s and an agent heartbeating as 1.4.6 does (login, then
 * `GET /v1/heartbeat` with its token and User-Agent: test/fixtures/crowdsec-1.4.6/agent-*.json),
 * every 2 s here instead of 60 s:
 * 1. a healthy bouncer is never shown `late` while watch polls every 15 s (the `late` floor);
 * 2. CrowdSec's Local API stopped (SIGTERM): one lapi_down issue, nothing blamed on the bouncer or
 *    the agent; started again: resolved, and their silence during it raises nothing afterwards;
 * 3. the agent stops: LP Late from the heartbeat cadence watch learnt (not only the 24 h rule), and
 *    `vigil machines list --db <watch store>` shows it;
 * 4. `vigil serve` answers at CrowdSec's address (the stack was switched): one lapi_replaced issue.
 * Times are printed for docs/watch.md; the assertions only bound the waits.
 */
const { skip, note } = watchedCrowdsecAvailable();

const AGENT_UA = 'crowdsec/v1.4.6-6~deb12u1+b1-linux-debian';

/** An agent's heartbeat loop as CrowdSec 1.4.6 runs it: log in, beat with the token, log in again when refused. */
function scriptedAgent(lapiUrl: string, machineId: string, password: string, everyMs: number) {
  let running = true;
  let token: string | undefined;
  const beat = async () => {
    try {
      if (!token) {
        const res = await fetch(`${lapiUrl}v1/watchers/login`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'User-Agent': AGENT_UA },
          body: JSON.stringify({ machine_id: machineId, password, scenarios: ['crowdsecurity/ssh-bf'] }),
        });
        if (res.status !== 200) return;
        token = ((await res.json()) as { token: string }).token;
      }
      const res = await fetch(`${lapiUrl}v1/heartbeat`, { headers: { Authorization: `Bearer ${token}`, 'User-Agent': AGENT_UA } });
      await res.arrayBuffer();
      if (res.status !== 200) token = undefined;
    } catch {
      token = undefined; // connection refused while the Local API is down
    }
  };
  const done = (async () => {
    while (running) {
      await beat();
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await done;
    },
  };
}

describe.skipIf(skip)(`vigil watch: CrowdSec's Local API down or replaced, agents' cadence, no false late${note}`, () => {
  // Undone after the afterAll below (hooks run last registered first): the LAPI outlives its clients.
  const cleanups = useCleanups('all');
  let work: string;
  let lapi: CrowdsecInstance;
  let puller: CustomBouncerHandle | undefined;
  let agent: ReturnType<typeof scriptedAgent> | undefined;
  let w: RunningWatch | undefined;
  let sampler: RunningWatch | undefined;
  let serve: VigilServe | undefined;
  const silent = createLogger('silent', { write: () => true } as unknown as NodeJS.WritableStream);

  beforeAll(async () => {
    ({ work, lapi } = await startWatchedCrowdsec(cleanups, 'vigil-watch-outage-'));
  });

  afterAll(async () => {
    await agent?.stop();
    await puller?.stop();
    await sampler?.close();
    await w?.close();
    await serve?.stop();
  });

  async function watchOver(name: string, pollEvery: string, healthLines: string[]) {
    const dir = fs.mkdtempSync(path.join(work, `${name}-`));
    fs.writeFileSync(path.join(dir, 'vigil.yaml'), healthLines.length > 0 ? ['health:', ...healthLines.map((l) => `  ${l}`), ''].join('\n') : '');
    const db = `sqlite:${path.join(dir, 'watch.db')}`;
    const config = loadConfig({ flags: { db, config: path.join(dir, 'vigil.yaml') }, env: {}, cwd: dir });
    const settings = resolveWatchSettings({
      flags: { crowdsecConfig: lapi.configPath, listen: 'off', pollEvery },
      file: {},
      configFile: null,
      env: {},
      cwd: dir,
    });
    return { running: await startWatch(config, settings, { log: silent }), db, dir };
  }

  it('no false late, one lapi_down held over the fleet, LP Late for a stopped agent, lapi_replaced when Vigil serves its address', async () => {
    const key = await lapi.addBouncer('custom');
    await lapi.cscli(['machines', 'add', 'agent-1', '--password', 'agent-1-password-0123456789abcdef', '-f', path.join(work, 'agent-1.yaml'), '--force']);
    puller = await startCustomBouncer({ apiUrl: lapi.url, apiKey: key, updateFrequency: '2s', workDir: work });
    agent = scriptedAgent(lapi.url, 'agent-1', 'agent-1-password-0123456789abcdef', 2000);

    // Watch A: polls every second, floors down (Late after 3 missed beats, at least 5 s).
    const a = await watchOver('a', '1s', ['late_after_factor: 3', 'late_after_min: 5s', 'offline_after_min: 1h']);
    w = a.running;
    const store = w.store;
    let seen = '';
    const accessTail = () => {
      try {
        return fs.readFileSync(path.join(lapi.logDir, 'crowdsec_api.log'), 'utf8').slice(-1200);
      } catch {
        return '';
      }
    };
    const context = () =>
      `watch: ${JSON.stringify(w!.watcher.status())}\nissues: ${JSON.stringify(issuesNow())}\nseen: ${seen}\naccess log:\n${accessTail()}\nCrowdSec:\n${lapi.logs().slice(-1500)}`;
    let lastIssues: string[] = [];
    const issuesNow = () => lastIssues;
    const openIssues = async () => {
      const open = await openHealthIssues(store);
      lastIssues = open.map((i) => `${i.kind} ${i.subject}`);
      return open;
    };
    const everOpened = async () => (await healthIssues(store, { includeResolved: true })).map((i) => `${i.kind} ${i.subject}`);
    await until(
      'the bouncer and the agent cadences',
      async () => {
        const b = (await listBouncers(store)).find((x) => x.name === 'custom');
        const m = (await runVigil({ cwd: a.dir }, ['machines', 'inspect', 'agent-1', '--db', a.db, '-o', 'json'])).out;
        const agentRow = m ? (JSON.parse(m) as { heartbeat_cadence_ms: number | null; health: string }) : undefined;
        seen = `bouncer cadence ${b?.pullCadenceMs}; machine ${m}`;
        return b?.pullCadenceMs && agentRow?.heartbeat_cadence_ms ? { pull: b.pullCadenceMs, beat: agentRow.heartbeat_cadence_ms } : undefined;
      },
      context,
      60_000,
      500,
    );
    // `vigil machines list --db <watch store>` shows CrowdSec's machines.
    const listed = JSON.parse((await runVigil({ cwd: a.dir }, ['machines', 'list', '--db', a.db, '-o', 'json'])).out) as Array<{ machineId: string }>;
    expect(listed.map((r) => r.machineId).sort()).toEqual(['agent-1', 'vigil-test-machine']);

    // 1. Watch B polls every 15 s (the `late` floor): sampled as an operator would, for 2 minutes.
    const b = await watchOver('b', '15s', []);
    sampler = b.running;
    await until(
      'watch B knows the cadence',
      async () => ((await listBouncers(sampler!.store)).find((x) => x.name === 'custom')?.pullCadenceMs ? true : undefined),
      context,
      30_000,
    );
    const statuses: string[] = [];
    const sampleUntil = Date.now() + 120_000;
    while (Date.now() < sampleUntil) {
      const r = await runVigil({ cwd: b.dir }, ['bouncers', 'list', '--db', b.db, '-o', 'json']);
      const rows = JSON.parse(r.out) as Array<{ name: string; health: string }>;
      statuses.push(rows.find((x) => x.name === 'custom')!.health);
      await new Promise((res) => setTimeout(res, 1000));
    }
    await sampler.close();
    sampler = undefined;
    const late = statuses.filter((s) => s !== 'healthy').length;
    console.log(`[watch-outage] healthy 2 s bouncer, poll 15 s: ${late} of ${statuses.length} samples not healthy`);
    expect(statuses.length).toBeGreaterThan(60);
    expect(late).toBe(0);

    // 2. CrowdSec's Local API stops: one issue, within 60 s, and nothing blamed on the fleet.
    const stoppedAt = Date.now();
    await lapi.stop();
    // With CrowdSec stopped nobody else writes its database: watch's reads leave it byte for byte.
    const sums = () =>
      ['', '-wal'].map((ext) => {
        const f = `${lapi.dbPath!}${ext}`;
        return fs.existsSync(f) ? crypto.createHash('sha256').update(fs.readFileSync(f)).digest('hex') : 'absent';
      });
    const before = sums();
    await until('lapi_down', async () => ((await openIssues()).some((i) => i.kind === 'lapi_down') ? true : undefined), context, 60_000);
    console.log(`[watch-outage] lapi_down opened ${((Date.now() - stoppedAt) / 1000).toFixed(1)} s after CrowdSec was stopped`);
    const down = (await openHealthIssues(store)).find((i) => i.kind === 'lapi_down')!;
    expect(down.criticality).toBe('critical');
    expect(w.watcher.status().lapi).toMatchObject({ state: 'down' });
    expect((down.evidence.causes[0] as { cause: string }).cause).toBe('lapi_stopped');
    // Longer than the bouncer's and the agent's Late thresholds (6 s): still only the Local API's issue.
    await new Promise((r) => setTimeout(r, 15_000));
    expect(await everOpened()).toEqual(['lapi_down lapi']);
    expect(sums()).toEqual(before);
    const runbook = await runVigil({ cwd: a.dir }, ['issues', 'show', String(down.id), '--db', a.db]);
    expect(runbook.out).toContain('CrowdSec Local API Down');

    // Started again: resolved; the bouncer and the agent pull and beat again within their cadence.
    const restartedAt = Date.now();
    await lapi.start();
    if (puller.exitCode() !== undefined) puller = await startCustomBouncer({ apiUrl: lapi.url, apiKey: key, updateFrequency: '2s', workDir: work });
    await until('lapi_down resolved', async () => ((await openIssues()).length === 0 ? true : undefined), context, 30_000);
    console.log(`[watch-outage] lapi_down resolved ${((Date.now() - restartedAt) / 1000).toFixed(1)} s after CrowdSec was started again`);
    await new Promise((r) => setTimeout(r, 15_000));
    expect(await openIssues()).toEqual([]);
    expect(await everOpened()).toEqual(['lapi_down lapi']);

    // 3. The agent stops: LP Late from its learnt cadence.
    await agent.stop();
    agent = undefined;
    const agentStoppedAt = Date.now();
    await until(
      'lp_late',
      async () => ((await openIssues()).some((i) => i.kind === 'lp_late' && i.subject === 'machine:agent-1') ? true : undefined),
      context,
      60_000,
    );
    console.log(`[watch-outage] lp_late opened ${((Date.now() - agentStoppedAt) / 1000).toFixed(1)} s after the agent stopped (cadence 2 s, floors down)`);
    expect((await openIssues()).filter((i) => i.subject === 'bouncer:custom')).toEqual([]);

    // 4. The stack switched to Vigil: CrowdSec stopped (lapi_down), then vigil serve answers at its address.
    await lapi.stop();
    await until('lapi_down before the switch', async () => ((await openIssues()).some((i) => i.kind === 'lapi_down') ? true : undefined), context, 60_000);
    serve = await startVigilServe({ workDir: work, listen: lapi.listen });
    const servedAt = Date.now();
    await until('lapi_replaced', async () => ((await openIssues()).some((i) => i.kind === 'lapi_replaced') ? true : undefined), context, 60_000);
    console.log(`[watch-outage] lapi_replaced opened ${((Date.now() - servedAt) / 1000).toFixed(1)} s after vigil serve took the address`);
    await new Promise((r) => setTimeout(r, 10_000));
    const open = await openIssues();
    expect(open.find((i) => i.kind === 'lapi_replaced')!.summary).toContain('Stop this vigil watch, or repoint it');
    expect(open.filter((i) => i.subject.startsWith('bouncer:'))).toEqual([]);
    // The same subject: the down issue resolved, the replaced one says what to do.
    expect(open.some((i) => i.kind === 'lapi_down')).toBe(false);
    expect(open.filter((i) => i.subject === 'machine:agent-1').map((i) => i.kind)).toEqual(['lp_late']);
  }, 400_000);
});
