import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, systemClock } from '../src/lib/clock.ts';
import { main } from '../src/cli/main.ts';
import type { CliIo } from '../src/cli/io.ts';
import { loadForwardAuthConfig } from '../src/remediation/forward-auth/config.ts';
import { startForwardAuth, type ForwardAuthServer } from '../src/remediation/forward-auth/server.ts';
import { eventually, request, solvePage, startTestLapi, writeForwardAuthFile, type TestLapi } from './remediation-helpers.ts';
import { getBouncer } from '../src/store/bouncers.ts';

/**
 * `vigil bouncer forward-auth`: its configuration (refused with the key and the fix), the CLI
 * starting and stopping it, and the forward-auth protocol as Traefik and Caddy speak it (the
 * original URI in X-Forwarded-Uri, the page returned on non-2xx), against a real `vigil serve`.
 * nginx has its own end-to-end test (forward-auth-nginx.test.ts).
 */
const T0 = Date.UTC(2026, 10, 24, 8, 0, 0);

function cliIo(dir: string, env: NodeJS.ProcessEnv = {}, stopSignal?: Promise<string>) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { stdout: (t) => out.push(t), stderr: (t) => err.push(t), env, cwd: dir, isTTY: false, clock: systemClock, stopSignal };
  return { io, out, err };
}

