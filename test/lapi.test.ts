import { beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from './support/databases.ts';
import { useInProcessServer } from './support/in-process-server.ts';
import { requestFrom } from './support/http-from.ts';
import { ManualClock } from '../src/lib/clock.ts';
import { hashApiKey } from '../src/core/bouncers/api-key.ts';
import { buildDecision, manualAlert } from '../src/decisions/new-decisions.ts';
import type { Store } from '../src/store/store.ts';
import { createBouncer, deleteBouncers, getBouncer, setBouncerRevoked } from '../src/store/bouncers.ts';
import { addDecisions, softDeleteDecisions } from '../src/store/decisions.ts';
import { refusedRequests } from '../src/store/refused-requests.ts';

/**
 * The bouncer-facing Local API over real HTTP on loopback, on each database, checked against the
 * behaviour captured from CrowdSec 1.4.6 (docs/reference/crowdsec-wire-protocol.md §4, §7).
 */
const T0 = Date.UTC(2026, 10, 24, 4, 18, 0);
const KEY = 'e8759c581418ed9f77e91dcb2d6082f8';

async function addDecision(store: Store, now: number, scope: string, value: string, duration: string, reason: string, type = 'ban') {
  const d = buildDecision({ scope, value, type, duration, reason, origin: 'cscli' }, now);
  const { decisionIds } = await addDecisions(store, manualAlert({ now, scenario: reason, scope: d.scope, value: d.value, count: 1, machineId: 'vigil' }), [d]);
  return decisionIds[0]!;
}

for (const dialect of DIALECTS) {
  describe(`${dialect}: Local API over HTTP`, () => {
    const clock = new ManualClock(T0);
    const server = useInProcessServer(dialect, clock, (config) => {
      config.metricsListen = { host: '127.0.0.1', port: 0 };
    });
    const auth = { 'X-Api-Key': KEY, 'User-Agent': 'crowdsec-custom-bouncer/-' };
    const ids: Record<string, number> = {};

    beforeAll(async () => {
      await createBouncer(server().store, { name: 'custom', apiKeyHash: hashApiKey(KEY), now: T0 });
      // The decision set the reference's filter table was captured with.
      ids.test = await addDecision(server().store, T0, 'Ip', '192.0.2.1', '5m', 'test');
      ids.rangetest = await addDecision(server().store, T0, 'Range', '198.51.100.0/24', '1h', 'rangetest');
      ids.captcha = await addDecision(server().store, T0, 'Ip', '192.0.2.2', '2h', "manual 'captcha' from 'vigil'", 'captcha');
      ids.user = await addDecision(server().store, T0, 'username', 'foobar', '4h', 'usertest');
      ids.v6 = await addDecision(server().store, T0, 'Ip', '2001:db8::1', '10m', "manual 'ban' from 'vigil'");
      ids.v6range = await addDecision(server().store, T0, 'Range', '2001:db8:1::/48', '11m', "manual 'ban' from 'vigil'");
      ids.country = await addDecision(server().store, T0, 'Country', 'FR', '3h', "manual 'ban' from 'vigil'");
      await server().sync.refresh();
      clock.set(T0 + 1500);
    });

    const values = (body: string) => (JSON.parse(body) ?? []).map((d: { value: string }) => d.value);

    it('answers /health without a key', async () => {
      const r = await requestFrom(`${server().url}/health`);
      expect(r.status).toBe(200);
      expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(r.text).toBe('{"status":"up"}');
    });

    it('refuses missing, empty and wrong keys with the same 403 body, and records them', async () => {
      const cases: Record<string, string>[] = [{}, { 'X-Api-Key': '' }, { 'X-Api-Key': 'wrong', 'User-Agent': 'curl/8.0' }];
      for (const headers of cases) {
        const r = await requestFrom(`${server().url}/v1/decisions`, { headers });
        expect(r.status).toBe(403);
        expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
        expect(r.text).toBe('{"message":"access forbidden"}');
      }
      await server().activity.flush();
      const refused = await refusedRequests(server().store);
      expect(refused.map((x) => x.reason).sort()).toEqual(['missing', 'missing', 'unknown']);
      const wrong = refused.find((x) => x.reason === 'unknown')!;
      expect(wrong).toMatchObject({ peerIp: '127.0.0.1', userAgent: 'curl/8.0', path: '/v1/decisions', method: 'GET' });
      expect(wrong.keyFingerprint).toMatch(/^[0-9a-f]{16}$/);
      expect(wrong.keyFingerprint).not.toContain('wrong');
    });

    it('matches ?ip= exactly as CrowdSec, with Go durations and null for nothing', async () => {
      const hit = await requestFrom(`${server().url}/v1/decisions?ip=192.0.2.1`, { headers: auth });
      expect(hit.status).toBe(200);
      expect(hit.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(hit.text).toBe(`[{"duration":"4m58.5s","id":${ids.test},"origin":"cscli","scenario":"test","scope":"Ip","type":"ban","value":"192.0.2.1"}]`);
      const miss = await requestFrom(`${server().url}/v1/decisions?ip=192.0.2.99`, { headers: auth });
      expect(miss.text).toBe('null');
      expect(miss.headers['content-length']).toBe('4');
      expect(values((await requestFrom(`${server().url}/v1/decisions?ip=198.51.100.7`, { headers: auth })).text)).toEqual(['198.51.100.0/24']);
      expect(values((await requestFrom(`${server().url}/v1/decisions?ip=2001:db8:1::5`, { headers: auth })).text)).toEqual(['2001:db8:1::/48']);
      expect(values((await requestFrom(`${server().url}/v1/decisions?ip=::ffff:192.0.2.1`, { headers: auth })).text)).toEqual(['192.0.2.1']);
    });

    it('applies every filter of the reference table', async () => {
      const q = async (query: string) => values((await requestFrom(`${server().url}/v1/decisions${query}`, { headers: auth })).text);
      expect(await q('')).toHaveLength(7);
      // Ordered by expiry, as CrowdSec's until index orders them.
      expect(await q('')).toEqual(['192.0.2.1', '2001:db8::1', '2001:db8:1::/48', '198.51.100.0/24', '192.0.2.2', 'FR', 'foobar']);
      expect(await q('?range=198.51.100.0/24')).toEqual(['198.51.100.0/24']);
      expect(await q('?range=198.51.100.0/28')).toEqual(['198.51.100.0/24']);
      expect(await q('?range=198.51.100.0/16')).toEqual([]);
      expect(await q('?range=198.51.100.0/16&contains=false')).toEqual(['198.51.100.0/24']);
      expect(await q('?range=198.51.100.0/28&contains=false')).toEqual([]);
      expect(await q('?scope=username')).toHaveLength(7);
      expect(await q('?scope=username&value=foobar')).toEqual(['foobar']);
      expect(await q('?value=foobar')).toEqual(['foobar']);
      expect(await q('?scope=Country&value=FR')).toEqual(['FR']);
      expect(await q('?type=captcha')).toEqual(['192.0.2.2']);
      expect(await q('?type=ban&ip=192.0.2.2')).toEqual([]);
      expect(await q('?scenarios_containing=test')).toEqual(['192.0.2.1', '198.51.100.0/24', 'foobar']);
      expect(await q('?origins=cscli')).toHaveLength(7);
      expect(await q('?origins=crowdsec')).toEqual([]);
      expect(await q('?scope=Ip&value=198.51.100.7')).toEqual([]);
      expect(await q('?value=fr')).toEqual([]);
      expect(await q('?type=CAPTCHA&ip=192.0.2.2')).toEqual([]);
      expect(await q('?scenarios_containing=TEST&ip=198.51.100.1')).toEqual(['198.51.100.0/24']);
      expect(await q('?ip=192.0.2.2&ip=10.1.0.1')).toEqual(['192.0.2.2']);
      expect(await q('?unknownparam=1&ip=192.0.2.2')).toEqual(['192.0.2.2']);
    });

    it('refuses a malformed ip or range with 400 and a message naming the field', async () => {
      for (const [query, field] of [
        ['?ip=', 'ip'],
        ['?ip=bogus', 'ip'],
        ['?range=bogus', 'range'],
        ['?range=10.0.0.0/33', 'range'],
        ['?contains=maybe&range=10.0.0.0/8', 'contains'],
      ]) {
        const r = await requestFrom(`${server().url}/v1/decisions${query}`, { headers: auth });
        expect(r.status, query).toBe(400);
        expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
        expect(JSON.parse(r.text).message).toMatch(new RegExp(`^${field} `));
      }
    });

    it('answers HEAD with 200 text/plain, no body, no Content-Length', async () => {
      const r = await requestFrom(`${server().url}/v1/decisions?ip=192.0.2.1`, { method: 'HEAD', headers: auth });
      expect(r.status).toBe(200);
      expect(r.headers['content-type']).toBe('text/plain; charset=utf-8');
      expect(r.headers['content-length']).toBeUndefined();
      expect(r.text).toBe('');
      const bad = await requestFrom(`${server().url}/v1/decisions/stream?startup=true`, { method: 'HEAD', headers: { 'X-Api-Key': 'nope' } });
      expect(bad.status).toBe(403);
    });

    it('keeps CrowdSec status quirks: trailing slash, unknown path, wrong method', async () => {
      const slash = await requestFrom(`${server().url}/v1/decisions/`, { headers: auth });
      expect(slash.status).toBe(301);
      expect(slash.headers.location).toBe('/v1/decisions');
      expect(slash.text).toBe('<a href="/v1/decisions">Moved Permanently</a>.\n\n');
      const missing = await requestFrom(`${server().url}/v1/nothing`, { headers: auth });
      expect([missing.status, missing.text]).toEqual([404, '']);
      const post = await requestFrom(`${server().url}/v1/decisions`, { method: 'POST', headers: auth });
      expect([post.status, post.text]).toEqual([405, '']);
    });

    it('streams startup, then deltas on the per-bouncer cursor, with default scopes ip,range', async () => {
      clock.set(T0 + 60_000);
      const startup = await requestFrom(`${server().url}/v1/decisions/stream?startup=true`, { headers: auth });
      expect(startup.status).toBe(200);
      const s = JSON.parse(startup.text);
      expect(Object.keys(s)).toEqual(['deleted', 'new']);
      expect(s.deleted).toBeNull();
      expect(s.new.map((d: { value: string }) => d.value)).toEqual(['192.0.2.1', '2001:db8::1', '2001:db8:1::/48', '198.51.100.0/24', '192.0.2.2']);
      expect(Object.keys(s.new[0])).toEqual(['duration', 'id', 'origin', 'scenario', 'scope', 'type', 'value']);

      clock.set(T0 + 70_000);
      // The real bouncers send a bare `?` on every later pull.
      const nothing = await requestFrom(`${server().url}/v1/decisions/stream?`, { headers: auth });
      expect(nothing.text).toBe('{"deleted":null,"new":null}');
      expect(nothing.headers['content-length']).toBe('27');

      clock.set(T0 + 75_000);
      const newId = await addDecision(server().store, clock.now(), 'Ip', '203.0.113.5', '30m', 'newone');
      await softDeleteDecisions(server().store, [ids.test!], clock.now());
      clock.set(T0 + 80_000);
      const delta = JSON.parse((await requestFrom(`${server().url}/v1/decisions/stream`, { headers: auth })).text);
      expect(delta.new).toEqual([{ duration: '29m55s', id: newId, origin: 'cscli', scenario: 'newone', scope: 'Ip', type: 'ban', value: '203.0.113.5' }]);
      expect(delta.deleted).toEqual([{ duration: '-5s', id: ids.test, origin: 'cscli', scenario: 'test', scope: 'Ip', type: 'ban', value: '192.0.2.1' }]);

      const scoped = JSON.parse((await requestFrom(`${server().url}/v1/decisions/stream?startup=true&scopes=username`, { headers: auth })).text);
      expect(scoped.new.map((d: { value: string }) => d.value)).toEqual(['foobar']);
      const origins = await requestFrom(`${server().url}/v1/decisions/stream?startup=true&origins=crowdsec`, { headers: auth });
      expect(JSON.parse(origins.text).new).toBeNull();
      // Startup also lists every expired or deleted decision still stored.
      const again = JSON.parse((await requestFrom(`${server().url}/v1/decisions/stream?startup=true&scenarios_containing=test`, { headers: auth })).text);
      expect(again.deleted.map((d: { value: string }) => d.value)).toEqual(['192.0.2.1']);
      expect(again.deleted[0].duration).toBe('-5s');
    });

    it('records last pull, IP, type and version from the requests', async () => {
      await server().activity.flush();
      const b = (await getBouncer(server().store, 'custom'))!;
      expect(b).toMatchObject({ ipAddress: '127.0.0.1', type: 'crowdsec-custom-bouncer', version: '-', lastPullAt: clock.now(), lastRequestAt: clock.now() });
      // GET /v1/decisions moves last pull only when it is at least a minute old (CrowdSec's throttle).
      clock.advance(30_000);
      await requestFrom(`${server().url}/v1/decisions?ip=192.0.2.1`, { headers: { ...auth, 'User-Agent': 'a/b/c' } });
      await server().activity.flush();
      const b2 = (await getBouncer(server().store, 'custom'))!;
      expect(b2.lastPullAt).toBe(b.lastPullAt);
      expect(b2.lastRequestAt).toBe(clock.now());
      expect([b2.type, b2.version]).toEqual(['a/b/c', 'N/A']);
      clock.advance(31_000);
      await requestFrom(`${server().url}/v1/decisions?ip=192.0.2.1`, { headers: auth });
      // HEAD never moves it.
      clock.advance(120_000);
      await requestFrom(`${server().url}/v1/decisions`, { method: 'HEAD', headers: auth });
      await server().activity.flush();
      const b3 = (await getBouncer(server().store, 'custom'))!;
      expect(b3.lastPullAt).toBe(clock.now() - 120_000);
      expect(b3.lastRequestAt).toBe(clock.now());
    });

    it('refuses a revoked bouncer and a deleted one within the cache period', async () => {
      await createBouncer(server().store, { name: 'soon-revoked', apiKeyHash: hashApiKey('rk'), now: clock.now() });
      expect((await requestFrom(`${server().url}/v1/decisions`, { headers: { 'X-Api-Key': 'rk' } })).status).toBe(200);
      await setBouncerRevoked(server().store, 'soon-revoked', true, clock.now());
      clock.advance(1001);
      expect((await requestFrom(`${server().url}/v1/decisions`, { headers: { 'X-Api-Key': 'rk' } })).status).toBe(403);
      await deleteBouncers(server().store, ['soon-revoked']);
      clock.advance(1001);
      expect((await requestFrom(`${server().url}/v1/decisions`, { headers: { 'X-Api-Key': 'rk' } })).status).toBe(403);
      await server().activity.flush();
      const reasons = (await refusedRequests(server().store, { limit: 2 })).map((r) => [r.reason, r.bouncerName]);
      expect(reasons).toEqual([
        ['unknown', ''],
        ['revoked', 'soon-revoked'],
      ]);
    });

    it('serves Prometheus metrics on its own listener', async () => {
      await server().activity.flush();
      const text = await (await fetch(server().metricsUrl!)).text();
      expect(text).toMatch(/vigil_bouncer_last_pull_timestamp_seconds\{bouncer="custom",type="crowdsec-custom-bouncer"\} \d+/);
      expect(text).toMatch(/vigil_lapi_requests_total\{route="\/v1\/decisions",method="GET",status="200"\} \d+/);
      expect(text).toMatch(/vigil_lapi_refused_requests_total\{reason="unknown"\} [1-9]/);
      expect(text).toMatch(/vigil_decisions_active \d+/);
    });

    it('sees a decision written by another process through the store revision', async () => {
      const id = await addDecision(server().store, clock.now(), 'Ip', '203.0.113.77', '1h', 'from-cli');
      await server().sync.refresh();
      const r = await requestFrom(`${server().url}/v1/decisions?ip=203.0.113.77`, { headers: auth });
      expect(JSON.parse(r.text)[0].id).toBe(id);
      await softDeleteDecisions(server().store, [id], clock.now());
      await server().sync.refresh();
      expect((await requestFrom(`${server().url}/v1/decisions?ip=203.0.113.77`, { headers: auth })).text).toBe('null');
    });

    // Last: these add refused requests and move the clock.
    it('reads a repeated X-Api-Key as Go does: the first value decides', async () => {
      // node:http joins repeated custom headers with ", "; CrowdSec (Header.Get) takes the first.
      const first = await requestFrom(`${server().url}/v1/decisions?ip=192.0.2.1`, {
        headers: { 'X-Api-Key': [KEY, 'not-the-key'], 'User-Agent': auth['User-Agent'] },
      });
      expect(first.status).toBe(200);
      expect(first.text).toBe((await requestFrom(`${server().url}/v1/decisions?ip=192.0.2.1`, { headers: auth })).text);
      const second = await requestFrom(`${server().url}/v1/decisions?ip=192.0.2.1`, {
        headers: { 'X-Api-Key': ['not-the-key', KEY], 'User-Agent': auth['User-Agent'] },
      });
      expect(second.status).toBe(403);
      expect(second.text).toBe('{"message":"access forbidden"}');
    });

    it('answers a known key from its cache and a revoked one with 403 once the cache expires', async () => {
      const name = `cached-${dialect}`;
      const key = `cache-test-key-${dialect}`;
      await createBouncer(server().store, { name, apiKeyHash: hashApiKey(key), now: clock.now() });
      const h = { 'X-Api-Key': key, 'User-Agent': auth['User-Agent'] };
      expect((await requestFrom(`${server().url}/v1/decisions?ip=192.0.2.1`, { headers: h })).status).toBe(200);
      // Served from the cached answer (no store read): still 200 within the cache's second.
      expect((await requestFrom(`${server().url}/v1/decisions?ip=192.0.2.1`, { headers: h })).status).toBe(200);
      await deleteBouncers(server().store, [name]);
      clock.advance(1001);
      expect((await requestFrom(`${server().url}/v1/decisions?ip=192.0.2.1`, { headers: h })).status).toBe(403);
      expect((await requestFrom(`${server().url}/v1/decisions`, { method: 'HEAD', headers: h })).status).toBe(403);
    });
  });
}
