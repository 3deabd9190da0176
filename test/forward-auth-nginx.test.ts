import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../src/clock.ts';
import { loadForwardAuthConfig } from '../src/remediation/forward-auth/config.ts';
import { startForwardAuth, type ForwardAuthServer } from '../src/remediation/forward-auth/server.ts';
import { eventually, freePort, request, solvePage, startTestLapi, stopNginx, type TestLapi } from './remediation-helpers.ts';

/**
 * A real Debian nginx (auth_request) in front of a loopback upstream, the forward-auth daemon and
 * a real `vigil serve`, with the README's nginx block used verbatim. nginx runs as this user in a
 * temporary directory (its own config, pid file, logs and temp paths, single process).
 *
 * Clients and proxies are told apart by loopback source address: 127.0.0.1 is the trusted proxy
 * (it sends X-Forwarded-For), 127.0.0.2 and 127.0.0.3 are untrusted clients.
 */
const NGINX = '/usr/sbin/nginx';

function nginxAvailable(): { ok: boolean; reason?: string } {
  if (!fs.existsSync(NGINX)) return { ok: false, reason: 'nginx not installed (run: sudo bash scripts/install-nginx.sh)' };
  const v = spawnSync(NGINX, ['-V'], { encoding: 'utf8' });
  if (!`${v.stdout}${v.stderr}`.includes('--with-http_auth_request_module')) return { ok: false, reason: 'nginx lacks http_auth_request_module' };
  return { ok: true };
}
const avail = nginxAvailable();

/** The nginx block between the README's markers, exactly as documented. */
function readmeSnippet(): string {
  const readme = fs.readFileSync(path.join(import.meta.dirname, '..', 'README.md'), 'utf8');
  const m = /# vigil-forward-auth: begin\n([\s\S]*?)# vigil-forward-auth: end\n/.exec(readme);
  if (!m) throw new Error('README.md has no "# vigil-forward-auth: begin … end" nginx block');
  return m[1]!;
}

