import type { ChildProcess } from 'node:child_process';
import { beforeAll, expect, it } from 'vitest';
import type { LikelyCause } from '../src/core/health/types.ts';
import { canaryRuns } from '../src/store/canaries.ts';
import { eventually } from './remediation-helpers.ts';
import { startCanarySite, type CanaryLapi, type CanarySite } from './support/canary-lapi.ts';
import { startTestCaddy } from './support/caddy.ts';
import { useCleanups } from './support/cleanups.ts';
import { describeIfProxy, documentedProxyBlock } from './support/forward-auth-cases.ts';
import { stopChild } from './support/processes.ts';

/**
 * Canaries against a real Debian Caddy (`forward_auth`, the docs/bouncer.md's block) in front of
 * Vigil's forward-auth daemon and a real `vigil serve` running the canary on its own schedule.
 * Caddy runs with its admin API off, so a changed Caddyfile means a restart (as `systemctl restart
 * caddy` would): without `forward_auth` the canary raises remediation_not_enforced, with it back the
 * issue resolves.
 */
const EVERY_MS = 3000;
const ADDRESS = '203.0.113.77';
describeIfProxy('caddy', 'canaries: real Caddy + Vigil forward-auth', () => {
  const cleanups = useCleanups('all');
  let site: CanarySite;
  let lapi: CanaryLapi;
  let caddy: ChildProcess | undefined;

  const startCaddy = async (withForwardAuth: boolean) => {
    await stopChild(caddy);
    const block = withForwardAuth ? documentedProxyBlock('caddy', new URL(site.fa.url).host) : '';
    caddy = await startTestCaddy(lapi.dir, site.port, block, site.upstream.port);
  };
  const runs = () => canaryRuns(lapi.server.store, { canary: 'caddy-site' });

  beforeAll(async () => {
    site = await startCanarySite(cleanups, 'caddy-fa', (url) =>
      [`  - name: caddy-site`, `    url: ${url}`, `    bouncer: caddy-fa`, `    every: ${EVERY_MS / 1000}s`, `    address: ${ADDRESS}`, `    timeout: 5s`].join(
        '\n',
      ),
    );
    lapi = site.lapi;
    cleanups.push(() => stopChild(caddy));
    await startCaddy(true);
  }, 60_000);

  it('a working site: the scheduled canary passes with 403, no issue, no decision left', async () => {
    await eventually('a canary run', async () => (await runs()).length > 0, EVERY_MS + 15_000);
    expect((await runs())[0]).toMatchObject({ verdict: 'pass', answerStatus: 403, decisionRemoved: true });
    expect(await lapi.openIssues('remediation_not_enforced')).toEqual([]);
    expect(await lapi.activeFor(ADDRESS)).toBe(0);
  }, 30_000);

  it('forward_auth removed: remediation_not_enforced within one interval; restored: resolved', async () => {
    await startCaddy(false);
    const t0 = Date.now();
    await eventually('the issue opened', async () => (await lapi.openIssues('remediation_not_enforced')).length > 0, 2 * EVERY_MS + 20_000);
    const failed = (await runs()).find((r) => r.verdict === 'fail')!;
    expect(Date.now() - t0).toBeLessThan(EVERY_MS + failed.totalMs + 2000);
    expect(failed).toMatchObject({ failedStep: 'check', answerStatus: 200, decisionRemoved: true });
    const [issue] = await lapi.openIssues('remediation_not_enforced');
    expect(issue).toMatchObject({ criticality: 'critical', subject: 'canary:caddy-site', bouncerName: 'caddy-fa' });
    expect((issue!.evidence.causes as LikelyCause[])[0]!.cause).toBe('integration_not_loaded');
    expect(await lapi.activeFor(ADDRESS)).toBe(0);

    await startCaddy(true);
    await eventually('the issue resolved', async () => (await lapi.openIssues('remediation_not_enforced')).length === 0, 2 * EVERY_MS + 20_000);
    expect((await runs())[0]).toMatchObject({ verdict: 'pass', answerStatus: 403 });
    expect(await lapi.activeFor(ADDRESS)).toBe(0);
  }, 60_000);
});
