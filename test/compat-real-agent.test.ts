import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { createLogger, startServer, type RunningServer } from '../src/app/serve.ts';
import { loadConfig } from '../src/config/config.ts';
import { ManualClock } from '../src/lib/clock.ts';
import { getMachine } from '../src/store/machines.ts';
import { crowdsecBouncersAvailable } from './support/crowdsec-bouncers.ts';
import { startCustomBouncer, type CustomBouncerHandle } from './support/custom-bouncer.ts';
import { startCrowdsecAgent, type CrowdsecAgent } from './support/crowdsec-agent.ts';
import { crowdsecAvailable, startCrowdsec, type CrowdsecInstance } from './support/crowdsec-instance.ts';
import { startRecordingProxy, toFixture, type RecordedExchange, type RecordingProxy } from './support/recording-proxy.ts';
import { startVigilServe, type VigilServe } from './support/vigil-serve.ts';
import { until } from './support/wait.ts';
import { openHealthIssues } from '../src/store/health-issues.ts';
import { useCleanups } from './support/cleanups.ts';

/**
 * The real CrowdSec 1.4.6 agent (Debian's `crowdsec` binary, agent only) reading an SSH brute force
 * from a log file and pushing the alert to a Local API, first the REAL CrowdSec LAPI (the reference:
 * what the agent sends and what it is answered), recorded through a proxy. The recordings are the
 * fixtures test/fixtures/crowdsec-1.4.6/agent-*.json (VIGIL_WRITE_FIXTURES=1 rewrites them; the
 * heartbeat one waits for the agent's first heartbeat, 60 s after its login); without that the
 * test checks that today's traffic still has the recorded shape.
 *
 * Then the same against Vigil: the agent with credentials from `vigil machines add NAME --auto -f
 * FILE --url URL` pushes the brute force to `vigil serve` (a child process) and Debian's real
 * crowdsec-custom-bouncer pulling from Vigil gets the ban; the real `cscli` 1.4.6 with those
 * credentials adds, lists, deletes decisions and lists alerts. And the machine's health: an agent
 * whose heartbeats arrive keeps lp_offline closed, a stopped one opens it (an in-process Vigil on
 * a manual clock, the agent's real 60 s heartbeat).
 */
const exec = promisify(execFile);
const BIN = path.resolve(import.meta.dirname, '../bin/vigil.js');
const cs = crowdsecAvailable();
const bouncers = crowdsecBouncersAvailable();
/** The real agent, cscli and the custom bouncer; in CI they must all be there. */
const skip = (!cs.available || !bouncers.custom) && !process.env.CI;
const skipReason = !cs.available ? ` (skipped: ${cs.reason})` : !bouncers.custom ? ` (skipped: ${bouncers.reason})` : '';
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

// The lp_offline test waits for the agent's first real heartbeat, 60 s after its login: its Vigil
// and agent start with the file, so that minute passes while the other tests run.
const hb = {
  OFFLINE_AFTER: 10 * 60_000,
  clock: new ManualClock(Date.now()),
  work: '',
  server: undefined as RunningServer | undefined,
  agent: undefined as CrowdsecAgent | undefined,
  proxy: undefined as RecordingProxy | undefined,
};
beforeAll(async () => {
  if (skip) return;
  hb.work = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-agent-health-'));
  const db = `sqlite:${path.join(hb.work, 'vigil.db')}`;
  const config = loadConfig({ flags: { listen: '127.0.0.1:0', db, metricsListen: '127.0.0.1:0' }, env: {}, cwd: '/nonexistent' });
  config.health.evaluateEveryMs = 0; // evaluated by hand
  config.health.offlineAfterMs = hb.OFFLINE_AFTER;
  hb.server = await startServer(config, { clock: hb.clock, log: createLogger('silent') });
  const credsFile = path.join(hb.work, 'agent.yaml');
  await exec(process.execPath, [BIN, 'machines', 'add', 'agent-hb', '--auto', '-f', credsFile, '--url', `${hb.server.url}/`, '--db', db], { cwd: hb.work });
  const c = YAML.parse(fs.readFileSync(credsFile, 'utf8')) as Credentials;
  hb.proxy = await startRecordingProxy(`${hb.server.url}/`);
  hb.agent = await startCrowdsecAgent({ workDir: hb.work, lapiUrl: hb.proxy.url, login: c.login, password: c.password });
});
afterAll(async () => {
  await hb.agent?.destroy();
  await hb.proxy?.close();
  await hb.server?.close();
  if (hb.work) fs.rmSync(hb.work, { recursive: true, force: true });
});

