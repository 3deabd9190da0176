import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, freshDbUrl } from '../support/databases.ts';
import { startServer, createLogger, type RunningServer } from '../../src/app/serve.ts';
import { loadConfig } from '../../src/config/config.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import { hashApiKey } from '../../src/core/bouncers/api-key.ts';
import type { HealthIssue } from '../../src/core/model/health-issue.ts';
import { get } from './flood.ts';
import { createBouncer } from '../../src/store/bouncers.ts';
import { openHealthIssues } from '../../src/store/health-issues.ts';

/**
 * Issue 15: causes were attributed by peer address alone, so on a host running several bouncers
 * one bouncer's refusals were blamed on another, and the quick-start curl "bouncer" was blamed
 * for other clients' refusals. A refused request is a bouncer's when it carries its own key, or
 * comes from its address with its User-Agent product; a shared address lowers the confidence.
 */
const T0 = Date.UTC(2026, 10, 2, 0, 0, 0);
const H = 3600_000;
type Cause = { cause: string; confidence: string; evidence: string[] };
const causesOf = (i: HealthIssue) => i.evidence.causes as Cause[];

async function serverFor(dialect: (typeof DIALECTS)[number], clock: ManualClock) {
  const db = await freshDbUrl(dialect);
  const config = loadConfig({ flags: { listen: '127.0.0.1:0', db: db.url, metricsListen: '127.0.0.1:0' }, env: {}, cwd: '/nonexistent' });
  config.health.evaluateEveryMs = 0;
  const server = await startServer(config, { clock, log: createLogger('silent') });
  return { server, cleanup: db.cleanup };
}

