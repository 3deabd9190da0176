import { spawn } from 'node:child_process';
import path from 'node:path';
import { expect, it } from 'vitest';
import { eventually, freePort, request, writeForwardAuthFile } from './remediation-helpers.ts';
import { startTestCaddy } from './support/caddy.ts';
import { describeBehindProxy, documentedProxyBlock, viaProxy } from './support/forward-auth-cases.ts';
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

describeBehindProxy(
  'caddy',
  'forward-auth behind a real Caddy',
  async ({ dir, lapi, key, upstream }, cleanups) => {
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
    const daemon = spawn(node, [path.join(root, 'bin', 'vigil.js'), 'bouncer', 'forward-auth', '-c', faFile], {
      cwd: dir,
      env: { ...process.env, VIGIL_FORWARD_AUTH_KEY: key },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    cleanups.push(() => stopChild(daemon));
    const output = { text: '' };
    daemon.stdout!.on('data', (c) => (output.text += c));
    daemon.stderr!.on('data', (c) => (output.text += c));
    let daemonUrl = '';
    await eventually(
      'the daemon listening',
      () => {
        if (daemon.exitCode !== null) throw new Error(`vigil bouncer forward-auth exited ${daemon.exitCode}: ${output.text}`);
        const line = output.text.split('\n').find((l) => l.includes('Vigil forward-auth listening on'));
        if (line) daemonUrl = JSON.parse(line).listen;
        return daemonUrl !== '';
      },
      20_000,
    );
    await eventually('the daemon healthy (first pull done)', async () => (await request(daemonUrl, '/health')).status === 200, 10_000);

    const port = await freePort();
    const caddy = await startTestCaddy(dir, port, documentedProxyBlock('caddy', new URL(daemonUrl).host), upstream.port);
    cleanups.push(() => stopChild(caddy));
    return { base: `http://127.0.0.1:${port}`, daemonOutput: () => output.text };
  },
  (running) => {
    it('a client straight to Caddy, with no forwarding header, is judged by its own address', async () => {
      expect(await request(running().base, '/direct', { localAddress: '127.0.0.3' })).toMatchObject({ status: 200, text: 'upstream ok' });
    });

    it('a POST is checked too (forward_auth asks with GET and the original method in X-Forwarded-Method)', async () => {
      const { base, world } = running();
      world.upstream.hits.splice(0);
      expect((await request(base, '/form', { ...viaProxy('203.0.113.7'), method: 'POST' })).status).toBe(403);
      expect(world.upstream.hits).toEqual([]);
    });

    it('the daemon logged the remediations and never the API key', () => {
      const { daemonOutput, world } = running();
      expect(daemonOutput()).toContain('ban 203.0.113.7');
      expect(daemonOutput()).toContain('captcha solved by 203.0.113.9');
      expect(daemonOutput()).not.toContain(world.key);
    });
  },
);