describe.skipIf(skip)(`real CrowdSec 1.4.6 agent against the real CrowdSec LAPI (reference)${skipReason}`, () => {
  const cleanups = useCleanups('all');
  let work: string;
  let lapi: CrowdsecInstance;
  let proxy: RecordingProxy;
  let agent: CrowdsecAgent;

  beforeAll(async () => {
    work = cleanups.tempDir('vigil-agent-ref-');
    lapi = await startCrowdsec({ workDir: work });
    cleanups.push(() => lapi.destroy());
    proxy = await startRecordingProxy(lapi.url);
    cleanups.push(() => proxy.close());
    await lapi.cscli(['machines', 'add', AGENT_LOGIN, '--password', AGENT_PASSWORD, '-f', path.join(work, 'unused-credentials.yaml'), '--force']);
    agent = await startCrowdsecAgent({ workDir: work, lapiUrl: proxy.url, login: AGENT_LOGIN, password: AGENT_PASSWORD });
    cleanups.push(() => agent.destroy());
  });

  it('logs in, reads the brute force from auth.log, pushes the ssh-bf alert, and the LAPI bans the source', async () => {
    const key = await lapi.addBouncer('ref-custom');
    const bouncer = await startCustomBouncer({ apiUrl: lapi.url, apiKey: key, workDir: work });
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
      const add = await bouncer.waitFor((e) => e.action === 'add' && e.value === ATTACKER, 15_000);
      expect(add.decision).toMatchObject({ origin: 'crowdsec', scope: 'Ip', type: 'ban', scenario: expect.stringMatching(/^crowdsecurity\/ssh-bf/) });
      expect(add.seconds).toBeGreaterThan(4 * 3600 - 60);

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
});

interface Credentials {
  url: string;
  login: string;
  password: string;
}

describe.skipIf(skip)(`real CrowdSec 1.4.6 agent, cscli and bouncer against vigil serve${skipReason}`, () => {
  const cleanups = useCleanups('all');
  let vigil: VigilServe;
  let agent: CrowdsecAgent;
  let creds: Credentials;
  let bouncer: CustomBouncerHandle;
  const cscli = async (...args: string[]) => {
    try {
      const r = await exec('cscli', ['-c', agent.configPath, ...args], { timeout: 30_000 });
      return { stdout: r.stdout, stderr: r.stderr };
    } catch (e) {
      const err = e as Error & { stderr?: string; stdout?: string };
      throw new Error(`cscli ${args.join(' ')} failed: ${err.stderr?.trim() || err.message}\n${err.stdout ?? ''}\nvigil log:\n${vigil.logs().slice(-3000)}`);
    }
  };

  beforeAll(async () => {
    const work = cleanups.tempDir('vigil-agent-e2e-');
    vigil = await startVigilServe({ workDir: work, configLines: ['activity_flush_every: 250ms'] });
    cleanups.push(() => vigil.stop());
    const credsFile = path.join(work, 'agent-credentials.yaml');
    await vigil.cli('machines', 'add', 'agent-e2e', '--auto', '-f', credsFile, '--url', vigil.url);
    creds = YAML.parse(fs.readFileSync(credsFile, 'utf8')) as Credentials;
    agent = await startCrowdsecAgent({ workDir: work, lapiUrl: creds.url, login: creds.login, password: creds.password });
    cleanups.push(() => agent.destroy());
    const key = (await vigil.cli('bouncers', 'add', 'agent-e2e-bouncer', '-o', 'raw')).trim();
    bouncer = await startCustomBouncer({ apiUrl: vigil.url, apiKey: key, workDir: work });
    cleanups.push(() => bouncer.stop());
  });

  it('vigil machines add --auto -f writes the credentials the agent reads (url, login, password)', () => {
    expect(creds.url).toBe(vigil.url);
    expect(creds.login).toBe('agent-e2e');
    expect(creds.password).toMatch(/^\S{32,}$/);
  });

  it('the agent pushes the SSH brute force to Vigil and a real bouncer pulling from Vigil gets the ban', async () => {
    agent.appendSshBruteForce(ATTACKER);
    await agent.waitForLog(`Ip ${ATTACKER} performed 'crowdsecurity/ssh-bf'`, 20_000);
    const add = await bouncer
      .waitFor((e) => e.action === 'add' && e.value === ATTACKER, 20_000)
      .catch((e: Error) => {
        throw new Error(`${e.message}\nagent log:\n${agent.logs().slice(-3000)}\nvigil log:\n${vigil.logs().slice(-3000)}`);
      });
    expect(add.decision).toMatchObject({
      origin: 'crowdsec',
      scope: 'Ip',
      type: 'ban',
      value: ATTACKER,
      scenario: expect.stringMatching(/^crowdsecurity\/ssh-bf/),
    });
    expect(add.seconds).toBeGreaterThan(4 * 3600 - 60);
    expect(add.seconds).toBeLessThanOrEqual(4 * 3600);
    // Nothing in the agent's log says Vigil refused it.
    expect(agent.logs()).not.toMatch(/level=(error|fatal)[^\n]*(api|alert|login|401|403|500)/i);
  });

  it('real cscli 1.4.6 with the machine credentials: decisions add, list (human and json), delete, alerts list', async () => {
    const add = await cscli('decisions', 'add', '--ip', '192.0.2.99', '--duration', '10m', '--reason', 'proof e2e');
    expect(add.stderr).toContain('Decision successfully added');
    const ev = await bouncer.waitFor((e) => e.action === 'add' && e.value === '192.0.2.99', 10_000);
    expect(ev.decision).toMatchObject({ origin: 'cscli', scenario: 'proof e2e', type: 'ban', scope: 'Ip' });

    const human = (await cscli('decisions', 'list')).stdout;
    expect(human).toMatch(/\|\s*ID\s*\|\s*Source\s*\|\s*Scope:Value\s*\|/);
    expect(human).toContain('Ip:192.0.2.99');
    expect(human).toContain(`Ip:${ATTACKER}`);
    expect(human).toContain('proof e2e');

    const json = JSON.parse((await cscli('decisions', 'list', '-o', 'json')).stdout) as Array<Record<string, unknown>>;
    const reference = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'cscli-decisions-list.json'), 'utf8')) as Array<Record<string, unknown>>;
    const manual = json.find((a) => (a.source as { value: string }).value === '192.0.2.99');
    expect(manual).toBeDefined();
    expect(Object.keys(manual!).sort()).toEqual(Object.keys(reference[0]!).sort());
    expect(manual).toMatchObject({ scenario: 'proof e2e', machine_id: 'agent-e2e', decisions: [{ value: '192.0.2.99', origin: 'cscli', type: 'ban' }] });
    const fromAgent = json.filter((a) => (a.source as { value: string }).value === ATTACKER);
    expect(fromAgent.map((a) => a.scenario)).toContain('crowdsecurity/ssh-bf');

    const del = await cscli('decisions', 'delete', '--ip', '192.0.2.99');
    expect(del.stderr).toContain('1 decision(s) deleted');
    await bouncer.waitFor((e) => e.action === 'del' && e.value === '192.0.2.99', 10_000);
    const after = (await cscli('decisions', 'list')).stdout;
    expect(after).not.toContain('Ip:192.0.2.99');

    const alerts = (await cscli('alerts', 'list')).stdout;
    expect(alerts).toContain('crowdsecurity/ssh-bf');
    expect(alerts).toContain(`Ip:${ATTACKER}`);
  });

  it('vigil machines list shows the agent with its version from the User-Agent', async () => {
    const rows = JSON.parse(await vigil.cli('machines', 'list', '-o', 'json')) as Array<Record<string, unknown>>;
    expect(rows.find((r) => r.machineId === 'agent-e2e')).toMatchObject({
      isValidated: true,
      version: expect.stringMatching(/^v1\.4\.6/),
      ipAddress: '127.0.0.1',
    });
  });

  it('an attacker in an allowlist: the agent detects and pushes the brute force, Vigil drops the alert, nothing is banned', async () => {
    // CrowdSec 1.4.6's agent knows nothing of allowlists: the Local API drops the alert (1.6.6+'s isAllowListed).
    const SAFE = '192.0.2.200';
    await vigil.cli('allowlists', 'create', 'office', '-d', 'office network');
    await vigil.cli('allowlists', 'add', 'office', '192.0.2.128/25', '-d', 'vpn');
    agent.appendSshBruteForce(SAFE);
    await agent.waitForLog(`Ip ${SAFE} performed 'crowdsecurity/ssh-bf'`, 20_000);
    await until(
      'vigil drops the allowlisted alert',
      () => (vigil.logs().includes(`alert source ${SAFE} is allowlisted by 192.0.2.128/25 from office (vpn), skipping`) ? true : undefined),
      () => `vigil log:\n${vigil.logs().slice(-3000)}\nagent log:\n${agent.logs().slice(-3000)}`,
    );
    const listed = (JSON.parse(await vigil.cli('decisions', 'list', '-o', 'json')) ?? []) as Array<{ source: { value: string } }>;
    expect(listed.map((a) => a.source.value)).not.toContain(SAFE);
    expect(bouncer.events().some((e) => e.value === SAFE)).toBe(false);
    // The push itself was accepted (201 with no alert id), so the agent logs no error.
    expect(agent.logs()).not.toMatch(/level=(error|fatal)[^\n]*(api|alert|401|403|500)/i);
    await vigil.cli('allowlists', 'delete', 'office');
  });
});

