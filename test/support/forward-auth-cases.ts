import { spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/lib/clock.ts';
import { eventually, request, solvePage, startTestLapi, type TestLapi } from '../remediation-helpers.ts';
import { useCleanups, type Cleanups } from './cleanups.ts';

/**
 * What every reverse proxy in front of `vigil bouncer forward-auth` must do, written once and run
 * against each real proxy (nginx `auth_request`, Caddy `forward_auth`). 127.0.0.1 is the trusted
 * proxy in front of the one under test (it sends X-Forwarded-For); 127.0.0.2 (banned) and 127.0.0.3
 * are untrusted clients.
 */

/** Where Debian's packages put the proxies the tests run. */
export const PROXY_BINARIES = { nginx: '/usr/sbin/nginx', caddy: '/usr/bin/caddy' };

// What forward-auth needs of each: nginx's auth_request module; Caddy's reverse_proxy (forward_auth is a shortcut for it).
const PROXY_NEEDS = {
  nginx: { args: ['-V'], module: 'http_auth_request_module', has: (out: string) => out.includes('--with-http_auth_request_module') },
  caddy: { args: ['list-modules'], module: 'http.handlers.reverse_proxy', has: (out: string) => out.split('\n').includes('http.handlers.reverse_proxy') },
};

/** Whether `proxy` is installed with what forward-auth needs; if not, why (for the skipped describe's title). */
export function proxyAvailable(proxy: keyof typeof PROXY_BINARIES): { ok: boolean; reason?: string } {
  const bin = PROXY_BINARIES[proxy];
  if (!fs.existsSync(bin)) return { ok: false, reason: `(skipped: ${proxy} not installed; run: sudo bash scripts/install-${proxy}.sh)` };
  const needs = PROXY_NEEDS[proxy];
  const v = spawnSync(bin, needs.args, { encoding: 'utf8' });
  if (!needs.has(`${v.stdout ?? ''}${v.stderr ?? ''}`)) return { ok: false, reason: `(skipped: ${proxy} lacks ${needs.module})` };
  return { ok: true };
}

// docs/bouncer.md's blocks between these markers; the Caddy one ends before the blank line above its end marker.
const DOCUMENTED_BLOCKS = {
  nginx: /# vigil-forward-auth: begin\n([\s\S]*?)# vigil-forward-auth: end\n/,
  caddy: /# vigil-forward-auth-caddy: begin\n([\s\S]*?)\s*# vigil-forward-auth-caddy: end\n/,
};

/**
 * docs/bouncer.md's block for `proxy`, exactly as documented but pointed at the daemon at `daemonHost`
 * (the docs say 127.0.0.1:7480); Caddy's also trusts 127.0.0.1, the proxy in front in the tests.
 */
export function documentedProxyBlock(proxy: keyof typeof DOCUMENTED_BLOCKS, daemonHost: string): string {
  const docs = fs.readFileSync(path.join(import.meta.dirname, '..', '..', 'docs', 'bouncer.md'), 'utf8');
  const block = DOCUMENTED_BLOCKS[proxy].exec(docs)?.[1];
  if (block === undefined) throw new Error(`docs/bouncer.md has no ${proxy} block between its "# vigil-forward-auth…: begin" and "end" markers`);
  const pointed = block.replaceAll('127.0.0.1:7480', daemonHost);
  return proxy === 'caddy' ? pointed.replace('trusted_proxies 10.0.0.0/8', 'trusted_proxies 127.0.0.1/32') : pointed;
}

/** The decisions the cases expect, added to the test LAPI. */
export async function addProxyCaseDecisions(lapi: TestLapi): Promise<void> {
  await lapi.addDecision('Ip', '203.0.113.7', 'ban');
  await lapi.addDecision('Range', '2001:db8:bad::/48', 'ban');
  await lapi.addDecision('Ip', '203.0.113.9', 'captcha');
  await lapi.addDecision('Ip', '203.0.113.10', 'captcha');
  await lapi.addDecision('Ip', '127.0.0.2', 'ban');
}

/** The upstream behind the proxy: answers `upstream ok` and records what reached it. */
export interface Upstream {
  server: http.Server;
  port: number;
  hits: string[];
}

export async function startUpstream(): Promise<Upstream> {
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    res.end('upstream ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { server, port: (server.address() as AddressInfo).port, hits };
}

/** Closes the upstream (a no-op when it never started). */
export function closeUpstream(upstream: Upstream | undefined): Promise<void> {
  return new Promise<void>((r) => (upstream ? upstream.server.close(() => r()) : r()));
}

/** What the cases run against, whichever proxy is in front: a test LAPI holding the cases' decisions and a bouncer's key, the upstream, a folder. */
export interface ProxyCaseWorld {
  dir: string;
  lapi: TestLapi;
  key: string;
  upstream: Upstream;
  /** Closes the upstream and the LAPI, removes the folder (after the proxy and the daemon are stopped). */
  close(): Promise<void>;
}

export async function startProxyCaseWorld(dirPrefix: string, bouncer: string): Promise<ProxyCaseWorld> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), dirPrefix));
  const lapi = await startTestLapi(systemClock);
  const key = await lapi.addBouncer(bouncer);
  await addProxyCaseDecisions(lapi);
  const upstream = await startUpstream();
  return {
    dir,
    lapi,
    key,
    upstream,
    async close() {
      await closeUpstream(upstream);
      await lapi.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Starts a proxy process and waits until it answers on `base`; `whyExited` says what it printed
 * when it exits instead (a configuration error), so the failure names the cause.
 */
export async function startProxy(name: string, start: () => ChildProcess, base: string, whyExited: (output: string) => string): Promise<ChildProcess> {
  let output = '';
  const child = start();
  child.stdout?.on('data', (c) => (output += c));
  child.stderr?.on('data', (c) => (output += c));
  await eventually(
    `${name} answering`,
    async () => {
      if (child.exitCode !== null) throw new Error(`${name} exited ${child.exitCode}: ${whyExited(output)}`);
      try {
        await request(base, '/', { headers: { 'X-Forwarded-For': '198.51.100.1' } });
        return true;
      } catch {
        return false;
      }
    },
    15_000,
  );
  return child;
}

/** A request as the trusted proxy in front sends it, on behalf of `client`. */
export const viaProxy = (client: string, extra: Record<string, string> = {}) => ({ headers: { 'X-Forwarded-For': client, Accept: 'text/html', ...extra } });

/** A describe that needs `proxy`: skipped when it is not installed (the title says why), except in CI, where it must be. */
export function describeIfProxy(proxy: keyof typeof PROXY_BINARIES, title: string, tests: () => void): void {
  const avail = proxyAvailable(proxy);
  describe.skipIf(!avail.ok && !process.env.CI)(`${title} ${avail.reason ?? ''}`.trimEnd(), tests);
}

/**
 * The tests of one real proxy in front of `vigil bouncer forward-auth`, skipped (outside CI) when it is
 * not installed: the world started, then `start` puts the daemon and the proxy in front of it (what
 * it starts goes on `cleanups`, undone in reverse after the tests, the world last) and returns the
 * proxy's URL; then the shared cases, then the proxy's own (`more`, given the running setup).
 */
export function describeBehindProxy<T extends { base: string }>(
  proxy: keyof typeof PROXY_BINARIES,
  title: string,
  start: (world: ProxyCaseWorld, cleanups: Cleanups) => Promise<T>,
  more: (running: () => T & { world: ProxyCaseWorld }) => void,
): void {
  describeIfProxy(proxy, title, () => {
    const cleanups = useCleanups('all');
    let running: (T & { world: ProxyCaseWorld }) | undefined;
    beforeAll(async () => {
      const world = await startProxyCaseWorld(`vigil-${proxy}-`, `${proxy}-forward-auth`);
      cleanups.push(() => world.close());
      running = { ...(await start(world, cleanups)), world };
    });
    const now = () => running!;
    proxyCases(
      () => now().base,
      () => now().world.upstream,
    );
    more(now);
  });
}

/** Registers the shared cases; `base()` is the proxy's URL once started. */
export function proxyCases(base: () => string, upstream: () => Upstream): void {
  const hits = () => upstream().hits;
  const clearHits = () => void hits().splice(0);

  it('a clean address passes to the upstream', async () => {
    clearHits();
    const r = await request(base(), '/page?a=1', viaProxy('198.51.100.20'));
    expect(r).toMatchObject({ status: 200, text: 'upstream ok' });
    expect(hits()).toEqual(['GET /page?a=1']);
  });

  it('a banned address sent by a trusted proxy in X-Forwarded-For gets 403 and the ban page (HTML or JSON); the upstream never sees it', async () => {
    clearHits();
    const r = await request(base(), '/page', viaProxy('203.0.113.7'));
    expect(r.status).toBe(403);
    expect(r.text).toContain('<h1>Access denied</h1>');
    const v6 = await request(base(), '/api', viaProxy('2001:db8:bad::1', { Accept: 'application/json' }));
    expect(v6.status).toBe(403);
    expect(JSON.parse(v6.text)).toEqual({ message: 'access denied', remediation: 'ban' });
    expect(hits()).toEqual([]);
  });

  it('an untrusted client cannot spoof X-Forwarded-For', async () => {
    // 127.0.0.2 is banned and claims to be a clean address.
    const spoof = await request(base(), '/', { headers: { 'X-Forwarded-For': '198.51.100.30' }, localAddress: '127.0.0.2' });
    expect(spoof.status).toBe(403);
    // 127.0.0.3 is clean; claiming a banned address changes nothing.
    const framed = await request(base(), '/', { headers: { 'X-Forwarded-For': '203.0.113.7' }, localAddress: '127.0.0.3' });
    expect(framed).toMatchObject({ status: 200, text: 'upstream ok' });
  });

  it('a captcha decision gets the challenge; solved as a browser would, the cookie lets it through, for that address only', async () => {
    clearHits();
    const page = await request(base(), '/shop?item=7', viaProxy('203.0.113.9'));
    expect(page.status).toBe(401);
    expect(page.text).toContain('Checking your browser');
    // The answer goes through the proxy like any request (the daemon reads the original URI).
    const { challenge, nonce } = solvePage(page.text);
    const solved = await request(
      base(),
      `/.vigil/captcha/verify?c=${encodeURIComponent(challenge)}&n=${nonce}&r=${encodeURIComponent('/shop?item=7')}`,
      viaProxy('203.0.113.9'),
    );
    expect(solved.status).toBe(303);
    expect(solved.headers.location).toBe('/shop?item=7');
    const cookie = String(solved.headers['set-cookie']).split(';')[0]!;
    const after = await request(base(), '/shop?item=7', viaProxy('203.0.113.9', { Cookie: cookie }));
    expect(after).toMatchObject({ status: 200, text: 'upstream ok' });
    expect(hits()).toEqual(['GET /shop?item=7']);
    // The cookie is bound to the address that solved it.
    expect((await request(base(), '/shop?item=7', viaProxy('203.0.113.10', { Cookie: cookie }))).status).toBe(401);
  });
}
