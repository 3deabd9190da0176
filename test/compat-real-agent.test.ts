import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crowdsecBouncersAvailable, startCustomBouncer } from './support/crowdsec-bouncers.ts';
import { startCrowdsecAgent, type CrowdsecAgent } from './support/crowdsec-agent.ts';
import { crowdsecAvailable, startCrowdsec, type CrowdsecInstance } from './support/crowdsec-instance.ts';
import { startRecordingProxy, toFixture, type RecordedExchange, type RecordingProxy } from './support/recording-proxy.ts';

/**
 * The real CrowdSec 1.4.6 agent (Debian's `crowdsec` binary, agent only) reading an SSH brute force
 * from a log file and pushing the alert to a Local API, first the REAL CrowdSec LAPI (the reference:
 * what the agent sends and what it is answered), recorded through a proxy. The recordings are the
 * fixtures test/fixtures/crowdsec-1.4.6/agent-*.json (VIGIL_WRITE_FIXTURES=1 rewrites them; the
 * heartbeat one waits for the agent's first heartbeat, 60 s after its login); without that the
 * test checks that today's traffic still has the recorded shape.
 */
const cs = crowdsecAvailable();
const bouncers = crowdsecBouncersAvailable();
const FIXTURES = path.resolve(import.meta.dirname, 'fixtures/crowdsec-1.4.6');
const WRITE = process.env.VIGIL_WRITE_FIXTURES === '1';
const ATTACKER = '192.0.2.77';
const AGENT_LOGIN = 'agent-ssh-1';
const AGENT_PASSWORD = 'agent-test-password-0123456789abcdef';

/** The keys of a JSON value, recursively (arrays by their first element): the shape we compare. */
function shape(v: unknown): unknown {
  if (Array.isArray(v)) return v.length ? [shape(v[0])] : [];
  if (v && typeof v === 'object')
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, shape((v as Record<string, unknown>)[k])]),
    );
  return v === null ? null : typeof v;
}

