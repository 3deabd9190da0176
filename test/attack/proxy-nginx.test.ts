import { spawnTestNginx, writeTestNginxConf } from '../support/nginx-conf.ts';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDashboardServer } from '../support/dashboard-server.ts';
import { makeSelfSignedCert, opensslAvailable } from '../support/test-pki.ts';
import { postLogin, requestFrom, type Answer } from '../support/http-from.ts';
import { eventually, freePort, stopNginx } from '../remediation-helpers.ts';
import type { RunningServer } from '../../src/app/serve.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import { MAX_FAILURES } from '../../src/web/login-throttle.ts';

/**
 * The dashboard behind a real Debian nginx terminating TLS (certificate made here by openssl), with
 * the documented location block, and with the most minimal one (`proxy_pass` alone: Host rewritten,
 * no X-Forwarded-*). nginx runs as this user in a temporary directory, single process.
 */
const NGINX = '/usr/sbin/nginx';
const PASSWORD = 'correct-horse-battery-staple';
const T0 = Date.UTC(2026, 11, 1, 6, 0, 0);

/** The block for the README (dashboard on admin_listen: 127.0.0.1:8081), used here verbatim. */
const DASHBOARD_NGINX_SNIPPET = `    # vigil-dashboard: begin
    location / {
      proxy_pass http://127.0.0.1:8081;
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    }
    # vigil-dashboard: end
`;

const available = fs.existsSync(NGINX) && opensslAvailable();

describe.skipIf(!available && !process.env.CI)('dashboard behind a real nginx with TLS', () => {
  let server: RunningServer;
  let cleanup: () => Promise<void>;
  let nginx: ChildProcess;
  let dir: string;
  let ca: string;
  let documented: string;
  let minimal: string;

  const login = (base: string, secret: string, opts: { from?: string; headers?: Record<string, string> } = {}): Promise<Answer> =>
    postLogin(base, secret, { ...opts, ca });

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-nginx-tls-'));
    ({ server, cleanup } = await startDashboardServer({ clock: new ManualClock(T0), password: PASSWORD }));
    const dashboard = new URL(server.web.dashboardUrl!).host;
    const cert = makeSelfSignedCert(dir);
    ca = cert.cert;
    const [p1, p2] = [await freePort(), await freePort()];
    documented = `https://127.0.0.1:${p1}`;
    minimal = `https://127.0.0.1:${p2}`;
    const tls = `ssl_certificate ${cert.certPath}; ssl_certificate_key ${path.join(dir, 'key.pem')};`;
    writeTestNginxConf(
      dir,
      `  server {
    listen 127.0.0.1:${p1} ssl;
    ${tls}
${DASHBOARD_NGINX_SNIPPET.replace('127.0.0.1:8081', dashboard)}
  }
  server {
    listen 127.0.0.1:${p2} ssl;
    ${tls}
    location / { proxy_pass http://${dashboard}; }
  }`,
    );
    let output = '';
    nginx = spawnTestNginx(dir);
    nginx.stdout?.on('data', (c) => (output += c));
    nginx.stderr?.on('data', (c) => (output += c));
    await eventually(
      'nginx answering on TLS',
      async () => {
        if (nginx.exitCode !== null) throw new Error(`nginx exited ${nginx.exitCode}: ${output} ${fs.readFileSync(`${dir}/error.log`, 'utf8')}`);
        try {
          return (await requestFrom(`${minimal}/ui/login`, { ca })).status === 200 && (await requestFrom(`${documented}/ui/login`, { ca })).status === 200;
        } catch {
          return false;
        }
      },
      15_000,
    );
  });
  afterAll(async () => {
    await stopNginx(nginx);
    await server?.close();
    await cleanup?.();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('documented block: logs in with a Secure cookie, throttles each client by its own address, streams live updates', async () => {
    for (let i = 0; i < MAX_FAILURES; i++) expect((await login(documented, `wrong-${i}`, { from: '127.0.0.3' })).status).toBe(401);
    expect((await login(documented, PASSWORD, { from: '127.0.0.3' })).status).toBe(429);
    const res = await login(documented, PASSWORD, { from: '127.0.0.4' });
    expect([res.status, res.headers.location]).toEqual([303, '/ui/']);
    const set = res.headers['set-cookie']![0]!;
    expect(set).toContain('Secure');
    // The live-update stream reaches the browser as it is written, not when nginx's buffer fills.
    const cookie = set.split(';')[0]!;
    const u = new URL(`${documented}/ui/events`);
    const first = await new Promise<string>((resolve, reject) => {
      const r = https.request({ host: u.hostname, port: u.port, path: u.pathname, ca, headers: { Cookie: cookie }, agent: false }, (answer) => {
        answer.once('data', (chunk: Buffer) => {
          resolve(chunk.toString('utf8'));
          r.destroy();
        });
      });
      r.on('error', () => {});
      r.end();
      setTimeout(() => reject(new Error('no live-update event through nginx within 5 s')), 5000).unref();
    });
    expect(first).toContain('event: hello');
  });

  it('minimal block (proxy_pass alone): a browser (Origin, Sec-Fetch-Site) logs in, with a Secure cookie; a cross-site post does not', async () => {
    const res = await login(minimal, PASSWORD, { headers: { 'Sec-Fetch-Site': 'same-origin' } });
    expect([res.status, res.headers.location]).toEqual([303, '/ui/']);
    expect(res.headers['set-cookie']![0]).toContain('Secure');
    expect((await login(minimal, PASSWORD, { headers: { 'Sec-Fetch-Site': 'cross-site', Origin: 'https://evil.example' } })).status).toBe(403);
  });
});
