/**
 * Shared by the bouncer and forward-auth tests: a real `vigil serve` (SQLite, port 0) to pull from,
 * and a raw HTTP client that can pick its loopback source address (127.0.0.x) so a test plays
 * several clients and proxies.
 */
import type { ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { startServer, createLogger, type RunningServer } from '../src/app/serve.ts';
import { loadConfig } from '../src/config/config.ts';
import type { Clock } from '../src/lib/clock.ts';
import { generateApiKey, hashApiKey } from '../src/core/bouncers/api-key.ts';
import { buildDecision, manualAlert } from '../src/decisions/new-decisions.ts';
import { solvesChallenge } from '../src/remediation/captcha.ts';
import type { Bouncer } from '../src/remediation/index.ts';
import { loadForwardAuthConfig } from '../src/remediation/forward-auth/config.ts';
import { startForwardAuth, type ForwardAuthServer } from '../src/remediation/forward-auth/server.ts';
import { requestFrom, type Answer, type RequestFrom } from './support/http-from.ts';
import { stopChild } from './support/processes.ts';
import { createBouncer } from '../src/store/bouncers.ts';
import { addDecisions, softDeleteDecisions } from '../src/store/decisions.ts';

export interface TestLapi {
  server: RunningServer;
  /** `http://127.0.0.1:PORT/` */
  url: string;
  dir: string;
  /** Registers a bouncer and returns its key. */
  addBouncer(name: string): Promise<string>;
  /** Adds a decision and makes the server see it now; returns its id. */
  addDecision(scope: string, value: string, type?: string, duration?: string, origin?: string): Promise<number>;
  deleteDecision(id: number): Promise<void>;
  close(): Promise<void>;
}

/** `vigilYaml`: the server's vigil.yaml (e.g. its `canaries:`), else none; no system config file either way. */
export async function startTestLapi(clock: Clock, opts: { vigilYaml?: string } = {}): Promise<TestLapi> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bouncer-test-'));
  const configFile = path.join(dir, 'vigil.yaml');
  if (opts.vigilYaml !== undefined) fs.writeFileSync(configFile, opts.vigilYaml);
  const config = loadConfig({
    flags: {
      config: opts.vigilYaml === undefined ? undefined : configFile,
      listen: '127.0.0.1:0',
      db: `sqlite:${path.join(dir, 'vigil.db')}`,
      metricsListen: 'off',
    },
    env: {},
    cwd: dir,
    systemConfigFile: null,
  });
  config.health.evaluateEveryMs = 0;
  const server = await startServer(config, { clock, log: createLogger('silent') });
  let closed = false;
  return {
    server,
    url: `${server.url}/`,
    dir,
    async addBouncer(name) {
      const key = generateApiKey();
      await createBouncer(server.store, { name, apiKeyHash: hashApiKey(key), now: clock.now() });
      return key;
    },
    async addDecision(scope, value, type = 'ban', duration = '1h', origin = 'cscli') {
      const now = clock.now();
      const d = buildDecision({ scope, value, type, duration, reason: `test ${type}`, origin }, now);
      const { decisionIds } = await addDecisions(
        server.store,
        manualAlert({ now, scenario: d.scenario, scope: d.scope, value: d.value, count: 1, machineId: 'test' }),
        [d],
      );
      await server.sync.refresh();
      return decisionIds[0]!;
    },
    async deleteDecision(id) {
      await softDeleteDecisions(server.store, [id], clock.now());
      await server.sync.refresh();
    },
    async close() {
      if (closed) return;
      closed = true;
      await server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * One report cycle of an in-process bouncer against the test Local API: pull, push usage metrics,
 * make the Local API write the activity, observe drift, evaluate (the observation's own evaluation
 * runs in the background; this one settles the issues before the test reads them).
 */
export async function reportCycle(lapi: TestLapi, b: Bouncer): Promise<void> {
  await b.pull();
  const pushed = await b.pushUsageMetrics();
  if (pushed !== 'sent') throw new Error(`usage metrics not sent: ${pushed}`);
  await lapi.server.activity.flush();
  await lapi.server.drift.observeNow();
  await lapi.server.health.evaluateNow();
  // Report times are milliseconds: the next report must not share this one's.
  await new Promise((r) => setTimeout(r, 5));
}

/**
 * Vigil's forward-auth daemon (in process) as a bouncer of `apiUrl` with `key`, from a
 * `<name>.yaml` written in `dir` (listen 127.0.0.1:0, the captcha's signing key beside it);
 * resolves once its first pull is done.
 */
/** What a test's forward-auth daemon reads in its vigil-forward-auth.yaml. */
export interface ForwardAuthFileOptions {
  dir: string;
  /** The file is `{dir}/{name}.yaml`, its captcha signing key `{dir}/{name}-captcha.key`. */
  name: string;
  apiUrl: string;
  /** The bouncer key, or a `${VAR}` the daemon reads from its environment. */
  key: string;
  updateFrequency: string;
  trustedProxies: string[];
  unhealthyAfter?: string;
  captchaDifficulty?: number;
}

/** Writes the daemon's vigil-forward-auth.yaml, listening on a free loopback port; returns its path. */
export function writeForwardAuthFile(opts: ForwardAuthFileOptions): string {
  const file = path.join(opts.dir, `${opts.name}.yaml`);
  fs.writeFileSync(
    file,
    [
      `api_url: ${opts.apiUrl}`,
      `api_key: ${opts.key}`,
      'listen: 127.0.0.1:0',
      `update_frequency: ${opts.updateFrequency}`,
      ...(opts.unhealthyAfter ? [`unhealthy_after: ${opts.unhealthyAfter}`] : []),
      `trusted_proxies: [${opts.trustedProxies.join(', ')}]`,
      'captcha:',
      ...(opts.captchaDifficulty ? [`  difficulty: ${opts.captchaDifficulty}`] : []),
      `  signing_key_file: ${path.join(opts.dir, `${opts.name}-captcha.key`)}`,
    ].join('\n'),
  );
  return file;
}

export async function startForwardAuthDaemon(opts: ForwardAuthFileOptions): Promise<ForwardAuthServer> {
  const fa = await startForwardAuth(loadForwardAuthConfig(writeForwardAuthFile(opts)), { log: pino({ level: 'silent' }) });
  await fa.bouncer.ready();
  return fa;
}

/** One request on a fresh connection, from `localAddress` (default 127.0.0.1): support/http-from.ts's. */
export function request(base: string, p: string, opts: Pick<RequestFrom, 'method' | 'headers' | 'localAddress'> = {}): Promise<Answer> {
  return requestFrom(`${new URL(base).origin}${p}`, opts);
}

/** What a browser does with the challenge page: read the challenge, find the nonce. */
export function solvePage(html: string): { challenge: string; nonce: string } {
  const challenge = /data-challenge="([^"]+)"/.exec(html)?.[1];
  const difficulty = Number(/data-difficulty="(\d+)"/.exec(html)?.[1]);
  if (!challenge || !difficulty) throw new Error(`no challenge in the page:\n${html.slice(0, 500)}`);
  for (let n = 0; ; n++) {
    if (solvesChallenge(challenge, String(n), difficulty)) return { challenge, nonce: String(n) };
  }
}

export { freePort } from './support/processes.ts';

export { eventually } from './support/wait.ts';

export const randomName = (prefix: string): string => `${prefix}-${crypto.randomBytes(3).toString('hex')}`;

/** Collects the bouncer's log lines (pino-compatible logger). */
export function memoryLogger(): { lines: string[]; logger: { debug: Log; info: Log; warn: Log; error: Log } } {
  const lines: string[] = [];
  const at =
    (level: string): Log =>
    (obj, msg) =>
      lines.push(`${level} ${msg} ${JSON.stringify(obj)}`);
  return { lines, logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } };
}
type Log = (obj: object, msg: string) => void;

/** Stops a test's nginx: a graceful SIGQUIT, then SIGKILL if it is still there after 5 s. */
export function stopNginx(nginx: ChildProcess | undefined): Promise<void> {
  return stopChild(nginx, 'SIGQUIT');
}
