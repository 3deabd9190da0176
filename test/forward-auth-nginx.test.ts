import { expect, it } from 'vitest';
import { eventually, freePort, request, startForwardAuthDaemon, stopNginx } from './remediation-helpers.ts';
import { describeBehindProxy, documentedProxyBlock, viaProxy } from './support/forward-auth-cases.ts';
import { startTestNginx, writeTestNginxConf } from './support/nginx-conf.ts';

/**
 * A real Debian nginx (auth_request) in front of a loopback upstream, the forward-auth daemon and
 * a real `vigil serve`, with the docs/bouncer.md's nginx block used verbatim. nginx runs as this user in a
 * temporary directory (its own config, pid file, logs and temp paths, single process).
 *
 * Clients and proxies are told apart by loopback source address: 127.0.0.1 is the trusted proxy
 * (it sends X-Forwarded-For), 127.0.0.2 and 127.0.0.3 are untrusted clients.
 */
describeBehindProxy(
  'nginx',
  'forward-auth behind a real nginx',
  async ({ dir, lapi, key, upstream }, cleanups) => {
    const fa = await startForwardAuthDaemon({
      dir,
      name: 'vigil-forward-auth',
      apiUrl: lapi.url,
      key,
      updateFrequency: '200ms',
      unhealthyAfter: '1s',
      trustedProxies: ['127.0.0.1'],
      captchaDifficulty: 12,
    });
    cleanups.push(() => fa.close());

    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    writeTestNginxConf(
      dir,
      `  server {
    listen 127.0.0.1:${port};
${documentedProxyBlock('nginx', new URL(fa.url).host)}
    location / {
      proxy_pass http://127.0.0.1:${upstream.port};
    }
  }`,
    );
    const nginx = await startTestNginx(dir, base);
    cleanups.push(() => stopNginx(nginx));
    return { base, fa };
  },
  (running) => {
    it('the internal check path cannot be reached from outside', async () => {
      expect((await request(running().base, '/.vigil/auth', viaProxy('198.51.100.20'))).status).not.toBe(200);
    });

    it('LAPI killed: clean traffic still passes (fail-open), healthy turns false after the threshold', async () => {
      const { base, fa, world } = running();
      expect((await request(fa.url, '/health')).status).toBe(200);
      await world.lapi.close();
      await eventually('/health says unhealthy', async () => (await request(fa.url, '/health')).status === 503, 10_000);
      const health = JSON.parse((await request(fa.url, '/health')).text);
      expect(health).toMatchObject({ healthy: false, status: 'unhealthy', last_error: { kind: 'network' } });
      expect(health.last_pull_age_seconds).toBeGreaterThanOrEqual(1);
      expect(await request(base, '/after', viaProxy('198.51.100.20'))).toMatchObject({ status: 200, text: 'upstream ok' });
      // Decisions already pulled keep applying until they expire.
      expect((await request(base, '/after', viaProxy('203.0.113.7'))).status).toBe(403);
    });
  },
);
