import { gzipSync } from 'node:zlib';
import { sign } from 'hono/jwt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../src/app/serve.ts';
import { ManualClock } from '../src/lib/clock.ts';
import { getMachine } from '../src/store/machines.ts';
import { refusedRequests } from '../src/store/refused-requests.ts';
import { DIALECTS } from './support/databases.ts';
import { requestFrom } from './support/http-from.ts';
import { jwtHeaders, MACHINE, PASSWORD, REG_TOKEN, startWatcherApi, T0, UA, type WatcherApi } from './support/watcher-api-server.ts';
import { postWatcherLogin } from './support/watcher-login.ts';

/**
 * The watcher (machine) side over real HTTP on loopback, against `vigil serve` on each database,
 * checked against CrowdSec 1.4.6's captured bodies (docs/reference/crowdsec-wire-protocol.md §3, §5):
 * logging in, tokens, heartbeats, registering. test/watcher-api-alerts.test.ts has alerts and decisions.
 */
for (const dialect of DIALECTS) {
  describe(`${dialect}: watcher API over HTTP: login, tokens, registration`, () => {
    let api: WatcherApi;
    let server: RunningServer;
    let other: RunningServer;
    const clock = new ManualClock(T0);
    let token = '';

    const login = (body: unknown, ua = UA) => postWatcherLogin(server.url, body, ua);
    const jwt = (t = token) => jwtHeaders(t);
    const refusedReasons = async () => {
      await server.activity.flush();
      return (await refusedRequests(server.store, { limit: 100 })).map((r) => `${r.reason}:${r.bouncerName}`);
    };

    beforeAll(async () => {
      api = await startWatcherApi(dialect, clock);
      ({ server, other } = api);
    });
    afterAll(async () => {
      await api?.close();
    });

    it('logs in as CrowdSec does: {code, expire, token}, HS256 {exp, id, orig_iat}, 1 h; records ip, version, scenarios', async () => {
      const r = await login({ machine_id: MACHINE, password: PASSWORD, scenarios: ['crowdsecurity/ssh-bf', 'crowdsecurity/http-probing'] });
      expect(r.status).toBe(200);
      expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
      const body = JSON.parse(r.text);
      expect(Object.keys(body)).toEqual(['code', 'expire', 'token']);
      expect(body.code).toBe(200);
      expect(body.expire).toBe('2026-11-24T05:18:06Z');
      const [h, p] = body.token.split('.');
      expect(JSON.parse(Buffer.from(h, 'base64url').toString())).toEqual({ alg: 'HS256', typ: 'JWT' });
      expect(JSON.parse(Buffer.from(p, 'base64url').toString())).toEqual({ exp: T0 / 1000 + 3600, id: MACHINE, orig_iat: T0 / 1000 });
      token = body.token;
      const m = await getMachine(server.store, MACHINE);
      expect(m).toMatchObject({
        ipAddress: '127.0.0.1',
        version: 'v1.4.6-6~deb12u1+b1-linux-debian',
        scenarios: 'crowdsecurity/ssh-bf,crowdsecurity/http-probing',
        lastLoginAt: T0,
      });
    });

    it('refuses bad logins with CrowdSec bodies and the JWT realm, records why, and stores nothing', async () => {
      const cases: Array<[unknown, string, string]> = [
        [{ machine_id: MACHINE, password: 'wrong' }, 'incorrect Username or Password', 'login:bad-password'],
        [{ machine_id: 'nobody', password: PASSWORD }, 'incorrect Username or Password', 'login:unknown-machine'],
        [{ machine_id: 'pending', password: PASSWORD }, 'incorrect Username or Password', 'login:not-validated'],
        [{}, 'input format error', 'login:bad-input'],
        ['x{', "missing: invalid character 'x' looking for beginning of value", 'login:bad-input'],
      ];
      for (const [body, message] of cases) {
        const r = await login(body);
        expect(r.status).toBe(401);
        expect(JSON.parse(r.text)).toEqual({ code: 401, message });
        expect(r.headers['www-authenticate']).toBe('JWT realm=Crowdsec API local');
      }
      const badUa = await login({ machine_id: MACHINE, password: PASSWORD }, 'curl');
      expect(badUa.status).toBe(401);
      const reasons = await refusedReasons();
      for (const want of [
        'login:bad-password:' + MACHINE,
        'login:unknown-machine:nobody',
        'login:not-validated:pending',
        'login:bad-input:',
        'login:bad-user-agent:' + MACHINE,
      ]) {
        expect(reasons).toContain(want);
      }
      expect(await getMachine(server.store, 'nobody')).toBeUndefined();
      expect((await getMachine(server.store, 'pending'))?.lastLoginAt).toBeNull();
    });

    it('accepts a gzip login body and refuses one over 2 MiB once inflated', async () => {
      const ok = await requestFrom(`${server.url}/v1/watchers/login`, {
        method: 'POST',
        headers: { 'User-Agent': UA, 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' },
        body: gzipSync(JSON.stringify({ machine_id: MACHINE, password: PASSWORD, scenarios: null })),
      });
      expect(ok.status).toBe(200);
      const bomb = await requestFrom(`${server.url}/v1/watchers/login`, {
        method: 'POST',
        headers: { 'User-Agent': UA, 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' },
        body: gzipSync(JSON.stringify({ machine_id: MACHINE, password: PASSWORD, pad: 'a'.repeat(3 * 1024 * 1024) })),
      });
      expect(bomb.status).toBe(413);
    });

    it('answers heartbeats on either replica with a token from one (the key is in the store)', async () => {
      clock.set(T0 + 60_000);
      const a = await requestFrom(`${server.url}/v1/heartbeat`, { headers: jwt() });
      expect(a.status).toBe(200);
      expect(a.text).toBe('');
      expect(a.headers['content-length']).toBe('0');
      clock.set(T0 + 120_000);
      const b = await requestFrom(`${other.url}/v1/heartbeat`, { headers: jwt() });
      expect(b.status).toBe(200);
      expect((await getMachine(server.store, MACHINE))?.lastHeartbeatAt).toBe(T0 + 120_000);
    });

    it('refuses missing, forged, expired and alg-none tokens with 401 and gin-jwt messages', async () => {
      const missing = await requestFrom(`${server.url}/v1/heartbeat`);
      expect(missing.status).toBe(401);
      expect(missing.text).toBe('{"code":401,"message":"cookie token is empty"}');
      expect(missing.headers['www-authenticate']).toBe('JWT realm=Crowdsec API local');
      const now = Math.floor(clock.now() / 1000);
      const forged = await sign({ exp: now + 3600, id: MACHINE, orig_iat: now }, 'not-the-key', 'HS256');
      const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify({ exp: now + 3600, id: MACHINE, orig_iat: now })).toString('base64url')}.`;
      const hs512 = await sign({ exp: now + 3600, id: MACHINE, orig_iat: now }, 'k', 'HS512');
      const cases: Array<[string, string]> = [
        [forged, 'signature is invalid'],
        [none, 'invalid signing algorithm'],
        [hs512, 'invalid signing algorithm'],
        ['abc', 'token contains an invalid number of segments'],
        ['a.b.c', 'token is malformed'],
      ];
      for (const [t, message] of cases) {
        const r = await requestFrom(`${server.url}/v1/heartbeat`, { headers: jwt(t) });
        expect(r.status, t).toBe(401);
        expect(JSON.parse(r.text)).toEqual({ code: 401, message });
      }
      clock.set(T0 + 3600_000);
      const expired = await requestFrom(`${server.url}/v1/heartbeat`, { headers: jwt() });
      expect(expired.status).toBe(401);
      expect(JSON.parse(expired.text).message).toBe('Token is expired');
      // Within MaxRefresh of orig_iat a refresh is still possible? Exactly at the limit it is not.
      const refresh = await requestFrom(`${server.url}/v1/refresh_token`, { headers: jwt() });
      expect(refresh.status).toBe(401);
      const reasons = await refusedReasons();
      expect(reasons).toContain('jwt:invalid:');
      expect(reasons).toContain('jwt:expired:');
      clock.set(T0 + 200_000);
      const fresh = JSON.parse((await login({ machine_id: MACHINE, password: PASSWORD })).text).token;
      const refreshed = await requestFrom(`${server.url}/v1/refresh_token`, { headers: jwt(fresh) });
      expect(refreshed.status).toBe(200);
      token = JSON.parse(refreshed.text).token;
    });

    it('registers: 201 pending, 202 with the token, 401 wrong token, 403 existing, 422 missing fields; 405 wrong method; unregisters with 204', async () => {
      const reg = (body: unknown) =>
        requestFrom(`${server.url}/v1/watchers`, {
          method: 'POST',
          headers: { 'User-Agent': UA, 'Content-Type': 'application/json' },
          body: JSON.stringify(body),
        });
      const pending = await reg({ machine_id: 'newmachine1', password: 'secretpassword123' });
      expect(pending.status).toBe(201);
      expect(pending.text).toBe('');
      expect((await getMachine(server.store, 'newmachine1'))?.isValidated).toBe(false);
      expect((await reg({ machine_id: 'newmachine1', password: 'x' })).status).toBe(403);
      const auto = await reg({ machine_id: 'auto1', password: 'secretpassword123', registration_token: REG_TOKEN });
      expect(auto.status).toBe(202);
      expect((await getMachine(server.store, 'auto1'))?.isValidated).toBe(true);
      const wrong = await reg({ machine_id: 'auto2', password: 'secretpassword123', registration_token: 'y'.repeat(40) });
      expect(wrong.status).toBe(401);
      expect(JSON.parse(wrong.text)).toEqual({ message: 'invalid token for auto registration' });
      expect(await getMachine(server.store, 'auto2')).toBeUndefined();
      const incomplete = await reg({ machine_id: 'x' });
      expect(incomplete.status).toBe(422);
      expect(JSON.parse(incomplete.text).message).toBe('validation failure list:\npassword in body is required');
      expect((await requestFrom(`${server.url}/v1/watchers`, { method: 'POST', headers: { 'User-Agent': UA }, body: 'nope' })).status).toBe(400);
      expect((await requestFrom(`${server.url}/v1/watchers/login`)).status).toBe(405);
      expect((await requestFrom(`${server.url}/v1/alerts`, { method: 'PUT', headers: jwt() })).status).toBe(405);
      const autoToken = JSON.parse((await login({ machine_id: 'auto1', password: 'secretpassword123' })).text).token;
      const self = await requestFrom(`${server.url}/v1/watchers/self`, { method: 'DELETE', headers: jwt(autoToken) });
      expect(self.status).toBe(204);
      expect(await getMachine(server.store, 'auto1')).toBeUndefined();
      // Its token no longer opens anything.
      expect((await requestFrom(`${server.url}/v1/heartbeat`, { headers: jwt(autoToken) })).status).toBe(401);
    });
  });
}
