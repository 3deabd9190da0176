import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/lib/clock.ts';
import { loadConfig } from '../src/config/config.ts';
import { createLogger } from '../src/lib/logger.ts';
import { parseLapiLogLine, requestMeaning } from '../src/core/watch/access-log.ts';
import { pullHours } from '../src/store/pull-history.ts';
import { startWatch, type RunningWatch } from '../src/watch/start-watch.ts';
import { resolveWatchSettings } from '../src/watch/watch-config.ts';
import { startCustomBouncer, type CustomBouncerHandle } from './support/custom-bouncer.ts';
import type { CrowdsecInstance } from './support/crowdsec-instance.ts';
import { startWatchedCrowdsec, watchedCrowdsecAvailable } from './support/watched-crowdsec.ts';
import { useCleanups } from './support/cleanups.ts';
import { until } from './support/wait.ts';
import { listBouncers } from '../src/store/bouncers.ts';
import { openHealthIssues } from '../src/store/health-issues.ts';

/**
 * `vigil watch` over a real, unchanged CrowdSec 1.4.6 that logs to files (log_media: file) with its
 * Prometheus endpoint on: the real crowdsec-custom-bouncer pulls every second; watch learns its
 * cadence from the access log alone, keeps counting its pulls through a copytruncate and a
 * rename/create rotation (with the Local API restarted to reopen its log), sees the restart, names
 * a refused key as the cause of a silent bouncer, and raises lp_offline from CrowdSec's machines.
 */
const { skip, note } = watchedCrowdsecAvailable();

/** Successful pulls by the custom bouncer, counted in every log file CrowdSec wrote (the ground truth). */
function pullsInLogs(dir: string): number {
  let n = 0;
  for (const f of fs.readdirSync(dir).filter((f) => f.startsWith('crowdsec_api.log'))) {
    for (const line of fs.readFileSync(path.join(dir, f), 'utf8').split('\n')) {
      const e = parseLapiLogLine(line);
      if (e.type === 'request' && e.userAgent.startsWith('crowdsec-custom-bouncer') && requestMeaning(e).kind === 'pull') n++;
    }
  }
  return n;
}

