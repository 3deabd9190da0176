import crypto from 'node:crypto';
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { useCleanups } from '../../test/support/cleanups.ts';
import { ManualClock } from '../lib/clock.ts';
import { CaptchaService, cookieValue, leadingZeroBits, loadOrCreateSigningKey, solvesChallenge } from './captcha.ts';
import { POW_SOLVER_JS, captchaPage, safeReturnPath } from './pages.ts';
import { createBouncer } from './bouncer.ts';

const T0 = Date.UTC(2026, 10, 24, 6, 0, 0);

function solve(challenge: string, difficulty: number): string {
  for (let n = 0; ; n++) if (solvesChallenge(challenge, String(n), difficulty)) return String(n);
}

describe('proof-of-work captcha', () => {
  const cleanups = useCleanups();
  it('the page script computes the same SHA-256 test as node:crypto', () => {
    const ctx: { vigilPowOk?: (t: string, d: number) => boolean } = {};
    vm.runInNewContext(POW_SOLVER_JS, ctx);
    const ok = ctx.vigilPowOk!;
    for (let i = 0; i < 3000; i++) {
      const text = `${crypto.randomBytes(1 + (i % 90)).toString('base64url')}:${i}`;
      const bits = leadingZeroBits(crypto.createHash('sha256').update(text).digest());
      for (const d of [1, 4, 8, bits, bits + 1, 31, 32, 33]) {
        expect(ok(text, d), `${text} @${d}`).toBe(bits >= d);
      }
    }
    // And it finds what the server accepts.
    const clock = new ManualClock(T0);
    const svc = new CaptchaService({ difficulty: 10 }, clock);
    const { challenge } = svc.issueChallenge('192.0.2.1');
    let n = 0;
    while (!ok(`${challenge}:${n}`, 10)) n++;
    expect(svc.verifySolution('192.0.2.1', challenge, String(n))).toBe(true);
  });

  it('a solution counts only for the address it was issued to, while fresh, at the configured difficulty', () => {
    const clock = new ManualClock(T0);
    const svc = new CaptchaService({ difficulty: 8, signingKey: 'k'.repeat(32) }, clock);
    const { challenge } = svc.issueChallenge('192.0.2.1');
    const nonce = solve(challenge, 8);
    expect(svc.verifySolution('192.0.2.1', challenge, nonce)).toBe(true);
    expect(svc.verifySolution('192.0.2.2', challenge, nonce)).toBe(false);
    expect(svc.verifySolution('192.0.2.1', challenge.replace(/\.8\./, '.1.'), nonce)).toBe(false); // tampered difficulty
    expect(svc.verifySolution('192.0.2.1', challenge, 'x')).toBe(false);
    const harder = new CaptchaService({ difficulty: 12, signingKey: 'k'.repeat(32) }, clock);
    expect(harder.verifySolution('192.0.2.1', challenge, nonce)).toBe(false); // easier than today's setting
    clock.advance(11 * 60_000);
    expect(svc.verifySolution('192.0.2.1', challenge, nonce)).toBe(false); // expired
    const otherKey = new CaptchaService({ difficulty: 8, signingKey: 'z'.repeat(32) }, clock);
    expect(otherKey.verifySolution('192.0.2.1', challenge, nonce)).toBe(false);
  });

  it('a pass cookie is signed, bound to the address and expires after its lifetime', () => {
    const clock = new ManualClock(T0);
    const svc = new CaptchaService({ lifetimeMs: 3600_000 }, clock);
    const setCookie = svc.passCookie('2001:db8::5', true);
    expect(setCookie).toMatch(/^vigil_captcha=\d+\.[\w-]+; Max-Age=3600; Path=\/; HttpOnly; SameSite=Lax; Secure$/);
    const header = `a=b; ${setCookie.split(';')[0]}; c=d`;
    expect(svc.hasPass('2001:db8::5', header)).toBe(true);
    expect(svc.hasPass('2001:db8::6', header)).toBe(false);
    expect(
      svc.hasPass(
        '2001:db8::5',
        header.replace(/=(\d+)\./, (_, e) => `=${Number(e) + 9999}.`),
      ),
    ).toBe(false);
    expect(svc.hasPass('2001:db8::5', undefined)).toBe(false);
    clock.advance(3600_000);
    expect(svc.hasPass('2001:db8::5', header)).toBe(false);
    expect(cookieValue('x=1; y = 2', 'y')).toBe('2');
  });

  it('the signing key is generated once, 0600, and reused', () => {
    const file = path.join(cleanups.tempDir('vigil-key-'), 'sub', 'captcha.key');
    const a = loadOrCreateSigningKey(file);
    const b = loadOrCreateSigningKey(file);
    expect(a.equals(b)).toBe(true);
    expect(a.length).toBe(32);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(path.dirname(file))).toEqual(['captcha.key']);
    fs.writeFileSync(file, 'short\n');
    expect(() => loadOrCreateSigningKey(file)).toThrow(/fewer than 16 bytes; delete it/);
  });

  it('pages: the challenge is embedded and escaped; JSON when asked; providers load their widget', () => {
    const page = captchaPage({ ip: '192.0.2.1', provider: 'pow', challenge: 'a"b', difficulty: 9 }, false);
    expect(page.status).toBe(401);
    expect(page.body).toContain('data-challenge="a&quot;b"');
    expect(page.body).toContain('data-difficulty="9"');
    expect(captchaPage({ ip: '1', provider: 'pow' }, true)).toMatchObject({ status: 401, headers: { 'Content-Type': 'application/json; charset=utf-8' } });
    const t = captchaPage({ ip: '1', provider: 'turnstile', siteKey: '0x4AAA' }, false).body;
    expect(t).toContain('challenges.cloudflare.com/turnstile');
    expect(t).toContain('data-sitekey="0x4AAA"');
    expect(captchaPage({ ip: '1', provider: 'hcaptcha', siteKey: 's' }, false).body).toContain('class="h-captcha"');
    expect(captchaPage({ ip: '1', provider: 'recaptcha', siteKey: 's' }, false).body).toContain('class="g-recaptcha"');
  });

  it('returns only to a path on the same site', () => {
    expect(safeReturnPath('/shop?x=1')).toBe('/shop?x=1');
    for (const bad of ['//evil.example/', 'https://evil.example/', '/\\evil', '', null, 'shop', '/.vigil/captcha/verify?c=1']) {
      expect(safeReturnPath(bad)).toBe('/');
    }
  });
});

