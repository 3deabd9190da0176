/**
 * Shared by the bouncer and forward-auth tests: a real `vigil serve` (SQLite, port 0) to pull from,
 * and a raw HTTP client that can pick its loopback source address (127.0.0.x) so a test plays
 * several clients and proxies.
 */
import type { ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startServer, createLogger, type RunningServer } from '../src/app/serve.ts';
import { loadConfig } from '../src/config/config.ts';
import type { Clock } from '../src/lib/clock.ts';
import { generateApiKey, hashApiKey } from '../src/core/bouncers/api-key.ts';
import { buildDecision, manualAlert } from '../src/decisions/new-decisions.ts';
import { solvesChallenge } from '../src/remediation/captcha.ts';

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

export async function startTestLapi(clock: Clock): Promise<TestLapi> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bouncer-test-'));
  const config = loadConfig({ flags: { listen: '127.0.0.1:0', db: `sqlite:${path.join(dir, 'vigil.db')}`, metricsListen: 'off' }, env: {}, cwd: dir });
  config.health.evaluateEveryMs = 0;
  const server = await startServer(config, { clock, log: createLogger('silent') });
  let closed = false;
  return {
    server,
    url: `${server.url}/`,
    dir,
    async addBouncer(name) {
      const key = generateApiKey();
      await server.store.createBouncer({ name, apiKeyHash: hashApiKey(key), now: clock.now() });
      return key;
    },
    async addDecision(scope, value, type = 'ban', duration = '1h', origin = 'cscli') {
      const now = clock.now();
      const d = buildDecision({ scope, value, type, duration, reason: `test ${type}`, origin }, now);
      const { decisionIds } = await server.store.addDecisions(
        manualAlert({ now, scenario: d.scenario, scope: d.scope, value: d.value, count: 1, machineId: 'test' }),
        [d],
      );
      await server.sync.refresh();
      return decisionIds[0]!;
    },
    async deleteDecision(id) {
      await server.store.softDeleteDecisions([id], clock.now());
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

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One request on a fresh connection, from `localAddress` (default 127.0.0.1). */
export function request(base: string, p: string, opts: { method?: string; headers?: Record<string, string>; localAddress?: string } = {}): Promise<Reply> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: u.hostname, port: u.port, method: opts.method ?? 'GET', path: p, headers: opts.headers ?? {}, localAddress: opts.localAddress, agent: false },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
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

/** A free TCP port on 127.0.0.1 (for programs that cannot take port 0, such as nginx). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

/** Polls `check` until it returns true (real time, for real daemons), failing after `timeoutMs`. */
export async function eventually(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

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
export async function stopNginx(nginx: ChildProcess | undefined): Promise<void> {
  if (!nginx || nginx.exitCode !== null) return;
  const exited = new Promise((r) => nginx.once('exit', r));
  nginx.kill('SIGQUIT');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
  if (nginx.exitCode === null) nginx.kill('SIGKILL');
}