for (const dialect of DIALECTS) {
  describe(`${dialect}: three bouncers on one address`, () => {
    let server: RunningServer;
    let cleanup: () => Promise<void>;
    const clock = new ManualClock(T0);
    const UA = { nginx: 'crowdsec-nginx-bouncer/v1.0.8', traefik: 'crowdsec-traefik-bouncer/v1.3.0', custom: 'crowdsec-custom-bouncer/v0.0.17' } as const;
    const pull = (name: keyof typeof UA) => get(server.url, '/v1/decisions/stream', { 'X-Api-Key': `${name}-key`, 'User-Agent': UA[name] }, '127.0.0.1');
    const wrongKey = (ua: string | undefined) =>
      get(server.url, '/v1/decisions/stream', { 'X-Api-Key': 'wrong-key', ...(ua ? { 'User-Agent': ua } : {}) }, '127.0.0.1');
    const evaluate = async () => {
      await server.activity.flush();
      await server.health.evaluateNow();
      return openHealthIssues(server.store);
    };

    beforeAll(async () => {
      ({ server, cleanup } = await serverFor(dialect, clock));
      for (const name of Object.keys(UA)) await createBouncer(server.store, { name, apiKeyHash: hashApiKey(`${name}-key`), now: clock.now() });
    });
    afterAll(async () => {
      await server?.close();
      await cleanup?.();
    });

    it('blames only the bouncer whose User-Agent the wrong key came with, with high confidence', async () => {
      for (const name of Object.keys(UA) as Array<keyof typeof UA>) expect(await pull(name)).toBe(200);
      // traefik's key is replaced by a wrong one: it retries (hourly here); the others keep pulling.
      for (let h = 1; h <= 24; h++) {
        clock.set(T0 + h * H);
        expect(await wrongKey(UA.traefik)).toBe(403);
        expect(await pull('nginx')).toBe(200);
        expect(await pull('custom')).toBe(200);
      }
      clock.set(T0 + 24 * H + 1000);
      const open = await evaluate();
      expect(open.map((i) => i.subject)).toEqual(['bouncer:traefik']);
      const [top] = causesOf(open[0]!);
      // Surely its own (address and a product no other bouncer there has), nothing succeeding: fail-open.
      expect(top).toMatchObject({ cause: 'fail_open', confidence: 'high' });
      expect(top!.evidence[0]).toMatch(/^24 request\(s\) refused since /);
      expect(top!.evidence.join('\n')).toContain('GET /v1/decisions/stream from 127.0.0.1 with User-Agent crowdsec-traefik-bouncer/v1.3.0');
    });

    it("does not blame another bouncer on the address for traefik's refusals, nor for a User-Agent matching none", async () => {
      // custom stops too (silent); traefik goes on failing; a client with a User-Agent of no bouncer,
      // and one without any, are refused from the same address.
      const customLast = T0 + 24 * H;
      for (let h = 25; h <= 48; h++) {
        clock.set(T0 + h * H);
        expect(await wrongKey(UA.traefik)).toBe(403);
        expect(await pull('nginx')).toBe(200);
      }
      expect(await wrongKey('mystery-client/1.0')).toBe(403);
      expect(await wrongKey(undefined)).toBe(403);
      clock.set(customLast + 24 * H + 1000);
      const open = await evaluate();
      expect(open.map((i) => i.subject).sort()).toEqual(['bouncer:custom', 'bouncer:traefik']);
      const custom = causesOf(open.find((i) => i.subject === 'bouncer:custom')!);
      expect(custom[0]!.cause).toBe('stopped_or_network');
      expect(custom.some((c) => c.cause === 'authentication' && c.confidence !== 'low')).toBe(false);
      // The request without a User-Agent could be any of the three: named, with low confidence.
      expect(custom.find((c) => c.cause === 'authentication')).toMatchObject({ confidence: 'low' });
      expect(custom.find((c) => c.cause === 'authentication')!.evidence.join('\n')).toContain("shared by 3 bouncers ('nginx', 'traefik', 'custom')");
      expect(custom[0]!.evidence.join('\n')).toMatch(/came with other User-Agents \(.*mystery-client\/1\.0.*\) and keys that are not its own/);
      // traefik's own cause stays what it was.
      expect(causesOf(open.find((i) => i.subject === 'bouncer:traefik')!)[0]).toMatchObject({ cause: 'fail_open', confidence: 'high' });
      // custom's low-confidence refusals never page it as failing open.
      expect(custom.some((c) => c.cause === 'fail_open')).toBe(false);
    });
  });

  describe(`${dialect}: the quick-start curl "bouncer"`, () => {
    let server: RunningServer;
    let cleanup: () => Promise<void>;
    const clock = new ManualClock(T0);

    beforeAll(async () => {
      ({ server, cleanup } = await serverFor(dialect, clock));
      await createBouncer(server.store, { name: 'quickstart', apiKeyHash: hashApiKey('qs-key'), now: clock.now() });
    });
    afterAll(async () => {
      await server?.close();
      await cleanup?.();
    });

    it("is not blamed for other clients' refusals from its address", async () => {
      // README quick start: curl -H "X-Api-Key: <key>" "http://127.0.0.1:8080/v1/decisions?ip=192.0.2.1"
      expect(await get(server.url, '/v1/decisions?ip=192.0.2.1', { 'X-Api-Key': 'qs-key', 'User-Agent': 'curl/8.5.0' }, '127.0.0.1')).toBe(200);
      const pulled = clock.now();
      for (let h = 1; h <= 20; h++) {
        clock.set(pulled + h * H);
        expect(await get(server.url, '/v1/decisions/stream', { 'X-Api-Key': 'nginx-wrong', 'User-Agent': 'crowdsec-nginx-bouncer/v1.0.8' }, '127.0.0.1')).toBe(
          403,
        );
        expect(await get(server.url, '/v1/decisions', { 'X-Api-Key': 'script-wrong', 'User-Agent': 'python-requests/2.31.0' }, '127.0.0.1')).toBe(403);
      }
      clock.set(pulled + 24 * H + 1000);
      await server.activity.flush();
      await server.health.evaluateNow();
      const issue = (await openHealthIssues(server.store)).find((i) => i.subject === 'bouncer:quickstart')!;
      const causes = causesOf(issue);
      expect(causes.map((c) => c.cause)).toEqual(['stopped_or_network']);
      expect(causes[0]!.evidence.join('\n')).toContain('40 refused request(s) from its address 127.0.0.1 came with other User-Agents');
    });
  });
}
