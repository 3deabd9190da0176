import { documentedProxyBlock } from './support/forward-auth-cases.ts';
import { spawnTestNginx, writeTestNginxConf } from './support/nginx-conf.ts';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.ts';
import type { CliIo } from '../src/cli/io.ts';
import { systemClock } from '../src/lib/clock.ts';
import type { VerifyResult } from '../src/doctor/verify.ts';
import type { ForwardAuthServer } from '../src/remediation/forward-auth/server.ts';
import { requestFrom } from './support/http-from.ts';
import { eventually, freePort, startForwardAuthDaemon, startTestLapi, stopNginx, type TestLapi } from './remediation-helpers.ts';
import { activeDecisions } from '../src/store/decisions.ts';

/**
 * `vigil verify` against the real thing: Debian's nginx with Vigil's forward-auth bouncer behind
 * `auth_request` (the docs/bouncer.md's nginx block), pulling from a real `vigil serve`. Two sites on one
 * nginx: one whose daemon trusts nginx's X-Forwarded-For (verify passes), one whose daemon does
 * not (the real-IP misconfiguration: verify fails and says what to check). Both remove the test
 * decision.
 */
const NGINX = '/usr/sbin/nginx';
const avail = fs.existsSync(NGINX);

describe.skipIf(!avail && !process.env.CI)('vigil verify: nginx + Vigil forward-auth', () => {
  let dir: string;
  let lapi: TestLapi;
  let trusting: ForwardAuthServer;
  let distrusting: ForwardAuthServer;
  let upstream: http.Server;
  let nginx: ChildProcess;
  let good: string;
  let misconfigured: string;
  let nginxOutput = '';

  const snippet = (faHost: string) => documentedProxyBlock('nginx', faHost);

  const daemon = async (name: string, trustedProxies: string[]): Promise<ForwardAuthServer> =>
    startForwardAuthDaemon({ dir, name, apiUrl: lapi.url, key: await lapi.addBouncer(name), updateFrequency: '1s', trustedProxies });

  async function verify(...args: string[]): Promise<{ code: number; result: VerifyResult }> {
    let out = '';
    const io: CliIo = { stdout: (t) => (out += t), stderr: () => {}, env: {}, cwd: dir, isTTY: false, clock: systemClock };
    const code = await main(['--db', `sqlite:${path.join(lapi.dir, 'vigil.db')}`, 'verify', '-o', 'json', '--poll', '100ms', ...args], io);
    return { code, result: JSON.parse(out) as VerifyResult };
  }

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-verify-fa-'));
    lapi = await startTestLapi(systemClock);
    trusting = await daemon('nginx-site-a', ['127.0.0.1']);
    distrusting = await daemon('nginx-site-b', ['192.0.2.250']);
    upstream = http.createServer((_req, res) => res.end('application page'));
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
    const up = (upstream.address() as AddressInfo).port;
    const [portA, portB] = [await freePort(), await freePort()];
    good = `http://127.0.0.1:${portA}/`;
    misconfigured = `http://127.0.0.1:${portB}/`;
    const site = (port: number, fa: ForwardAuthServer) => `
  server {
    listen 127.0.0.1:${port};
${snippet(new URL(fa.url).host)}
    location / { proxy_pass http://127.0.0.1:${up}; }
  }`;
    writeTestNginxConf(dir, `${site(portA, trusting)}\n${site(portB, distrusting)}`, { accessLog: false });
    nginx = spawnTestNginx(dir);
    nginx.stdout!.on('data', (c) => (nginxOutput += c));
    nginx.stderr!.on('data', (c) => (nginxOutput += c));
    await eventually(
      'nginx answering',
      async () => {
        if (nginx.exitCode !== null) throw new Error(`nginx exited ${nginx.exitCode}: ${nginxOutput}`);
        return (await requestFrom(good).catch(() => undefined))?.status === 200;
      },
      15_000,
    );
  });

  afterAll(async () => {
    await stopNginx(nginx);
    await trusting?.close();
    await distrusting?.close();
    await new Promise<void>((r) => (upstream ? upstream.close(() => r()) : r()));
    await lapi?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('passes: the forward-auth bouncer pulls the test ban and nginx answers 403', async () => {
    const { code, result } = await verify('--url', good, '--ip', '192.0.2.10', '--bouncer', 'nginx-site-a', '--timeout', '20s');
    expect(result.verdict).toBe('pass');
    expect(code).toBe(0);
    expect(result.steps.find((s) => s.step === 'wait')!.detail).toMatch(/^bouncer 'nginx-site-a' pulled at /);
    expect(result.steps.find((s) => s.step === 'check')!.detail).toBe(`GET ${good} as 192.0.2.10 → 403 (status 403)`);
    expect((await activeDecisions(lapi.server.store, Date.now())).filter((d) => d.value === '192.0.2.10')).toEqual([]);
  });

  it("passes for a captcha decision: the daemon's challenge page", async () => {
    const { result } = await verify('--url', good, '--ip', '192.0.2.11', '--type', 'captcha', '--bouncer', 'nginx-site-a', '--timeout', '20s');
    expect(result.verdict).toBe('pass');
    expect(result.summary).toMatch(/challenges 192\.0\.2\.11 with a (captcha page|challenge \(status 401\))/);
  });

  it("fails when the daemon does not trust nginx's X-Forwarded-For, and removes the decision", async () => {
    const { code, result } = await verify('--url', misconfigured, '--ip', '192.0.2.12', '--bouncer', 'nginx-site-b', '--timeout', '20s', '--settle', '1500ms');
    expect(code).toBe(1);
    expect(result.summary).toBe(`${misconfigured} still serves 192.0.2.12 (200) with a ban decision in place that the bouncer has pulled`);
    expect(result.fix).toContain('X-Forwarded-For');
    expect(result.decisionRemoved).toBe(true);
    expect((await activeDecisions(lapi.server.store, Date.now())).filter((d) => d.value === '192.0.2.12')).toEqual([]);
  });
});
