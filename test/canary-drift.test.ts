import type http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LikelyCause } from '../src/core/health/types.ts';
import { buildDecision, manualAlert } from '../src/decisions/new-decisions.ts';
import { createBouncer, type Bouncer } from '../src/remediation/index.ts';
import { driftObservations, streamFilters } from '../src/store/canaries.ts';
import { startCanaryLapi, type CanaryLapi } from './support/canary-lapi.ts';
import { reportCycle } from './remediation-helpers.ts';
import { startStreamHop } from './support/stream-hop.ts';
import { getBouncer } from '../src/store/bouncers.ts';
import { addDecisions } from '../src/store/decisions.ts';

/**
 * Drift with real bouncers: Vigil's own bouncer library (it pushes usage metrics with
 * `active_decisions` per origin, src/remediation/usage-metrics.ts) pulling from a real `vigil serve`
 * that holds crowdsec- and cscli-origin decisions.
 *
 * - `lossy-fw` asks for everything but loses the cscli origin on its way (cs-firewall-bouncer #506:
 *   one origin silently omitted): a real HTTP hop in front of the Local API drops cscli decisions
 *   from its stream answers. Two reports in a row → remediation_drift with the numbers and cscli named.
 * - `crowdsec-only` has `origins: crowdsec` in its own query (recorded from its pulls): it holds what it
 *   asked for, but the five cscli bans the Local API holds never reach it, so that is drift too, with
 *   its own cause (origins_filtered) saying the filter is the bouncer's (cs #2014, cloudflare-worker #81).
 */
const CROWDSEC = ['198.51.100.10', '198.51.100.11', '198.51.100.12', '2001:db8::10'];
const CSCLI = ['203.0.113.20', '203.0.113.21', '203.0.113.22', '203.0.113.23', '203.0.113.24'];

describe('drift: real bouncers against what the Local API sends them', () => {
  let lapi: CanaryLapi;
  let lossyHop: http.Server;
  let lossyUrl = '';
  let dropCscli = true;
  const keys = new Map<string, string>();
  const bouncers: Bouncer[] = [];

  async function addDecision(origin: string, value: string) {
    const now = Date.now();
    const d = buildDecision({ scope: 'Ip', value, type: 'ban', duration: '1h', reason: `test ${origin}`, origin }, now);
    await addDecisions(lapi.server.store, manualAlert({ now, scenario: d.scenario, scope: d.scope, value: d.value, count: 1, machineId: 'test' }), [d]);
  }

  /** A real HTTP hop that forwards to the Local API and drops cscli decisions from stream answers. */
  async function startLossyHop(target: URL): Promise<string> {
    const hop = await startStreamHop(target, (body) => {
      if (!dropCscli) return body;
      const json = JSON.parse(body.toString('utf8')) as { new: { origin: string }[] | null; deleted: unknown };
      json.new = (json.new ?? []).filter((d) => d.origin !== 'cscli');
      return Buffer.from(JSON.stringify(json));
    });
    lossyHop = hop.server;
    return hop.url;
  }

  async function bouncer(name: string, apiUrl: string, over: { origins?: string[] } = {}): Promise<Bouncer> {
    const key = await lapi.addBouncer(name);
    keys.set(name, key);
    const b = createBouncer({ apiUrl, apiKey: key, usageMetricsInterval: '30m', name, ...over });
    bouncers.push(b);
    return b;
  }

  /** One report cycle: pull, push usage metrics, make the Local API write the activity, observe. */
  const report = (b: Bouncer) => reportCycle(lapi, b);

  beforeAll(async () => {
    lapi = await startCanaryLapi('  []');
    for (const v of CROWDSEC) await addDecision('crowdsec', v);
    for (const v of CSCLI) await addDecision('cscli', v);
  });

  afterAll(async () => {
    for (const b of bouncers) await b.stop();
    await new Promise<void>((r) => (lossyHop ? lossyHop.close(() => r()) : r()));
    await lapi?.close();
  });

  it('a bouncer that loses the cscli origin: one report is not enough, two in a row raise remediation_drift (High) with the numbers', async () => {
    lossyUrl = await startLossyHop(new URL(lapi.url));
    const lossy = await bouncer('lossy-fw', lossyUrl);
    await report(lossy);
    expect(lossy.cache.size).toBe(CROWDSEC.length);
    // Its stream query as the Local API recorded it: no origin filter.
    const id = (await getBouncer(lapi.server.store, 'lossy-fw'))!.id;
    expect((await streamFilters(lapi.server.store)).get(id)!.filters).toEqual({ scopes: ['ip', 'range'], dedup: true });
    expect(await lapi.openIssues('remediation_drift')).toEqual([]);

    await report(lossy);
    const [obs] = await driftObservations(lapi.server.store, new Map([[id, 'lossy-fw']]));
    expect(obs![0]).toMatchObject({
      reported: CROWDSEC.length,
      expected: CROWDSEC.length + CSCLI.length,
      byOrigin: { crowdsec: { reported: 4, expected: 4 }, cscli: { reported: 0, expected: 5 } },
    });
    const issues = await lapi.openIssues('remediation_drift');
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ criticality: 'high', subject: 'bouncer:lossy-fw', bouncerName: 'lossy-fw' });
    expect(issues[0]!.summary).toBe("bouncer 'lossy-fw' reports 4 active decisions, the Local API holds 9 for its scopes (none of origin cscli)");
    const cause = (issues[0]!.evidence.causes as LikelyCause[])[0]!;
    expect(cause.cause).toBe('origins_dropped');
    expect(cause.evidence).toContain('cscli: reports 0, sent 5');
  });

  it('a bouncer whose own origins filter drops cscli: drift, blamed on its filter, with the numbers', async () => {
    const filtered = await bouncer('crowdsec-only', lapi.url, { origins: ['crowdsec'] });
    await report(filtered);
    expect((await lapi.openIssues('remediation_drift')).map((i) => i.bouncerName)).toEqual(['lossy-fw']);
    await report(filtered);
    expect(filtered.cache.size).toBe(CROWDSEC.length);
    const id = (await getBouncer(lapi.server.store, 'crowdsec-only'))!.id;
    expect((await streamFilters(lapi.server.store)).get(id)!.filters).toMatchObject({ origins: ['crowdsec'] });
    const issues = await lapi.openIssues('remediation_drift');
    expect(issues.map((i) => i.bouncerName).sort()).toEqual(['crowdsec-only', 'lossy-fw']);
    const mine = issues.find((i) => i.bouncerName === 'crowdsec-only')!;
    expect(mine.summary).toBe(
      "bouncer 'crowdsec-only' reports 4 active decisions, the Local API holds 9 for its scopes (its origins filter leaves out cscli (5))",
    );
    const cause = (mine.evidence.causes as LikelyCause[])[0]!;
    expect(cause.cause).toBe('origins_filtered');
    expect(cause.evidence[0]).toBe('its own stream query leaves out origins the Local API holds active decisions of: cscli (5)');
  });

  it('the lossy hop fixed and the bouncer restarted (a full pull): its next report agrees and the issue resolves', async () => {
    dropCscli = false;
    const restarted = createBouncer({ apiUrl: lossyUrl, apiKey: keys.get('lossy-fw')!, usageMetricsInterval: '30m', name: 'lossy-fw' });
    bouncers.push(restarted);
    await report(restarted);
    expect(restarted.cache.size).toBe(CROWDSEC.length + CSCLI.length);
    expect((await lapi.openIssues('remediation_drift')).map((i) => i.bouncerName)).toEqual(['crowdsec-only']);
  });
});
