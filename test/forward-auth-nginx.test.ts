import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ForwardAuthServer } from '../src/remediation/forward-auth/server.ts';
import { eventually, freePort, request, startForwardAuthDaemon, stopNginx, type TestLapi } from './remediation-helpers.ts';
import { documentedProxyBlock, proxyAvailable, proxyCases, startProxyCaseWorld, viaProxy, type ProxyCaseWorld, type Upstream } from './support/forward-auth-cases.ts';
import { startTestNginx, writeTestNginxConf } from './support/nginx-conf.ts';

/**
 * A real Debian nginx (auth_request) in front of a loopback upstream, the forward-auth daemon and
 * a real `vigil serve`, with the docs/bouncer.md's nginx block used verbatim. nginx runs as this user in a
 * temporary directory (its own config, pid file, logs and temp paths, single process).
 *
 * Clients and proxies are told apart by loopback source address: 127.0.0.1 is the trusted proxy
 * (it sends X-Forwarded-For), 127.0.0.2 and 127.0.0.3 are untrusted clients.
 */
const avail = proxyAvailable('nginx');

describe.skipIf(!avail.ok && !process.env.CI)(`forward-auth behind a real nginx ${avail.reason ?? ''}`, () => {
  let world: ProxyCaseWorld;
  let lapi: TestLapi;
  let fa: ForwardAuthServer;
  let upstream: Upstream;
  let nginx: ChildProcess;
  let dir: string;
  let base: string;

  beforeAll(async () => {
    world = await startProxyCaseWorld('vigil-nginx-', 'nginx-forward-auth');
    ({ dir, lapi, upstream } = world);
    const { key } = world;

    fa = await startForwardAuthDaemon({
      dir,
      name: 'vigil-forward-auth',
      apiUrl: lapi.url,
      key,
      updateFrequency: '200ms',
      unhealthyAfter: '1s',
      trustedProxies: ['127.0.0.1'],
      captchaDifficulty: 12,
    });

    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const faAddress = new URL(fa.url).host;
    writeTestNginxConf(
      dir,
      `  server {
    listen 127.0.0.1:${port};
${documentedProxyBlock('nginx', faAddress)}
    location / {
      proxy_pass http://127.0.0.1:${upstream.port};
    }
  }`,
    );
    nginx = await startTestNginx(dir, base);
  });

  afterAll(async () => {
    await stopNginx(nginx);
    await fa?.close();
    await world?.close();
  });

  proxyCases(
    () => base,
    () => upstream,
  );

  it('the internal check path cannot be reached from outside', async () => {
    expect((await request(base, '/.vigil/auth', viaProxy('198.51.100.20'))).status).not.toBe(200);
  });

  it('LAPI killed: clean traffic still passes (fail-open), healthy turns false after the threshold', async () => {
    expect((await request(fa.url, '/health')).status).toBe(200);
    await lapi.close();
    await eventually('/health says unhealthy', async () => (await request(fa.url, '/health')).status === 503, 10_000);
    const health = JSON.parse((await request(fa.url, '/health')).text);
    expect(health).toMatchObject({ healthy: false, status: 'unhealthy', last_error: { kind: 'network' } });
    expect(health.last_pull_age_seconds).toBeGreaterThanOrEqual(1);
    expect(await request(base, '/after', viaProxy('198.51.100.20'))).toMatchObject({ status: 200, text: 'upstream ok' });
    // Decisions already pulled keep applying until they expire.
    expect((await request(base, '/after', viaProxy('203.0.113.7'))).status).toBe(403);
  });
});
