import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { freshDbUrl } from '../support/databases.ts';
import { startDashboardServer } from '../support/dashboard-server.ts';
import { makeSelfSignedCert } from '../support/test-pki.ts';
import { postLogin, requestFrom, type Answer } from '../support/http-from.ts';
import { startServer, createLogger, type RunningServer } from '../../src/app/serve.ts';
import { loadConfig } from '../../src/config/config.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import { resetDashboardPassword } from '../../src/web/credentials.ts';
import { MAX_FAILURES, WINDOW_MS } from '../../src/web/login-throttle.ts';

/**
 * The dashboard behind a real TLS reverse proxy on loopback (an https server made here, with a
 * self-signed certificate), as nginx does it: Host rewritten to the upstream, and either the usual
 * X-Forwarded-* headers or none at all (the minimal config). The proxy is a trusted peer
 * (admin_trusted_proxies, loopback by default); a client that talks to the dashboard directly from
 * any other address cannot put words in those headers.
 */
const T0 = Date.UTC(2026, 11, 1, 6, 0, 0);
const PASSWORD = 'correct-horse-battery-staple';

interface Proxy {
  origin: string;
  close(): Promise<void>;
}

/** An https reverse proxy to `upstream`, adding the forwarding headers unless `minimal`. */
async function startTlsProxy(cert: { cert: string; key: string }, upstream: string, minimal: boolean): Promise<Proxy> {
  const target = new URL(upstream);
  const s = https.createServer({ cert: cert.cert, key: cert.key }, (req, res) => {
    const headers: http.OutgoingHttpHeaders = { ...req.headers, host: target.host };
    if (!minimal) {
      const prior = req.headers['x-forwarded-for'];
      headers['x-forwarded-for'] = prior ? `${prior}, ${req.socket.remoteAddress}` : req.socket.remoteAddress;
      headers['x-forwarded-proto'] = 'https';
      headers['x-forwarded-host'] = req.headers.host;
    }
    const p = http.request({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    p.on('error', () => res.writeHead(502).end());
    req.pipe(p);
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return {
    origin: `https://127.0.0.1:${(s.address() as AddressInfo).port}`,
    close: () => new Promise<void>((r) => (s.close(() => r()), s.closeAllConnections())),
  };
}

describe('dashboard behind a TLS reverse proxy', () => {
  let server: RunningServer;
  let cleanup: () => Promise<void>;
  let direct: string;
  let proxy: Proxy;
  let minimalProxy: Proxy;
  let ca: string;
  const clock = new ManualClock(T0);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-proxy-'));

  const login = (base: string, secret: string, opts: { from?: string; headers?: Record<string, string> } = {}): Promise<Answer> =>
    postLogin(base, secret, { ...opts, ca });

  beforeAll(async () => {
    ({ server, cleanup } = await startDashboardServer({ clock, password: PASSWORD }));
    direct = new URL(server.web.dashboardUrl!).origin;
    const cert = makeSelfSignedCert(dir);
    ca = cert.cert;
    proxy = await startTlsProxy(cert, direct, false);
    minimalProxy = await startTlsProxy(cert, direct, true);
  });
  afterAll(async () => {
    await proxy?.close();
    await minimalProxy?.close();
    await server?.close();
    await cleanup?.();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => clock.advance(WINDOW_MS));

  it('logs in through the proxy (X-Forwarded-Proto/Host/For) with a Secure cookie, and the session works through it', async () => {
    const res = await login(proxy.origin, PASSWORD);
    expect([res.status, res.headers.location]).toEqual([303, '/ui/']);
    const set = res.headers['set-cookie']![0]!;
    expect(set).toContain('Secure');
    expect(set).toContain('HttpOnly');
    const cookie = set.split(';')[0]!;
    const page = await requestFrom(`${proxy.origin}/ui/`, { ca, headers: { Cookie: cookie } });
    expect(page.status).toBe(200);
    const csrf = /<meta name="csrf-token" content="([^"]+)">/.exec(page.text)![1]!;
    const out = await requestFrom(`${proxy.origin}/ui/logout`, {
      method: 'POST',
      ca,
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Cookie: cookie, Origin: proxy.origin },
      body: new URLSearchParams({ csrf }).toString(),
    });
    expect([out.status, out.headers.location]).toEqual([303, '/ui/login']);
    expect(out.headers['set-cookie']![0]).toContain('Secure');
  });

  it('refuses a cross-site login through the proxy', async () => {
    expect((await login(proxy.origin, PASSWORD, { headers: { Origin: 'https://evil.example' } })).status).toBe(403);
  });

  it("throttles the client's address from X-Forwarded-For, not the proxy's", async () => {
    for (let i = 0; i < MAX_FAILURES; i++) expect((await login(proxy.origin, `wrong-${i}`, { from: '127.0.0.3' })).status).toBe(401);
    expect((await login(proxy.origin, PASSWORD, { from: '127.0.0.3' })).status).toBe(429);
    // Another client behind the same proxy is not locked out by the first one's mistakes.
    expect((await login(proxy.origin, PASSWORD, { from: '127.0.0.4' })).status).toBe(303);
  });

  it('with a minimal proxy config (no X-Forwarded-*, Host rewritten), a browser still logs in, with a Secure cookie', async () => {
    // What a browser sends on its own form post: Origin and Sec-Fetch-Site (which no page can forge).
    const res = await login(minimalProxy.origin, PASSWORD, { headers: { 'Sec-Fetch-Site': 'same-origin' } });
    expect([res.status, res.headers.location]).toEqual([303, '/ui/']);
    expect(res.headers['set-cookie']![0]).toContain('Secure');
    const crossSite = await login(minimalProxy.origin, PASSWORD, { headers: { 'Sec-Fetch-Site': 'cross-site', Origin: 'https://evil.example' } });
    expect(crossSite.status).toBe(403);
    // A browser's word beats a matching Host: a cross-site post is refused even when the Origin host matches.
    const lying = await login(direct, PASSWORD, { headers: { 'Sec-Fetch-Site': 'same-site' } });
    expect(lying.status).toBe(403);
  });

  it('ignores the forwarding headers from an untrusted peer (127.0.0.2): no spoofed Host, scheme or address', async () => {
    const spoofedHost = await login(direct, PASSWORD, { from: '127.0.0.2', headers: { 'X-Forwarded-Host': 'evil.example', Origin: 'http://evil.example' } });
    expect(spoofedHost.status).toBe(403);
    const spoofedProto = await login(direct, PASSWORD, { from: '127.0.0.2', headers: { 'X-Forwarded-Proto': 'https' } });
    expect(spoofedProto.status).toBe(303);
    expect(spoofedProto.headers['set-cookie']![0]).not.toContain('Secure');
    // A new X-Forwarded-For on every guess does not make a new address.
    for (let i = 0; i < MAX_FAILURES; i++) {
      expect((await login(direct, `wrong-${i}`, { from: '127.0.0.2', headers: { 'X-Forwarded-For': `198.51.100.${i}` } })).status).toBe(401);
    }
    expect((await login(direct, PASSWORD, { from: '127.0.0.2', headers: { 'X-Forwarded-For': '198.51.100.99' } })).status).toBe(429);
  });

  it('refuses a login whose X-Forwarded-For from a trusted proxy is not an address list, naming the header', async () => {
    const res = await login(direct, PASSWORD, { from: '127.0.0.1', headers: { 'X-Forwarded-For': 'not-an-address' } });
    expect(res.status).toBe(400);
    expect(res.text).toContain('X-Forwarded-For');
  });
});

describe('admin_trusted_proxies configuration', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-proxy-config-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const load = (yaml: string) => {
    fs.writeFileSync(path.join(dir, 'vigil.yaml'), yaml);
    return loadConfig({ env: {}, cwd: dir });
  };

  it('trusts loopback by default, and takes a list of addresses and ranges', () => {
    expect(load('listen: 127.0.0.1:8080\n').adminTrustedProxies).toEqual(['127.0.0.1', '::1']);
    expect(load('admin_trusted_proxies: [10.0.0.0/8, "2001:db8::1"]\n').adminTrustedProxies).toEqual(['10.0.0.0/8', '2001:db8::1']);
    expect(load('admin_trusted_proxies: []\n').adminTrustedProxies).toEqual([]);
  });

  it('names the key, the entry and the fix when an entry is not an address', () => {
    expect(() => load('admin_trusted_proxies: [10.0.0.0/8, nginx.local]\n')).toThrow(
      `${path.join(dir, 'vigil.yaml')}: admin_trusted_proxies[1] "nginx.local": not an IP address or CIDR range; use e.g. 127.0.0.1, 10.0.0.0/8 or ::1`,
    );
  });

  it('with no trusted proxy, X-Forwarded-Proto from loopback is ignored too', async () => {
    const db = await freshDbUrl('sqlite');
    const config = loadConfig({ flags: { listen: '127.0.0.1:0', db: db.url, metricsListen: 'off', adminListen: '127.0.0.1:0' }, env: {}, cwd: '/nonexistent' });
    config.health.evaluateEveryMs = 0;
    config.adminTrustedProxies = [];
    const server = await startServer(config, { clock: new ManualClock(T0), log: createLogger('silent') });
    try {
      await resetDashboardPassword(server.store, PASSWORD);
      const origin = new URL(server.web.dashboardUrl!).origin;
      const res = await requestFrom(`${origin}/ui/login`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: origin, 'X-Forwarded-Proto': 'https' },
        body: new URLSearchParams({ secret: PASSWORD }).toString(),
      });
      expect(res.status).toBe(303);
      expect(res.headers['set-cookie']![0]).not.toContain('Secure');
    } finally {
      await server.close();
      await db.cleanup();
    }
  });
});
