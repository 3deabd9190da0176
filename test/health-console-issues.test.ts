import type http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LikelyCause } from '../src/core/health/types.ts';
import { issueRunbook } from '../src/core/health/issue-view.ts';
import { systemClock } from '../src/lib/clock.ts';
import { createBouncer, type Bouncer } from '../src/remediation/index.ts';
import { openHealthIssues } from '../src/store/health-issues.ts';
import { reportCycle, startTestLapi, type TestLapi } from './remediation-helpers.ts';
import { startStreamHop } from './support/stream-hop.ts';

/**
 * The Console's newest issues through a real `vigil serve` over real HTTP (SQLite; the store reads
 * run on both databases in src/store/console-inputs.test.ts): a firewall bouncer announcing an old
 * version, a decision on a private address, and Vigil's own bouncer library losing every decision
 * on a real HTTP hop (it then reports 0 active decisions in its usage metrics).
 */
describe("the Console's newest issues through vigil serve", () => {
  let lapi: TestLapi;
  let hop: http.Server;
  const bouncers: Bouncer[] = [];
  const open = async (kind: string) => (await openHealthIssues(lapi.server.store)).filter((i) => i.kind === kind);
  const evaluate = async () => {
    await lapi.server.activity.flush();
    await lapi.server.health.evaluateNow();
  };

  beforeAll(async () => {
    lapi = await startTestLapi(systemClock);
  });
  afterAll(async () => {
    for (const b of bouncers) await b.stop();
    await new Promise<void>((r) => (hop ? hop.close(() => r()) : r()));
    await lapi?.close();
  });

  it('Component Outdated from the version in a pull, resolved once it pulls with the current one', async () => {
    const key = await lapi.addBouncer('fw-edge');
    const pull = (ua: string) => fetch(`${lapi.url}v1/decisions/stream?startup=true`, { headers: { 'X-Api-Key': key, 'User-Agent': ua } });
    expect((await pull('crowdsec-firewall-bouncer/v0.0.25')).status).toBe(200);
    await evaluate();
    const [issue] = await open('component_outdated');
    expect(issue).toMatchObject({ criticality: 'recommended', subject: 'component:crowdsec-firewall-bouncer' });
    expect(issue!.summary).toContain('bouncer fw-edge runs v0.0.25');
    expect(issueRunbook(issue!, undefined, lapi.url, 'host')?.title).toBe('Component Outdated: a bouncer or agent runs an old version');
    expect((await pull('crowdsec-firewall-bouncer/v0.0.34')).status).toBe(200);
    await evaluate();
    expect(await open('component_outdated')).toEqual([]);
  });

  it('Blocking Known Safe IP on a private address, resolved when the decision is deleted', async () => {
    const id = await lapi.addDecision('Ip', '10.20.30.40');
    await evaluate();
    const [issue] = await open('blocking_safe_ip');
    expect(issue).toMatchObject({ criticality: 'high', subject: 'fleet' });
    expect(issue!.summary).toBe('1 active decision(s) block known-safe addresses (1 private): 10.20.30.40');
    expect((issue!.evidence.causes as LikelyCause[])[0]!.cause).toBe('proxy_address_judged');
    await lapi.deleteDecision(id);
    await evaluate();
    expect(await open('blocking_safe_ip')).toEqual([]);
  });

  it('Integration Pulling Zero IPs: two usage reports of 0 while the Local API sends it decisions, and no drift issue beside it', async () => {
    for (const v of ['1.2.3.4', '5.6.7.8', '9.9.9.9']) await lapi.addDecision('Ip', v);
    // A real HTTP hop that, once `emptying`, empties every stream answer: the bouncer pulls fine and holds nothing.
    let emptying = false;
    const through = await startStreamHop(new URL(lapi.url), (body) => (emptying ? Buffer.from('{"new":[],"deleted":[]}') : body));
    hop = through.server;
    const key = await lapi.addBouncer('empty-fw');
    const start = () => {
      const b = createBouncer({
        apiUrl: through.url,
        apiKey: key,
        usageMetricsInterval: '30m',
        name: 'empty-fw',
      });
      bouncers.push(b);
      return b;
    };
    let b = start();
    const report = () => reportCycle(lapi, b);
    // It works first: it reports what it holds (its reports carry active_decisions).
    await report();
    expect(b.cache.size).toBe(3);
    // Restarted behind the emptying hop: its reports now carry no active_decisions series, i.e. 0.
    await b.stop();
    emptying = true;
    b = start();
    await report();
    expect(b.cache.size).toBe(0);
    expect(await open('integration_zero_ips')).toEqual([]);
    await report();
    const [issue] = await open('integration_zero_ips');
    expect(issue).toMatchObject({ criticality: 'high', subject: 'bouncer:empty-fw', bouncerName: 'empty-fw' });
    expect(issue!.summary).toBe("bouncer 'empty-fw' reports 0 active decisions while the Local API sends it 3: it enforces nothing");
    expect(await open('remediation_drift')).toEqual([]);
  });
});
