import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, startServer, type RunningServer } from '../src/app/serve.ts';
import { loadConfig } from '../src/config/config.ts';
import { BODY_CAPS } from '../src/config/listener-limits.ts';
import { hashMachinePassword } from '../src/lib/password.ts';
import { createMachine } from '../src/store/machines.ts';
import { freshDbUrl } from './support/databases.ts';

/**
 * The watcher routes read their bodies as the listener's body guard hands them over: the guard
 * alone caps the bytes as sent (the route table's caps, src/server/routes.ts), the routes only the gzip-inflated size.
 * Chunked uploads (no Content-Length) so the cap is met while reading, not by the declared size.
 */
const UA = 'crowdsec/v1.4.6-6~deb12u1+b1-linux-debian';
const PASSWORD = 'watcher-bodies-password';
const CHUNK = 64 * 1024;

interface Reply {
  status: number;
  body: string;
}

/** Resolves when `req` can take more, or is gone. */
function writable(req: http.ClientRequest): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      req.off('drain', done).off('close', done);
      resolve();
    };
    req.once('drain', done).once('close', done);
  });
}

/** POSTs `total` bytes (`prefix`, then spaces) chunked; stops writing once the answer is in. */
function chunkedPost(base: string, p: string, headers: Record<string, string>, prefix: string, total: number): Promise<Reply> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = http.request({
      host: u.hostname,
      port: u.port,
      method: 'POST',
      path: p,
      headers: { ...headers, 'Transfer-Encoding': 'chunked' },
      agent: false,
    });
    req.on('response', (res) => {
      answered = true;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    // Once the server has answered and closed, our remaining writes may fail: the answer is what counts.
    req.on('error', (e) => (answered ? undefined : reject(e)));
    void (async () => {
      let sent = 0;
      const first = Buffer.from(prefix);
      for (let i = 0; sent < total && !answered && !req.destroyed && i < total / CHUNK + 2; i++) {
        const size = Math.min(CHUNK, total - sent);
        const chunk = sent === 0 ? Buffer.concat([first, Buffer.alloc(Math.max(0, size - first.length), ' ')]) : Buffer.alloc(size, ' ');
        sent += chunk.length;
        if (!req.write(chunk)) await writable(req);
      }
      if (!req.destroyed) req.end();
    })();
  });
}

describe('watcher request bodies: capped once, by the body guard', () => {
  let server: RunningServer;
  let cleanup: () => Promise<void>;
  let token = '';

  beforeAll(async () => {
    const db = await freshDbUrl('sqlite');
    cleanup = db.cleanup;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-watcher-bodies-'));
    const file = path.join(dir, 'vigil.yaml');
    fs.writeFileSync(file, `listen: 127.0.0.1:0\nmetrics_listen: 'off'\ndb: ${JSON.stringify(db.url)}\n`);
    server = await startServer(loadConfig({ flags: { config: file }, env: {}, cwd: '/nonexistent' }), { log: createLogger('silent') });
    await createMachine(server.store, { machineId: 'agent', passwordHash: await hashMachinePassword(PASSWORD), now: Date.now(), isValidated: true });
    const login = await chunkedPost(server.url, '/v1/watchers/login', { 'User-Agent': UA }, JSON.stringify({ machine_id: 'agent', password: PASSWORD }), 100);
    token = JSON.parse(login.body).token;
  });
  afterAll(async () => {
    await server?.close();
    await cleanup?.();
  });

  const jwt = () => ({ Authorization: `Bearer ${token}`, 'User-Agent': UA });
  const routes = (): Array<[path: string, cap: number, headers: Record<string, string>, prefix: string, atCap: RegExp]> => [
    ['/v1/watchers/login', BODY_CAPS.watcherLogin, { 'User-Agent': UA }, '{"machine_id":"nobody","password":"x"}', /incorrect Username or Password/],
    ['/v1/watchers', BODY_CAPS.watcherLogin, { 'User-Agent': UA }, '{"machine_id":"new-agent"}', /password in body is required/],
    ['/v1/allowlists/check', BODY_CAPS.watcher, jwt(), '{"targets":[]}', /targets list cannot be empty/],
    ['/v1/alerts', BODY_CAPS.alerts, jwt(), '{}', /cannot unmarshal object into Go value of type models.AddAlertsRequest/],
  ];

  it('one byte over the route cap: 413 from the guard, naming the limit and the path', async () => {
    for (const [p, cap, headers, prefix] of routes()) {
      const r = await chunkedPost(server.url, p, headers, prefix, cap + 1);
      expect(r.status, p).toBe(413);
      expect(JSON.parse(r.body), p).toEqual({ message: `body: larger than ${cap} bytes (the limit for ${p})` });
    }
  });

  it('exactly at the cap: the route reads the whole body and answers on its content', async () => {
    for (const [p, cap, headers, prefix, atCap] of routes()) {
      const r = await chunkedPost(server.url, p, headers, prefix, cap);
      expect(r.status, p).not.toBe(413);
      expect(r.body, p).toMatch(atCap);
    }
  });
});