describe.skipIf(skip)(`lp_offline with the real CrowdSec 1.4.6 agent's heartbeats${skipReason}`, () => {
  const evaluate = async () => {
    await hb.server!.activity.flush();
    return hb.server!.health.evaluateNow();
  };
  const lpOffline = async () => (await openHealthIssues(hb.server!.store)).filter((i) => i.kind === 'lp_offline' && i.subject.includes('agent-hb'));

  it('silence opens lp_offline, the next real heartbeat closes it, and a stopped agent opens it again', async () => {
    const { clock, proxy, agent, OFFLINE_AFTER } = hb;
    const store = hb.server!.store;
    const firstLogin = await proxy!.waitFor((x) => x.path === '/v1/watchers/login' && x.status === 200, 15_000);
    // Heartbeats come every 60 s from the first login (agent-session.json): keep the clock jump
    // and its evaluation clear of the next one.
    const untilNext = 60_000 - ((Date.now() - firstLogin.at) % 60_000);
    if (untilNext < 3000) {
      // That heartbeat answered (not a fixed pause): the jump below comes after it.
      const since = Date.now() - 3000;
      await proxy!.waitFor((x) => x.path === '/v1/heartbeat' && x.at >= since, untilNext + 10_000);
    }
    await evaluate();
    expect(await lpOffline()).toEqual([]);

    // Vigil's clock jumps past offline_after: silence, lp_offline opens.
    proxy!.clear();
    clock.advance(OFFLINE_AFTER + 1000);
    await evaluate();
    expect((await lpOffline()).length).toBe(1);

    // The next real heartbeat arrives, stamped with Vigil's (moved) clock: the issue resolves.
    await until(
      'a heartbeat to resolve lp_offline',
      async () => {
        await evaluate();
        return (await lpOffline()).length === 0 ? true : undefined;
      },
      () => agent!.logs().slice(-3000),
      75_000,
    );
    // It was the heartbeat: nothing else reached Vigil since the clock moved.
    expect(proxy!.exchanges().map((x) => `${x.method} ${x.path} ${x.status}`)).toEqual(['GET /v1/heartbeat 200']);
    expect((await getMachine(store, 'agent-hb'))?.lastHeartbeatAt).toBe(clock.now());

    // Stopped: no heartbeat any more; past offline_after it opens again.
    await agent!.stop();
    clock.advance(OFFLINE_AFTER - 60_000);
    await evaluate();
    expect(await lpOffline()).toEqual([]);
    clock.advance(60_000 + 1000);
    await evaluate();
    const open = await lpOffline();
    expect(open.length).toBe(1);
    expect(open[0]!.summary).toContain("machine 'agent-hb'");
  }, 120_000);
});