describe('provider captcha (Turnstile, hCaptcha, reCAPTCHA)', () => {
  it('checks the widget token with siteverify (secret, response, remoteip) and passes on success only', async () => {
    // The providers are on the internet; a loopback stand-in speaks their siteverify form protocol.
    const seen: URLSearchParams[] = [];
    const siteverify = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const form = new URLSearchParams(body);
        seen.push(form);
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ success: form.get('secret') === 's3cret' && form.get('response') === 'good-token' }));
      });
    });
    await new Promise<void>((r) => siteverify.listen(0, '127.0.0.1', () => r()));
    const verifyUrl = `http://127.0.0.1:${(siteverify.address() as { port: number }).port}/siteverify`;
    try {
      const clock = new ManualClock(T0);
      const svc = new CaptchaService({ provider: 'turnstile', siteKey: 'site', secretKey: 's3cret', verifyUrl }, clock);
      expect(await svc.verifyProviderToken('192.0.2.1', 'good-token')).toBe(true);
      expect(await svc.verifyProviderToken('192.0.2.1', 'bad-token')).toBe(false);
      expect(await svc.verifyProviderToken('192.0.2.1', '')).toBe(false);
      expect(seen[0]?.get('remoteip')).toBe('192.0.2.1');
      const down = new CaptchaService({ provider: 'hcaptcha', siteKey: 'site', secretKey: 's3cret', verifyUrl: 'http://127.0.0.1:9/' }, clock);
      expect(await down.verifyProviderToken('192.0.2.1', 'good-token')).toBe(false);

      // Through the bouncer: the page loads the widget; a good token earns the pass cookie.
      const b = createBouncer({
        apiUrl: 'http://127.0.0.1:9/',
        apiKey: 'k',
        autoStart: false,
        clock,
        captcha: { provider: 'turnstile', siteKey: 'site-key-1', secretKey: 's3cret', verifyUrl },
        logger: { debug() {}, info() {}, warn() {}, error() {} },
      });
      b.cache.replace([{ id: 1, origin: 'crowdsec', type: 'captcha', scope: 'Ip', value: '192.0.2.9', duration: '1h', scenario: 's' }], T0);
      const view = (url: string, cookie?: string) => ({ method: 'GET', url, headers: cookie ? { cookie } : {}, peer: '192.0.2.9' });
      const page = (await b.handle(view('/'))) as { status: number; body: string };
      expect(page.status).toBe(401);
      expect(page.body).toContain('data-sitekey="site-key-1"');
      const bad = (await b.handle(view('/.vigil/captcha/verify?t=bad-token&r=%2F'))) as { status: number };
      expect(bad.status).toBe(401);
      const good = (await b.handle(view('/.vigil/captcha/verify?t=good-token&r=%2Fx'))) as { status: number; headers: Record<string, string> };
      expect(good.status).toBe(303);
      expect(good.headers.Location).toBe('/x');
      const cookie = good.headers['Set-Cookie']!.split(';')[0]!;
      expect(await b.handle(view('/x', cookie))).toMatchObject({ action: 'allow' });
    } finally {
      await new Promise<void>((r) => siteverify.close(() => r()));
    }
  });
});