describe('forward-auth configuration', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-fa-config-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const check = async (yaml: string, env: NodeJS.ProcessEnv = {}) => {
    const file = path.join(dir, 'fa.yaml');
    fs.writeFileSync(file, yaml);
    const { io, out, err } = cliIo(dir, env);
    const code = await main(['bouncer', 'forward-auth', '--config', 'fa.yaml', '--test'], io);
    return { code, out: out.join(''), err: err.join('') };
  };
  const base = `api_url: http://127.0.0.1:8080/\napi_key: abcdef0123456789\ncaptcha:\n  signing_key_file: ${dir}/key\n`;

  it('accepts a valid file, with ${VAR} from the environment', async () => {
    const r = await check(base.replace('abcdef0123456789', '${FA_KEY}'), { FA_KEY: 'k3y' });
    expect(r).toMatchObject({ code: 0, err: '' });
    expect(r.out).toBe(`configuration ${path.join(dir, 'fa.yaml')} is valid\n`);
    expect(fs.existsSync(`${dir}/key`)).toBe(false); // --test does not create the signing key
  });

  it('refuses a bad file with one line naming the key and the fix', async () => {
    const cases: [string, string, NodeJS.ProcessEnv?][] = [
      [`${base}update_frecuency: 10s\n`, 'unknown key update_frecuency; see docs/bouncer.md'],
      ['api_url: http://127.0.0.1:8080/\n', "api_key: missing; give the bouncer's key: register it with 'vigil bouncers add"],
      [base.replace('abcdef0123456789', '${NOPE_KEY}'), 'line 2: ${NOPE_KEY} is not set in the environment; export NOPE_KEY'],
      [`${base}update_frequency: 10 seconds\n`, 'update_frequency "10 seconds": use a number followed by'],
      [`${base}update_frequency: 10\n`, 'update_frequency: expected string, got 10 (quote it, or write a duration such as 10s)'],
      [`${base}mode: push\n`, 'mode: "push" is not allowed; use one of stream, live'],
      [`${base}update_frequency: 1m\nunhealthy_after: 30s\n`, 'unhealthy_after: must be at least update_frequency'],
      [`${base}trusted_proxies: [10.0.0.0/33]\n`, 'trusted_proxies[0] "10.0.0.0/33": not an IP address or CIDR range'],
      [`${base}real_ip_header: X-Client-IP\n`, 'real_ip_header: "X-Client-IP": use X-Forwarded-For, Forwarded or X-Real-IP'],
      [`${base}listen: localhost\n`, 'listen "localhost": use HOST:PORT'],
      [`${base}usage_metrics_interval: 1m\n`, 'usage_metrics_interval: at least 10m'],
      [base.replace('captcha:\n', 'captcha:\n  provider: turnstile\n'), 'captcha.provider turnstile needs captcha.site_key and captcha.secret_key'],
      [base.replace('captcha:\n', 'captcha:\n  difficulty: 40\n'), 'captcha.difficulty 40: use a whole number of bits from 1 to 32'],
      [base.replace('http://127.0.0.1:8080/', '127.0.0.1:8080'), 'api_url: "127.0.0.1:8080" is not a URL; use e.g. http://127.0.0.1:8080/'],
      [base.replace('http://127.0.0.1:8080/', 'ftp://127.0.0.1/'), 'api_url: use an http:// or https:// URL'],
      ['api_url: [unclosed\n', 'YAML error at line'],
    ];
    for (const [yaml, message] of cases) {
      const r = await check(yaml);
      expect(r.code, yaml).toBe(1);
      expect(r.err, yaml).toMatch(/^level=fatal msg="config file .*fa\.yaml: /);
      expect(r.err, yaml).toContain(message.replace(/"/g, '\\"'));
      expect(r.err.split('\n').length, yaml).toBe(2); // one line
      expect(r.err).not.toContain('abcdef0123456789');
    }
  });

  it('names the default file when none is given and it is missing', async () => {
    const { io, err } = cliIo(dir);
    expect(await main(['bouncer', 'forward-auth', '-t'], io)).toBe(1);
    expect(err.join('')).toContain('/etc/crowdsec/bouncers/vigil-forward-auth.yaml: cannot read it (ENOENT)');
  });
});

describe('forward-auth daemon (the Traefik / Caddy protocol) against vigil serve', () => {
  const clock = new ManualClock(T0);
  let lapi: TestLapi;
  let fa: ForwardAuthServer;
  let dir: string;
  let key: string;
  const logs: string[] = [];

  beforeAll(async () => {
    lapi = await startTestLapi(clock);
    key = await lapi.addBouncer('forward-auth');
    await lapi.addDecision('Ip', '203.0.113.7', 'ban');
    await lapi.addDecision('Ip', '203.0.113.9', 'captcha');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-fa-'));
    const file = writeForwardAuthFile({
      dir,
      name: 'fa',
      apiUrl: lapi.url,
      key: '${FA_KEY}',
      updateFrequency: '10s',
      trustedProxies: ['127.0.0.1'],
      captchaDifficulty: 10,
    });
    const config = loadForwardAuthConfig(file, { env: { FA_KEY: key } });
    const log = pino({ level: 'debug' }, { write: (s: string) => (logs.push(s), true) } as unknown as NodeJS.WritableStream);
    fa = await startForwardAuth(config, { log, clock });
    await fa.bouncer.ready();
  });
  afterAll(async () => {
    await fa?.close();
    await lapi?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  // What Traefik's forwardAuth sends: the client in X-Forwarded-For, the original request in X-Forwarded-*.
  const traefik = (client: string, uri: string, extra: Record<string, string> = {}) => ({
    headers: {
      'X-Forwarded-For': client,
      'X-Forwarded-Method': 'GET',
      'X-Forwarded-Proto': 'https',
      'X-Forwarded-Host': 'shop.example',
      'X-Forwarded-Uri': uri,
      ...extra,
    },
  });

  it('reports healthy with the age of the last pull', async () => {
    const r = await request(fa.url, '/health');
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text)).toMatchObject({
      status: 'healthy',
      healthy: true,
      mode: 'stream',
      last_pull_age_seconds: 0,
      decisions: 2,
      last_error: null,
      version: expect.stringMatching(/^v\d/),
    });
  });

  it('200 for a clean client, 403 with the page for a banned one', async () => {
    const ok = await request(fa.url, '/auth', traefik('198.51.100.1', '/cart'));
    expect(ok).toMatchObject({ status: 200, text: '' });
    const ban = await request(fa.url, '/auth', traefik('203.0.113.7', '/cart', { Accept: 'text/html' }));
    expect(ban.status).toBe(403);
    expect(ban.text).toContain('Access denied');
  });

  it('captcha: 401 with the page; the answer comes back through the check and earns a cookie', async () => {
    const page = await request(fa.url, '/auth', traefik('203.0.113.9', '/cart?x=1', { Accept: 'text/html' }));
    expect(page.status).toBe(401);
    const { challenge, nonce } = solvePage(page.text);
    const verify = `/.vigil/captcha/verify?c=${encodeURIComponent(challenge)}&n=${nonce}&r=${encodeURIComponent('/cart?x=1')}`;
    const solved = await request(fa.url, '/auth', traefik('203.0.113.9', verify));
    expect(solved.status).toBe(303);
    expect(solved.headers.location).toBe('/cart?x=1');
    const setCookie = String(solved.headers['set-cookie']);
    expect(setCookie).toContain('; Secure'); // X-Forwarded-Proto: https from a trusted proxy
    const cookie = setCookie.split(';')[0]!;
    expect((await request(fa.url, '/auth', traefik('203.0.113.9', '/cart?x=1', { Cookie: cookie }))).status).toBe(200);
    // nginx's path: the verify URL proxied straight to the daemon.
    const direct = await request(fa.url, verify, { headers: { 'X-Forwarded-For': '203.0.113.9' } });
    expect(direct.status).toBe(303);
  });

  it('serves the render path for nginx and 404 for other /.vigil/ paths', async () => {
    expect((await request(fa.url, '/.vigil/remediation', { headers: { 'X-Forwarded-For': '203.0.113.7' } })).status).toBe(403);
    expect((await request(fa.url, '/.vigil/remediation', { headers: { 'X-Forwarded-For': '203.0.113.9' } })).status).toBe(401);
    expect((await request(fa.url, '/.vigil/remediation', { headers: { 'X-Forwarded-For': '198.51.100.1' } })).status).toBe(200);
    expect((await request(fa.url, '/.vigil/nothing')).status).toBe(404);
  });

  it('turns unhealthy (503) once the Local API has been gone for unhealthy_after; clean traffic still passes', async () => {
    await lapi.close();
    await fa.bouncer.pull();
    clock.advance(29_000);
    expect((await request(fa.url, '/health')).status).toBe(200);
    clock.advance(2_000);
    await fa.bouncer.pull();
    const h = await request(fa.url, '/health');
    expect(h.status).toBe(503);
    const body = JSON.parse(h.text);
    expect(body).toMatchObject({ status: 'unhealthy', healthy: false, last_error: { kind: 'network' } });
    expect(body.last_pull_age_seconds).toBe(31);
    expect(body.summary).toContain('cannot reach the Local API');
    expect((await request(fa.url, '/auth', traefik('198.51.100.1', '/'))).status).toBe(200);
    expect((await request(fa.url, '/auth', traefik('203.0.113.7', '/'))).status).toBe(403);
  });

  it('never logs the API key; logs one line per remediation and the health change', () => {
    const all = logs.join('');
    expect(all).not.toContain(key);
    expect(all).toContain('"msg":"ban 203.0.113.7 (cscli: test ban)"');
    expect(all).toContain('bouncer unhealthy: no successful pull for 31s');
    expect(fs.statSync(path.join(dir, 'fa-captcha.key')).mode & 0o777).toBe(0o600);
    expect(all).not.toContain(fs.readFileSync(path.join(dir, 'fa-captcha.key'), 'utf8').trim());
  });
});

describe('vigil bouncer forward-auth (the command)', () => {
  it('starts, answers /health, and stops on a signal', async () => {
    const clock = new ManualClock(T0);
    const lapi = await startTestLapi(clock);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-fa-cli-'));
    try {
      const key = await lapi.addBouncer('fa-cli');
      fs.writeFileSync(path.join(dir, 'fa.yaml'), `api_url: ${lapi.url}\napi_key: ${key}\nlisten: 127.0.0.1:0\ncaptcha:\n  signing_key_file: ${dir}/k\n`);
      let stop!: (s: string) => void;
      const { io, out } = cliIo(dir, {}, new Promise<string>((r) => (stop = r)));
      const running = main(['bouncer', 'forward-auth', '-c', 'fa.yaml'], io);
      let url = '';
      await eventually('the listening line', () => {
        const line = out.find((l) => l.includes('Vigil forward-auth listening on'));
        if (line) url = JSON.parse(line).listen;
        return url !== '';
      });
      await eventually('healthy', async () => (await request(url, '/health')).status === 200);
      stop('SIGTERM');
      expect(await running).toBe(0);
      expect(out.join('')).toContain('"msg":"stopped"');
      expect(out.join('')).not.toContain(key);
      await lapi.server.activity.flush();
      expect((await getBouncer(lapi.server.store, 'fa-cli'))?.type).toBe('vigil-bouncer');
    } finally {
      await lapi.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