describe.skipIf(!cs.available && !process.env.CI)(
  `real CrowdSec 1.4.6 agent against the real CrowdSec LAPI (reference)${cs.available ? '' : ` (skipped: ${cs.reason})`}`,
  () => {
    let work: string;
    let lapi: CrowdsecInstance;
    let proxy: RecordingProxy;
    let agent: CrowdsecAgent;

    beforeAll(async () => {
      work = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-agent-ref-'));
      lapi = await startCrowdsec({ workDir: work });
      proxy = await startRecordingProxy(lapi.url);
      await lapi.cscli(['machines', 'add', AGENT_LOGIN, '--password', AGENT_PASSWORD, '-f', path.join(work, 'unused-credentials.yaml'), '--force']);
      agent = await startCrowdsecAgent({ workDir: work, lapiUrl: proxy.url, login: AGENT_LOGIN, password: AGENT_PASSWORD });
    });

    afterAll(async () => {
      await agent?.destroy();
      await proxy?.close();
      await lapi?.destroy();
      if (work) fs.rmSync(work, { recursive: true, force: true });
    });

    it('logs in, reads the brute force from auth.log, pushes the ssh-bf alert, and the LAPI bans the source', async () => {
      const key = await lapi.addBouncer('ref-custom');
      const bouncer = bouncers.custom ? await startCustomBouncer({ apiUrl: lapi.url, apiKey: key, workDir: work }) : undefined;
      try {
        agent.appendSshBruteForce(ATTACKER);
        await agent.waitForLog(`Ip ${ATTACKER} performed 'crowdsecurity/ssh-bf'`, 20_000);
        const push = await proxy.waitFor((x) => x.method === 'POST' && x.path === '/v1/alerts', 20_000);
        const logins = proxy.exchanges().filter((x) => x.path === '/v1/watchers/login');
        expect(logins.length).toBeGreaterThanOrEqual(1);
        for (const login of logins) {
          expect(login.requestHeaders['user-agent']).toMatch(/^crowdsec\/v1\.4\.6/);
          const body = JSON.parse(login.requestBody);
          expect(body).toMatchObject({ machine_id: AGENT_LOGIN, password: AGENT_PASSWORD });
          expect([...body.scenarios].sort()).toEqual(['crowdsecurity/ssh-bf', 'crowdsecurity/ssh-slow-bf']);
          expect(login.status).toBe(200);
          expect(JSON.parse(login.responseBody)).toMatchObject({ code: 200, token: expect.stringMatching(/^eyJ/) });
        }

        expect(push.requestHeaders.authorization).toMatch(/^Bearer eyJ/);
        const alerts = JSON.parse(push.requestBody) as Array<Record<string, unknown>>;
        const bf = alerts.find((a) => a.scenario === 'crowdsecurity/ssh-bf');
        expect(bf).toMatchObject({
          capacity: 5,
          leakspeed: '10s',
          decisions: null,
          remediation: true,
          simulated: false,
          scenario_version: expect.any(String),
          scenario_hash: expect.stringMatching(/^[0-9a-f]{64}$/),
          source: { ip: ATTACKER, scope: 'Ip', value: ATTACKER },
        });
        expect(bf!.events_count).toBeGreaterThanOrEqual(6);
        expect(push.status).toBe(201);
        const ids = JSON.parse(push.responseBody) as unknown[];
        expect(ids).toHaveLength(alerts.length);
        for (const id of ids) expect(id).toMatch(/^\d+$/);

        // The default profile (ban 4h) turned the alert into a decision a real bouncer gets.
        if (bouncer) {
          const add = await bouncer.waitFor((e) => e.action === 'add' && e.value === ATTACKER, 15_000);
          expect(add.decision).toMatchObject({ origin: 'crowdsec', scope: 'Ip', type: 'ban', scenario: expect.stringMatching(/^crowdsecurity\/ssh-bf/) });
          expect(add.seconds).toBeGreaterThan(4 * 3600 - 60);
        }

        const replace: Array<[string, string]> = [
          [agent.authLog, '/var/log/auth.log'],
          [new URL(proxy.url).host, '127.0.0.1:8080'],
        ];
        const fixtures: Record<string, RecordedExchange> = { 'agent-login.json': logins[0]!, 'agent-alerts-post.json': push };
        if (WRITE) {
          const hb = await proxy.waitFor((x) => x.path === '/v1/heartbeat', 70_000);
          fixtures['agent-heartbeat.json'] = hb;
          for (const [file, x] of Object.entries(fixtures)) {
            const note =
              file === 'agent-heartbeat.json'
                ? { note: `crowdsec 1.4.6 agent: first heartbeat ${hb.at - logins[0]!.at} ms after its first login; then every 60 s` }
                : { note: `crowdsec 1.4.6 agent (agent only: -no-api -no-capi) against the real 1.4.6 LAPI; ${logins.length} logins seen at start` };
            fs.writeFileSync(path.join(FIXTURES, file), `${JSON.stringify({ ...note, ...toFixture(x, replace) }, null, 2)}\n`);
          }
        }
        // Today's traffic has the recorded shape (keys and types, not values).
        for (const [file, x] of Object.entries(fixtures)) {
          const recorded = JSON.parse(fs.readFileSync(path.join(FIXTURES, file), 'utf8'));
          const now = toFixture(x, replace);
          expect(shape(now.request.body), file).toEqual(shape(recorded.request.body));
          expect(now.response.status, file).toBe(recorded.response.status);
          expect(shape(now.response.body), file).toEqual(shape(recorded.response.body));
        }
      } finally {
        await bouncer?.stop();
      }
    });

    it('logs in again after a restart and keeps reading the same auth.log', async () => {
      await agent.stop();
      proxy.clear();
      await agent.start();
      const from = agent.logs().length;
      agent.appendSshBruteForce('192.0.2.78');
      await agent.waitForLog("Ip 192.0.2.78 performed 'crowdsecurity/ssh-bf'", 20_000, from);
      const push = await proxy.waitFor((x) => x.method === 'POST' && x.path === '/v1/alerts', 20_000);
      expect(push.status).toBe(201);
      expect(proxy.exchanges().some((x) => x.path === '/v1/watchers/login' && x.status === 200)).toBe(true);
      const { stdout } = await lapi.cscli(['alerts', 'list', '-o', 'json']);
      const listed = JSON.parse(stdout) as Array<{ scenario: string; source: { value: string }; machine_id: string }>;
      expect(
        listed
          .filter((a) => a.scenario === 'crowdsecurity/ssh-bf')
          .map((a) => a.source.value)
          .sort(),
      ).toEqual([ATTACKER, '192.0.2.78']);
      expect(listed.every((a) => a.machine_id === AGENT_LOGIN)).toBe(true);
    });
  },
);
