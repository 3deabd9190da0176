import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, freePort, request, writeForwardAuthFile, type TestLapi } from './remediation-helpers.ts';
import { startTestCaddy } from './support/caddy.ts';
import { documentedProxyBlock, proxyAvailable, proxyCases, startProxyCaseWorld, viaProxy, type ProxyCaseWorld, type Upstream } from './support/forward-auth-cases.ts';
import { stopChild } from './support/processes.ts';

/**
 * A real Debian Caddy (`forward_auth`) in front of a loopback upstream, the real
 * `vigil bouncer forward-auth` command (a child process on Node 26) and a real `vigil serve`, with the
 * docs/bouncer.md's `forward_auth` block used verbatim. Caddy runs as this user from a Caddyfile in a temporary
 * directory (admin API off, no HTTPS, its data and config directories there too).
 *
 * Clients and proxies are told apart by loopback source address: 127.0.0.1 is the trusted proxy in
 * front of Caddy (it sends X-Forwarded-For; the block's `trusted_proxies` lets it through), 127.0.0.2 and
 * 127.0.0.3 are untrusted clients whose X-Forwarded-For Caddy replaces.
 */
const root = path.join(import.meta.dirname, '..');
const node = path.join(root, 'node_modules', '.bin', 'node');

const avail = proxyAvailable('caddy');

describe.skipIf(!avail.ok && !process.env.CI)(`forward-auth behind a real Caddy ${avail.reason ?? ''}`, () => {
  let world: ProxyCaseWorld;
  let lapi: TestLapi;
  let key: string;
  let upstream: Upstream;
  let daemon: ChildProcess;
  let daemonUrl = '';
  let daemonOutput = '';
  let caddy: ChildProcess;
  let dir: string;
  let base: string;

  beforeAll(async () => {
    world = await startProxyCaseWorld('vigil-caddy-', 'caddy-forward-auth');
    ({ dir, lapi, key, upstream } = world);

    // The daemon as an operator runs it: `vigil bouncer forward-auth -c FILE`.
    const faFile = writeForwardAuthFile({
      dir,
      name: 'vigil-forward-auth',
      apiUrl: lapi.url,
      key: '${VIGIL_FORWARD_AUTH_KEY}',
      updateFrequency: '1s',
      trustedProxies: ['127.0.0.1'],
      captchaDifficulty: 12,
    });
    daemon = spawn(node, [path.join(root, 'bin', 'vigil.js'), 'bouncer', 'forward-auth', '-c', faFile], {
      cwd: dir,
      env: { ...process.env, VIGIL_FORWARD_AUTH_KEY: key },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    daemon.stdout!.on('data', (c) => (daemonOutput += c));
    daemon.stderr!.on('data', (c) => (daemonOutput += c));
    await eventually(
      'the daemon listening',
      () => {
        if (daemon.exitCode !== null) throw new Error(`vigil bouncer forward-auth exited ${daemon.exitCode}: ${daemonOutput}`);
        const line = daemonOutput.split('\n').find((l) => l.includes('Vigil forward-auth listening on'));
        if (line) daemonUrl = JSON.parse(line).listen;
        return daemonUrl !== '';
      },
      20_000,
    );
    await eventually('the daemon healthy (first pull done)', async () => (await request(daemonUrl, '/health')).status === 200, 10_000);

    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    caddy = await startTestCaddy(dir, port, documentedProxyBlock('caddy', new URL(daemonUrl).host), upstream.port);
  });

  afterAll(async () => {
    await stopChild(caddy);
    await stopChild(daemon);
    await world?.close();
  });

  proxyCases(
    () => base,
    () => upstream,
  );

  it('a client straight to Caddy, with no forwarding header, is judged by its own address', async () => {
    expect(await request(base, '/direct', { localAddress: '127.0.0.3' })).toMatchObject({ status: 200, text: 'upstream ok' });
  });

  it('a POST is checked too (forward_auth asks with GET and the original method in X-Forwarded-Method)', async () => {
    upstream.hits.splice(0);
    expect((await request(base, '/form', { ...viaProxy('203.0.113.7'), method: 'POST' })).status).toBe(403);
    expect(upstream.hits).toEqual([]);
  });

  it('the daemon logged the remediations and never the API key', () => {
    expect(daemonOutput).toContain('ban 203.0.113.7');
    expect(daemonOutput).toContain('captcha solved by 203.0.113.9');
    expect(daemonOutput).not.toContain(key);
  });
});