describe.skipIf(!avail.ok && !process.env.CI)(`forward-auth behind a real nginx ${avail.reason ?? ''}`, () => {
  let lapi: TestLapi;
  let fa: ForwardAuthServer;
  let upstream: http.Server;
  let nginx: ChildProcess;
  let dir: string;
  let base: string;
  let upstreamHits: string[] = [];
  let nginxOutput = '';

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-nginx-'));
    lapi = await startTestLapi(systemClock);
    const key = await lapi.addBouncer('nginx-forward-auth');
    await lapi.addDecision('Ip', '203.0.113.7', 'ban');
    await lapi.addDecision('Range', '2001:db8:bad::/48', 'ban');
    await lapi.addDecision('Ip', '203.0.113.9', 'captcha');
    await lapi.addDecision('Ip', '127.0.0.2', 'ban');

    upstream = http.createServer((req, res) => {
      upstreamHits.push(`${req.method} ${req.url}`);
      res.end('upstream ok');
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
    const upstreamPort = (upstream.address() as AddressInfo).port;

    const faFile = path.join(dir, 'vigil-forward-auth.yaml');
    fs.writeFileSync(
      faFile,
      [
        `api_url: ${lapi.url}`,
        `api_key: ${key}`,
        'listen: 127.0.0.1:0',
        'update_frequency: 200ms',
        'unhealthy_after: 1s',
        'trusted_proxies: [127.0.0.1]',
        'captcha:',
        '  difficulty: 12',
        `  signing_key_file: ${dir}/captcha.key`,
      ].join('\n'),
    );
    fa = await startForwardAuth(loadForwardAuthConfig(faFile), { log: pino({ level: 'silent' }) });
    await fa.bouncer.ready();

    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const faAddress = new URL(fa.url).host;
    for (const sub of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) fs.mkdirSync(path.join(dir, 'tmp', sub), { recursive: true });
    const conf = `
daemon off;
master_process off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 64; }
http {
  access_log ${dir}/access.log;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  server {
    listen 127.0.0.1:${port};
${readmeSnippet().replaceAll('127.0.0.1:7480', faAddress)}
    location / {
      proxy_pass http://127.0.0.1:${upstreamPort};
    }
  }
}
`;
    fs.writeFileSync(path.join(dir, 'nginx.conf'), conf);
    nginx = spawn(NGINX, ['-p', dir, '-e', `${dir}/error.log`, '-c', `${dir}/nginx.conf`], { stdio: ['ignore', 'pipe', 'pipe'] });
    nginx.stdout!.on('data', (c) => (nginxOutput += c));
    nginx.stderr!.on('data', (c) => (nginxOutput += c));
    await eventually(
      'nginx answering',
      async () => {
        if (nginx.exitCode !== null) throw new Error(`nginx exited ${nginx.exitCode}: ${nginxOutput} ${fs.readFileSync(`${dir}/error.log`, 'utf8')}`);
        try {
          await request(base, '/', { headers: { 'X-Forwarded-For': '198.51.100.1' } });
          return true;
        } catch {
          return false;
        }
      },
      15_000,
    );
  });

  afterAll(async () => {
    await stopNginx(nginx);
    await fa?.close();
    await new Promise<void>((r) => (upstream ? upstream.close(() => r()) : r()));
    await lapi?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const viaProxy = (client: string, extra: Record<string, string> = {}) => ({ headers: { 'X-Forwarded-For': client, Accept: 'text/html', ...extra } });

  it('a clean address passes to the upstream', async () => {
    upstreamHits = [];
    const r = await request(base, '/page?a=1', viaProxy('198.51.100.20'));
    expect(r).toMatchObject({ status: 200, body: 'upstream ok' });
    expect(upstreamHits).toEqual(['GET /page?a=1']);
  });

  it('a banned address sent by a trusted proxy in X-Forwarded-For gets 403 and the ban page; the upstream never sees it', async () => {
    upstreamHits = [];
    const r = await request(base, '/page', viaProxy('203.0.113.7'));
    expect(r.status).toBe(403);
    expect(r.body).toContain('<h1>Access denied</h1>');
    const v6 = await request(base, '/api', viaProxy('2001:db8:bad::1', { Accept: 'application/json' }));
    expect(v6.status).toBe(403);
    expect(JSON.parse(v6.body)).toEqual({ message: 'access denied', remediation: 'ban' });
    expect(upstreamHits).toEqual([]);
  });

  it('an untrusted client cannot spoof X-Forwarded-For', async () => {
    // 127.0.0.2 is banned and claims to be a clean address.
    const spoof = await request(base, '/', { headers: { 'X-Forwarded-For': '198.51.100.30' }, localAddress: '127.0.0.2' });
    expect(spoof.status).toBe(403);
    // 127.0.0.3 is clean; claiming a banned address changes nothing.
    const framed = await request(base, '/', { headers: { 'X-Forwarded-For': '203.0.113.7' }, localAddress: '127.0.0.3' });
    expect(framed).toMatchObject({ status: 200, body: 'upstream ok' });
  });

  it('a captcha decision gets the challenge; solved as a browser would, the cookie lets it through', async () => {
    upstreamHits = [];
    const page = await request(base, '/shop?item=7', viaProxy('203.0.113.9'));
    expect(page.status).toBe(401);
    expect(page.body).toContain('Checking your browser');
    const { challenge, nonce } = solvePage(page.body);
    const solved = await request(base, `/.vigil/captcha/verify?c=${encodeURIComponent(challenge)}&n=${nonce}&r=${encodeURIComponent('/shop?item=7')}`, viaProxy('203.0.113.9'));
    expect(solved.status).toBe(303);
    expect(solved.headers.location).toBe('/shop?item=7');
    const cookie = String(solved.headers['set-cookie']).split(';')[0]!;
    const after = await request(base, '/shop?item=7', viaProxy('203.0.113.9', { Cookie: cookie }));
    expect(after).toMatchObject({ status: 200, body: 'upstream ok' });
    expect(upstreamHits).toEqual(['GET /shop?item=7']);
    // The external path to the internal check is closed.
    expect((await request(base, '/.vigil/auth', viaProxy('198.51.100.20'))).status).not.toBe(200);
  });

  it('LAPI killed: clean traffic still passes (fail-open), healthy turns false after the threshold', async () => {
    expect((await request(fa.url, '/health')).status).toBe(200);
    await lapi.close();
    await eventually('/health says unhealthy', async () => (await request(fa.url, '/health')).status === 503, 10_000);
    const health = JSON.parse((await request(fa.url, '/health')).body);
    expect(health).toMatchObject({ healthy: false, status: 'unhealthy', last_error: { kind: 'network' } });
    expect(health.last_pull_age_seconds).toBeGreaterThanOrEqual(1);
    expect(await request(base, '/after', viaProxy('198.51.100.20'))).toMatchObject({ status: 200, body: 'upstream ok' });
    // Decisions already pulled keep applying until they expire.
    expect((await request(base, '/after', viaProxy('203.0.113.7'))).status).toBe(403);
  });
});