describe.skipIf(skip)(`vigil watch reads CrowdSec 1.4.6's access log and counters${note}`, () => {
  // Undone after the afterAll below (hooks run last registered first): the LAPI outlives its clients.
  const cleanups = useCleanups('all');
  let work: string;
  let lapi: CrowdsecInstance;
  let w: RunningWatch;
  let puller: CustomBouncerHandle | undefined;
  const clock = new ManualClock(Date.now());

  beforeAll(async () => {
    ({ work, lapi } = await startWatchedCrowdsec(cleanups, 'vigil-watch-log-'));
  });

  afterAll(async () => {
    await puller?.stop();
    await w?.close();
  });

  it('learns the cadence from the log, loses no pull through copytruncate and rename rotations, sees the restart, names refused keys, raises lp_offline', async () => {
    const key = await lapi.addBouncer('puller');
    const fwKey = await lapi.addBouncer('fw');
    puller = await startCustomBouncer({ apiUrl: lapi.url, apiKey: key, updateFrequency: '1s', workDir: work });
    // The firewall bouncer pulls once with its key, then (a stale key in its config) is refused.
    const fw = (k: string) =>
      fetch(`${lapi.url}v1/decisions/stream?startup=true`, { headers: { 'X-Api-Key': k, 'User-Agent': 'cs-firewall-bouncer/v0.0.28' } });
    expect((await fw(fwKey)).status).toBe(200);

    const dir = fs.mkdtempSync(path.join(work, 'watch-'));
    fs.writeFileSync(path.join(dir, 'vigil.yaml'), ['health:', '  offline_after: 1h', '  late_after_factor: 3', '  late_after_min: 5s', ''].join('\n'));
    const config = loadConfig({ flags: { db: `sqlite:${path.join(dir, 'vigil.db')}` }, env: {}, cwd: dir });
    // Only CrowdSec's config is given: the access log and the metrics URL are found from it.
    const settings = resolveWatchSettings({ flags: { crowdsecConfig: lapi.configPath, listen: 'off' }, file: {}, configFile: null, env: {}, cwd: dir });
    expect(settings.lapiLog).toMatchObject({ type: 'file', accessLog: path.join(lapi.logDir, 'crowdsec_api.log') });
    expect(settings.prometheusUrl).toBe(lapi.prometheusUrl);
    w = await startWatch(config, settings, { clock, log: createLogger('silent', () => {}), poll: false });
    const context = () => `status: ${JSON.stringify(w.watcher.status())}\nCrowdSec log:\n${lapi.logs().slice(-2000)}`;
    const poll = async () => {
      clock.set(Date.now());
      const r = await w.watcher.pollOnce();
      expect(r.read, r.error).toBe('ok');
      return r;
    };
    const row = async (name: string) => (await listBouncers(w.store)).find((b) => b.name === name)!;

    // 1. The cadence, from the access log alone (CrowdSec's database has none).
    const cadence = await until(
      'a learnt cadence',
      async () => {
        await poll();
        const c = (await row('puller')).pullCadenceMs;
        return c !== null ? c : undefined;
      },
      context,
    );
    expect(cadence).toBeGreaterThanOrEqual(500);
    expect(cadence).toBeLessThanOrEqual(2000);
    const status = w.watcher.status().learning;
    expect(status.accessLog).toMatchObject({ up: true, malformed: 0 });
    expect(status.prometheus).toMatchObject({ up: true });

    // 2. copytruncate, as logrotate does it, while the bouncer pulls.
    const access = path.join(lapi.logDir, 'crowdsec_api.log');
    fs.copyFileSync(access, `${access}.1`);
    fs.truncateSync(access, 0);
    await until('pulls after the copytruncate', async () => (fs.statSync(access).size > 600 ? true : undefined), context);
    await poll();
    // More pulls land in the truncated file after that read; the next read takes them up.
    const truncatedSize = fs.statSync(access).size;
    await until('a pull after that read', () => (fs.statSync(access).size > truncatedSize ? true : undefined), context);
    await poll();

    // 3. rename/create: the old file is renamed away; the Local API writes on into it until it is
    // restarted, then creates a new one.
    fs.renameSync(access, `${access}.2`);
    const renamedSize = fs.statSync(`${access}.2`).size;
    await until('a pull written into the renamed file', () => (fs.statSync(`${access}.2`).size > renamedSize ? true : undefined), context);
    await poll(); // still following the renamed file
    const restartedAt = Date.now();
    await lapi.stop();
    await lapi.start();
    if (puller.exitCode() !== undefined) puller = await startCustomBouncer({ apiUrl: lapi.url, apiKey: key, updateFrequency: '1s', workDir: work });
    await until(
      'pulls in the new file',
      async () => (fs.existsSync(access) && fs.readFileSync(access, 'utf8').includes('crowdsec-custom-bouncer') ? true : undefined),
      context,
    );
    await poll();
    expect(w.watcher.status().learning.accessLog!.rotations).toBeGreaterThanOrEqual(2);

    // A stale key: the firewall bouncer is refused from now on.
    for (let i = 0; i < 3; i++) expect((await fw('0123456789abcdef0123456789abcdef')).status).toBe(403);

    // 4. Stop the bouncer, read the rest: every pull in the files is in the pull history.
    await puller.stop();
    puller = undefined;
    // CrowdSec writes a request's line just after answering it and there is no event for "the last
    // line is written": a short grace, not a wait for something that can be observed.
    await new Promise((r) => setTimeout(r, 300));
    await poll();
    const b = await row('puller');
    const recorded = (await pullHours(w.store, { since: Date.now() - 3 * 3600_000, bouncerId: b.id })).reduce((n, h) => n + h.pulls, 0);
    const truth = pullsInLogs(lapi.logDir);
    expect(truth).toBeGreaterThan(10);
    expect(recorded).toBe(truth);
    expect(w.watcher.status().learning.accessLog).toMatchObject({ malformed: 0 });

    // The restart: from crowdsec.log's start line and the counters' new process start time.
    const snap = await w.watcher.engine.snapshot(clock.now());
    expect(snap.requestsRecorded).toBe(true);
    expect(snap.lapiStarts.some((s) => s >= restartedAt - 1000)).toBe(true);
    // "Registered" stays at the registration, although CrowdSec 1.4 moved created_at with every pull.
    const inCrowdsec = (await lapi.listBouncers()).find((x) => x.name === 'puller')!;
    expect(b.createdAt).toBeLessThan(Date.parse(inCrowdsec.created_at) - 5000);
    // CrowdSec's machines are in the snapshot.
    expect(snap.machines?.map((m) => m.machineId)).toContain('vigil-test-machine');

    // 5. Learnt cadence → late within seconds, not after 24 h.
    clock.set(Date.now() + 10_000);
    let r = await w.watcher.pollOnce();
    const open = await openHealthIssues(w.store);
    expect(open.find((i) => i.subject === 'bouncer:puller')?.kind, JSON.stringify(open.map((i) => `${i.kind} ${i.subject}`))).toBe('integration_late');

    // 6. An hour and more later: offline, with the refused key from the log as the fw bouncer's cause;
    // the puller's causes no longer say requests are not recorded; CrowdSec's machine is lp_offline.
    clock.set(Date.now() + 2 * 3600_000);
    r = await w.watcher.pollOnce();
    expect(r.read).toBe('ok');
    const issues = await openHealthIssues(w.store);
    const fwIssue = issues.find((i) => i.subject === 'bouncer:fw')!;
    expect(fwIssue.kind).toBe('fw_integration_offline');
    const fwCause = fwIssue.evidence.causes[0] as { cause: string; evidence: string[] };
    // Its own key refused and nothing succeeding since: failing open (fail-open.ts), with the log's requests as evidence.
    expect(fwCause.cause).toBe('fail_open');
    expect(fwCause.evidence.join('\n')).toMatch(/^3 request\(s\) refused since /);
    expect(fwCause.evidence.join('\n')).toMatch(/GET \/v1\/decisions\/stream from 127\.0\.0\.1 with User-Agent cs-firewall-bouncer\/v0\.0\.28/);
    const pullerIssue = issues.find((i) => i.subject === 'bouncer:puller')!;
    expect(pullerIssue.kind).toBe('rc_integration_offline');
    expect(JSON.stringify(pullerIssue.evidence)).not.toContain('not recorded where this was read from');
    expect(issues.find((i) => i.subject === 'machine:vigil-test-machine')?.kind).toBe('lp_offline');
  }, 60_000);
});
