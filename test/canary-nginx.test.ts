import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { beforeAll, expect, it } from 'vitest';
import type { LikelyCause } from '../src/core/health/types.ts';
import { canaryRuns } from '../src/store/canaries.ts';
import { eventually, request, stopNginx } from './remediation-helpers.ts';
import { startCanarySite, type CanaryLapi, type CanarySite } from './support/canary-lapi.ts';
import { useCleanups } from './support/cleanups.ts';
import { describeIfProxy, documentedProxyBlock, PROXY_BINARIES, viaProxy } from './support/forward-auth-cases.ts';
import { startTestNginx, writeTestNginxConf } from './support/nginx-conf.ts';
import { decisionsChangedSince } from '../src/store/decisions.ts';

/**
 * Canaries against a real Debian nginx (`auth_request`, the docs/bouncer.md's block) in front of
 * Vigil's forward-auth daemon, pulling from a real `vigil serve` whose vigil.yaml holds the canary.
 * The serve process's own schedule runs it (`every: 3s`): a working site passes; the same site with
 * `auth_request` removed (conf rewritten, `nginx -s reload`) raises remediation_not_enforced within
 * one interval, and putting it back resolves it. Every run leaves no decision behind.
 */
const NGINX = PROXY_BINARIES.nginx;
const EVERY_MS = 3000;
const ADDRESS = '192.0.2.44';
describeIfProxy('nginx', 'canaries: real nginx + Vigil forward-auth', () => {
  const cleanups = useCleanups('all');
  let site: CanarySite;
  let lapi: CanaryLapi;
  let url: string;

  const snippet = (withAuthRequest: boolean) => {
    const block = documentedProxyBlock('nginx', new URL(site.fa.url).host);
    // The misconfiguration: the site's auth_request line is gone (the daemon still runs and pulls).
    return withAuthRequest ? block : block.replace(/^auth_request \/\.vigil\/auth;\n/m, '');
  };
  const writeConf = (withAuthRequest: boolean) => {
    const file = writeTestNginxConf(
      lapi.dir,
      `  server {
    listen 127.0.0.1:${site.port};
${snippet(withAuthRequest)}
    location / { proxy_pass http://127.0.0.1:${site.upstream.port}; }
  }`,
      { accessLog: false },
    );
    // A reload needs the master process (single-process mode does not reconfigure cleanly); its
    // workers run as this user (the `user` directive is ignored unless that is root).
    const whoami = os.userInfo().username;
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('master_process off;', `master_process on;\nworker_processes 1;\nuser ${whoami};`));
  };
  const reload = () => {
    const r = spawnSync(NGINX, ['-p', lapi.dir, '-c', `${lapi.dir}/nginx.conf`, '-s', 'reload'], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`nginx -s reload: ${r.stderr}`);
  };
  const runs = () => canaryRuns(lapi.server.store, { canary: 'shop' });
  /** Waits for the next stored run of `shop` after `after` runs. */
  const nextRun = async (after: number, timeoutMs: number) => {
    await eventually('the next canary run', async () => (await runs()).length > after, timeoutMs);
    return (await runs())[0]!;
  };

  beforeAll(async () => {
    site = await startCanarySite(cleanups, 'nginx-fa', (url) =>
      [
        `  - name: shop`,
        `    url: ${url}`,
        `    bouncer: nginx-fa`,
        `    every: ${EVERY_MS / 1000}s`,
        `    address: ${ADDRESS}`,
        `    timeout: 5s`,
        // A bouncer that never pulls: its canary runs only when a test asks (every 1h).
        `  - name: ghost`,
        `    url: ${url}`,
        `    bouncer: ghost-bouncer`,
        `    every: 1h`,
        `    address: 198.51.100.99`,
        `    timeout: 1500ms`,
      ].join('\n'),
    );
    ({ lapi, url } = site);
    await lapi.addBouncer('ghost-bouncer');
    writeConf(true);
    const nginx = await startTestNginx(lapi.dir, url);
    cleanups.push(() => stopNginx(nginx));
  }, 60_000);

  it("a working site: the scheduled canary passes (403 once the daemon pulled), no issue, the decision is gone and was marked as the canary's", async () => {
    const run = await nextRun(0, EVERY_MS + 15_000);
    expect(run).toMatchObject({ verdict: 'pass', failedStep: null, answerStatus: 403, decisionRemoved: true, bouncerName: 'nginx-fa', address: ADDRESS });
    expect(run.pulledAfterMs).toBeGreaterThanOrEqual(0);
    expect(run.pulledAfterMs).toBeLessThan(5000);
    expect(run.enforcedAfterMs).toBeGreaterThanOrEqual(run.pulledAfterMs!);
    expect(run.steps.map((s) => s.step)).toEqual(['baseline', 'add', 'wait', 'check', 'remove']);
    expect(await lapi.openIssues('remediation_not_enforced')).toEqual([]);
    expect(await lapi.activeFor(ADDRESS)).toBe(0);
    // The decision as other bouncers saw it: marked as the canary's, short-lived, and deleted.
    const d = (await decisionsChangedSince(lapi.server.store, 0)).find((x) => String(x.id) === run.decisionId)!;
    expect(d).toMatchObject({ origin: 'vigil-canary', scenario: 'vigil-canary shop', value: ADDRESS, type: 'ban' });
    expect(d.deletedAt).not.toBeNull();
    expect(d.until - d.createdAt).toBeLessThanOrEqual(5000 + 2000 + 30_000 + 1000);
  }, 30_000);

  it('auth_request removed from the site: remediation_not_enforced (Critical) within one interval, step check, integration first; back: resolved', async () => {
    const before = (await runs()).length;
    writeConf(false);
    reload();
    const t0 = Date.now();
    // The run in flight when the conf changed may still pass; the next one fails.
    await eventually('the issue opened', async () => (await lapi.openIssues('remediation_not_enforced')).length > 0, 2 * EVERY_MS + 20_000);
    const elapsed = Date.now() - t0;
    const failed = (await runs()).find((r) => r.verdict === 'fail')!;
    // At most one interval until the next run starts, plus that run (the wait for the pull and the settle).
    expect(elapsed).toBeLessThan(EVERY_MS + failed.totalMs + 2000);
    expect((await runs()).length).toBeGreaterThan(before);
    expect(failed).toMatchObject({ failedStep: 'check', answerStatus: 200, decisionRemoved: true });
    const [issue] = await lapi.openIssues('remediation_not_enforced');
    expect(issue).toMatchObject({ criticality: 'critical', subject: 'canary:shop', bouncerName: 'nginx-fa' });
    expect(issue!.summary).toContain(`${url} does not block ${ADDRESS} (step check failed)`);
    expect((issue!.evidence.causes as LikelyCause[]).map((c) => c.cause)).toEqual(['integration_not_loaded', 'client_address_not_passed']);
    expect(await lapi.activeFor(ADDRESS)).toBe(0);

    writeConf(true);
    reload();
    await eventually('the issue resolved', async () => (await lapi.openIssues('remediation_not_enforced')).length === 0, 2 * EVERY_MS + 20_000);
    expect((await runs())[0]).toMatchObject({ verdict: 'pass', answerStatus: 403 });
    expect(await lapi.activeFor(ADDRESS)).toBe(0);
  }, 60_000);

  it('a bouncer that never pulls: step wait fails, cause decision_not_pulled, the decision removed', async () => {
    const run = (await lapi.server.canaries.runNow('ghost'))!;
    expect(run).toMatchObject({ verdict: 'fail', failedStep: 'wait', pulledAfterMs: null, decisionRemoved: true });
    const issue = (await lapi.openIssues('remediation_not_enforced')).find((i) => i.subject === 'canary:ghost')!;
    expect((issue.evidence.causes as LikelyCause[])[0]!.cause).toBe('decision_not_pulled');
    expect(await lapi.activeFor('198.51.100.99')).toBe(0);
  }, 20_000);

  it('shutdown during a run: the run is aborted and its decision removed before the store closes', async () => {
    // Every bouncer pulls a canary's decision, nginx-fa too: its removal reaches them at their next pull.
    await eventually('nginx-fa pulled the removal', async () => (await request(url, '/', viaProxy('198.51.100.99'))).status === 200, 5000);
    const running = lapi.server.canaries.runNow('ghost');
    await eventually('the ghost decision added', async () => (await lapi.activeFor('198.51.100.99')) === 1, 5000);
    await lapi.server.canaries.stop();
    const run = (await running)!;
    expect(run).toMatchObject({ verdict: 'aborted', decisionRemoved: true });
    expect(await lapi.activeFor('198.51.100.99')).toBe(0);
  }, 20_000);
});
