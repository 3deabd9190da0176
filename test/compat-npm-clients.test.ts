import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { crowdsecAvailable, startCrowdsec, type CrowdsecInstance } from './support/crowdsec-instance.ts';
import { startRecordingProxy, type RecordingProxy } from './support/recording-proxy.ts';
import { npmClientProject } from './support/npm-clients.ts';
import { startVigilServe, type VigilServe } from './support/vigil-serve.ts';
import { eventually } from './support/wait.ts';
import { useCleanups } from './support/cleanups.ts';

/**
 * Three npm packages nobody here wrote, installed from the npm registry into a temporary project
 * and driven by the plain-JS scripts in test/fixtures/npm-clients/: `crowdsec-client@1.0.0` (a
 * watcher: login, heartbeat, alerts push/search/get/delete, decisions delete; and its stream
 * BouncerClient), `@crowdsec/nodejs-bouncer@0.2.0` (live, stream, usage metrics) and
 * `@crowdsec/express-bouncer@0.1.0` (live, `null` when clean) in a real express app. Each scenario
 * runs first against the REAL CrowdSec 1.4.6 LAPI (the reference), then against `vigil serve`,
 * with a recording proxy in between so the test also sees what went over the wire.
 *
 * The install is cached in os.tmpdir() (keyed by the package list), so re-runs take no network.
 */
const exec = promisify(execFile);
const cs = crowdsecAvailable();
const MACHINE = 'npm-watcher';
const PASSWORD = 'npm-watcher-password-0123456789abcdef';
const BANNED = '192.0.2.50';
const RANGE = '198.51.100.0/24';
const IN_RANGE = '198.51.100.9';
const CLEAN = '203.0.113.99';
const WATCHER_IP = '203.0.113.60';

type Steps = Record<string, Record<string, unknown>>;

/** Runs one client script; its JSON step lines by step name (other output, e.g. pino logs, is skipped). */
async function runScript(project: string, script: string, env: Record<string, string>): Promise<Steps> {
  let stdout = '';
  let stderr = '';
  try {
    const r = await exec(process.execPath, [script], { cwd: project, env: { ...process.env, LOG_LEVEL: 'warn', ...env }, timeout: 60_000 });
    stdout = r.stdout;
    stderr = r.stderr;
  } catch (e) {
    const err = e as Error & { stdout?: string; stderr?: string };
    throw new Error(`${script} failed: ${err.message}\nstdout:\n${err.stdout}\nstderr:\n${err.stderr}`);
  }
  const steps: Steps = {};
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    const o = JSON.parse(line) as Record<string, unknown>;
    if (typeof o.error === 'string') throw new Error(`${script}: ${o.error}\n${JSON.stringify(o.response ?? '')}\nstderr:\n${stderr}`);
    if (typeof o.step === 'string') steps[o.step] = o;
  }
  if (!steps.done) throw new Error(`${script} did not finish:\n${stdout}\n${stderr}`);
  return steps;
}

/** What must hold for every LAPI, the reference and Vigil alike. */
interface Target {
  /** base URL without the trailing slash (as these packages want it) */
  base: string;
  key: string;
  proxy: RecordingProxy;
}

function scenarios(name: string, target: () => Target, opts: { usageMetrics: boolean }): void {
  it(`${name}: @crowdsec/nodejs-bouncer live, stream and usage metrics`, async () => {
    const { base, key, proxy } = target();
    proxy.clear();
    const s = await runScript(project, 'nodejs-bouncer.mjs', { LAPI_URL: base, BOUNCER_KEY: key, BANNED_IP: BANNED, RANGE_IP: IN_RANGE, CLEAN_IP: CLEAN });
    expect(s.health!.result).toEqual({ status: 'OK', error: null });
    expect(s['live-banned']!.result).toEqual({ remediation: 'ban', origin: 'cscli' });
    expect(s['live-range']!.result).toEqual({ remediation: 'ban', origin: 'cscli' });
    expect(s['live-clean']!.result).toEqual({ remediation: 'bypass', origin: 'clean' });
    expect(s['ban-wall']).toMatchObject({ status: 403, blocked: true });
    expect(s['stream-startup']).toMatchObject({ new: ['ban', 'ban'], deleted: 0 });
    expect(s['stream-delta']).toMatchObject({ new: 0, deleted: 0 });
    expect(s['stream-banned']!.result).toEqual({ remediation: 'ban', origin: 'cscli' });
    expect(s['stream-clean']!.result).toEqual({ remediation: 'bypass', origin: 'clean' });
    const wire = proxy.exchanges();
    const clean = wire.find((x) => x.path === `/v1/decisions?ip=${CLEAN}`);
    expect(clean?.responseBody).toBe('null');
    expect(wire.find((x) => x.path === '/v1/decisions/stream?startup=false')?.responseBody).toBe('{"deleted":null,"new":null}');
    const metrics = wire.find((x) => x.path === '/v1/usage-metrics');
    if (opts.usageMetrics) {
      // CrowdSec 1.6.3+ answers 201; the reference here (1.4.6) predates the endpoint (404).
      expect(s['usage-metrics']).toMatchObject({ ok: true });
      expect(metrics?.status).toBe(201);
    } else {
      expect(metrics?.status).toBe(404);
    }
  });

  it(`${name}: @crowdsec/express-bouncer passes a clean address and shows the ban wall to a banned one`, async () => {
    const { base, key, proxy } = target();
    proxy.clear();
    const s = await runScript(project, 'express-bouncer.cjs', { LAPI_URL: base, BOUNCER_KEY: key, BANNED_IP: BANNED, CLEAN_IP: CLEAN });
    expect(s.clean).toMatchObject({ status: 200, clear: true, banWall: false });
    expect(s.banned).toMatchObject({ status: 403, clear: false, banWall: true });
    const wire = proxy.exchanges();
    expect(wire.find((x) => x.method === 'HEAD' && x.path === '/v1/decisions')?.status).toBe(200);
    expect(wire.find((x) => x.path === `/v1/decisions?ip=${CLEAN}`)?.responseBody).toBe('null');
    expect(wire.every((x) => x.requestHeaders['user-agent'] === 'CrowdSec Express-NodeJS bouncer/v0.0.1')).toBe(true);
  });

  // Last: its filtered deletes (sent as a body) delete every decision and alert on CrowdSec, none on Vigil (400).
  it(`${name}: crowdsec-client watcher (login, heartbeat, alerts, decisions) and its stream bouncer`, async () => {
    const { base, key, proxy } = target();
    proxy.clear();
    const s = await runScript(project, 'watcher.mjs', { LAPI_URL: base, MACHINE_ID: MACHINE, PASSWORD, BOUNCER_KEY: key, IP: WATCHER_IP });
    expect(s.push!.ids).toEqual([expect.stringMatching(/^\d+$/)]);
    expect(s.search).toMatchObject({ count: 1, scenarios: ['npm/crowdsec-client-test'], decisions: [`ban:Ip:${WATCHER_IP}`] });
    expect(s['get-by-id']).toMatchObject({ scenario: 'npm/crowdsec-client-test', id: Number((s.push!.ids as string[])[0]) });
    expect(s['stream-added']!.decision).toEqual({ value: WATCHER_IP, type: 'ban', scope: 'ip', origin: 'cscli', scenario: 'npm/crowdsec-client-test' });
    expect(s['decision-delete-by-id']!.result).toEqual({ nbDeleted: '1' });
    expect(s['stream-deleted']!.decision).toEqual({ value: WATCHER_IP, type: 'ban' });
    expect(s['alert-delete-by-id']!.result).toEqual({ nbDeleted: '1' });
    expect(s['search-after-delete']).toMatchObject({ count: 0 });
    // The two cscli alerts (BANNED, RANGE) are left; the client's filter travels in the body,
    // which CrowdSec ignores: both decisions and both alerts go. Vigil refuses such a delete (400):
    // nothing goes.
    expect(s['active-before-filter-delete']).toMatchObject({ count: 2 });
    const wire = proxy.exchanges();
    if (name.startsWith('vigil')) {
      expect(s['decisions-delete-filter-in-body']!.message).toContain('DELETE /v1/decisions: filters go in the query string');
      expect(s['alerts-delete-filter-in-body']!.message).toContain('DELETE /v1/alerts: filters go in the query string');
      expect(wire.filter((x) => x.method === 'DELETE' && (x.path === '/v1/decisions' || x.path === '/v1/alerts')).map((x) => x.status)).toEqual([400, 400]);
      expect(s['alerts-left']).toMatchObject({ count: 2 });
    } else {
      expect(s['decisions-delete-filter-in-body']!.result).toEqual({ nbDeleted: '2' });
      expect(s['alerts-delete-filter-in-body']!.result).toEqual({ nbDeleted: '2' });
      expect(s['alerts-left']).toMatchObject({ count: 0 });
    }

    const login = wire.find((x) => x.path === '/v1/watchers/login');
    expect(login?.status).toBe(200);
    expect(JSON.parse(login!.requestBody)).toEqual({ scenarios: [], machine_id: MACHINE, password: PASSWORD });
    expect(login!.requestHeaders['user-agent']).toBe('node-crowdsec-client/v1.0.0');
    expect(wire.find((x) => x.method === 'HEAD' && x.path === '/v1/alerts')?.status).toBe(200);
    expect(wire.find((x) => x.path === '/v1/heartbeat')?.status).toBe(200);
    expect(wire.find((x) => x.method === 'POST' && x.path === '/v1/alerts')?.status).toBe(201);
    expect(wire.find((x) => x.path === `/v1/alerts?ip=${WATCHER_IP}` && x.responseBody === 'null')).toBeDefined();
  });
}

let project: string;

const skip = !cs.available && !process.env.CI;

describe.skipIf(skip)(`npm LAPI clients against the real CrowdSec 1.4.6 LAPI (reference)${cs.available ? '' : ` (skipped: ${cs.reason})`}`, () => {
  const cleanups = useCleanups('all');
  let target: Target;

  beforeAll(async () => {
    const work = cleanups.tempDir('vigil-npm-ref-');
    let lapi: CrowdsecInstance;
    [project, lapi] = await Promise.all([Promise.resolve().then(() => npmClientProject()), startCrowdsec({ workDir: work })]);
    cleanups.push(() => lapi.destroy());
    await lapi.cscli(['machines', 'add', MACHINE, '--password', PASSWORD, '-f', path.join(work, 'machine.yaml'), '--force']);
    const key = await lapi.addBouncer('npm-bouncer');
    await lapi.addDecision({ ip: BANNED, duration: '1h' });
    await lapi.addDecision({ range: RANGE, duration: '1h' });
    const proxy = await startRecordingProxy(lapi.url);
    cleanups.push(() => proxy.close());
    target = { base: proxy.url.slice(0, -1), key, proxy };
  }, 240_000);

  scenarios('real CrowdSec 1.4.6 LAPI', () => target, { usageMetrics: false });
});

// The npm registry is needed for the first install only; the real CrowdSec is not needed here.
describe('npm LAPI clients against vigil serve', () => {
  const cleanups = useCleanups('all');
  let target: Target;

  beforeAll(async () => {
    const work = cleanups.tempDir('vigil-npm-compat-');
    let vigil: VigilServe;
    [project, vigil] = await Promise.all([
      Promise.resolve().then(() => npmClientProject()),
      startVigilServe({ workDir: work, configLines: ['activity_flush_every: 250ms'] }),
    ]);
    cleanups.push(() => vigil.stop());
    await vigil.cli('machines', 'add', MACHINE, '--password', PASSWORD, '-f', path.join(work, 'machine.yaml'));
    const key = (await vigil.cli('bouncers', 'add', 'npm-bouncer', '-o', 'raw')).trim();
    await vigil.cli('decisions', 'add', '--ip', BANNED, '--duration', '1h');
    await vigil.cli('decisions', 'add', '--range', RANGE, '--duration', '1h');
    // The CLI is another process: the server takes its writes in within decisions_sync_every (250 ms),
    // where CrowdSec reads its database on every query. The scripts start as fast as that.
    await eventually('vigil serve answering the range the CLI added', async () => {
      const r = await fetch(`${vigil.url}v1/decisions?ip=${IN_RANGE}`, { headers: { 'X-Api-Key': key } });
      return (await r.text()) !== 'null';
    });
    const proxy = await startRecordingProxy(vigil.url);
    cleanups.push(() => proxy.close());
    target = { base: proxy.url.slice(0, -1), key, proxy };
  }, 240_000);

  scenarios('vigil serve', () => target, { usageMetrics: true });
});
