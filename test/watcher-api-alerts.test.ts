import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../src/app/serve.ts';
import { ManualClock } from '../src/lib/clock.ts';
import { activeDecisions } from '../src/store/decisions.ts';
import { getMachine } from '../src/store/machines.ts';
import { cscliAlert as cscliAlertAt } from './support/cscli-alert.ts';
import { DIALECTS } from './support/databases.ts';
import { requestFrom } from './support/http-from.ts';
import { BOUNCER_KEY, jwtHeaders, MACHINE, PASSWORD, startWatcherApi, T0, UA, type WatcherApi } from './support/watcher-api-server.ts';
import { postWatcherLogin } from './support/watcher-login.ts';

/** cscli's alert at a fixed time (the captured exchange's), 5 minutes unless told. */
const cscliAlert = (value: string, duration = '5m', extra: Record<string, unknown> = {}) =>
  cscliAlertAt(value, duration, { created_at: '2026-11-24T04:18:06Z', start_at: '2026-11-24T04:18:06Z', stop_at: '2026-11-24T04:18:06Z', ...extra });

const agentAlert = (ip: string, remediation = true) => ({
  capacity: 5,
  decisions: null,
  events: [{ meta: [{ key: 'source_ip', value: ip }], timestamp: '2026-11-24T04:18:00Z' }],
  events_count: 6,
  labels: null,
  leakspeed: '10s',
  message: `Ip ${ip} performed 'crowdsecurity/ssh-bf' (6 events over 2s) at 2026-11-24 04:18:05 +0000 UTC`,
  remediation,
  scenario: 'crowdsecurity/ssh-bf',
  scenario_hash: '4441dcff07020f6690d998b7101e642359ba405c2abb83565bbbdcee36de280f',
  scenario_version: '0.1',
  simulated: false,
  source: { as_name: 'EXAMPLE-AS', as_number: '64500', cn: 'FR', ip, latitude: 48.85, longitude: 2.35, range: '203.0.113.0/24', scope: 'Ip', value: ip },
  start_at: '2026-11-24T04:18:03Z',
  stop_at: '2026-11-24T04:18:05Z',
});

/**
 * The watcher (machine) side over real HTTP on loopback, against `vigil serve` on each database,
 * checked against CrowdSec 1.4.6's captured bodies (docs/reference/crowdsec-wire-protocol.md §3, §5):
 * alerts, decisions and allowlists. test/watcher-api-login.test.ts has logging in and registering.
 */
for (const dialect of DIALECTS) {
  describe(`${dialect}: watcher API over HTTP: alerts, decisions, allowlists`, () => {
    let api: WatcherApi;
    let server: RunningServer;
    const clock = new ManualClock(T0);
    let token = '';

    const login = (body: unknown) => postWatcherLogin(server.url, body, UA);
    const jwt = (t = token) => jwtHeaders(t);

    beforeAll(async () => {
      api = await startWatcherApi(dialect, clock);
      ({ server } = api);
    });
    afterAll(async () => {
      await api?.close();
    });

    it('POST /v1/alerts with cscli decisions: 201 ["<id>"], decisions reach bouncers, GET /v1/alerts in 1.4.6 shape', async () => {
      clock.set(T0);
      token = JSON.parse((await login({ machine_id: MACHINE, password: PASSWORD })).text).token;
      const r = await requestFrom(`${server.url}/v1/alerts`, { method: 'POST', headers: jwt(), body: JSON.stringify([cscliAlert('192.0.2.1')]) });
      expect(r.status).toBe(201);
      expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
      const ids = JSON.parse(r.text);
      expect(ids).toEqual([expect.stringMatching(/^\d+$/)]);
      const seen = await requestFrom(`${server.url}/v1/decisions?ip=192.0.2.1`, {
        headers: { 'X-Api-Key': BOUNCER_KEY, 'User-Agent': 'cs-firewall-bouncer/v0.0.31' },
      });
      expect(JSON.parse(seen.text)).toEqual([
        { duration: '5m0s', id: expect.any(Number), origin: 'cscli', scenario: 'test', scope: 'Ip', type: 'ban', value: '192.0.2.1' },
      ]);
      clock.set(T0 + 1500);
      const list = await requestFrom(`${server.url}/v1/alerts?has_active_decision=true&include_capi=false&limit=100`, { headers: jwt() });
      expect(list.status).toBe(200);
      const [a] = JSON.parse(list.text);
      expect(Object.keys(a)).toEqual([
        'capacity',
        'created_at',
        'decisions',
        'events',
        'events_count',
        'id',
        'labels',
        'leakspeed',
        'machine_id',
        'message',
        'scenario',
        'scenario_hash',
        'scenario_version',
        'simulated',
        'source',
        'start_at',
        'stop_at',
      ]);
      expect(a).toMatchObject({
        capacity: 0,
        created_at: '2026-11-24T04:18:06Z',
        events: null,
        events_count: 1,
        id: Number(ids[0]),
        labels: null,
        leakspeed: '0',
        machine_id: MACHINE,
        source: { ip: '192.0.2.1', scope: 'Ip', value: '192.0.2.1' },
        start_at: '2026-11-24 04:18:06 +0000 UTC',
        stop_at: '2026-11-24 04:18:06 +0000 UTC',
      });
      expect(a.decisions).toEqual([
        { duration: '4m58.5s', id: expect.any(Number), origin: 'cscli', scenario: 'test', scope: 'Ip', simulated: false, type: 'ban', value: '192.0.2.1' },
      ]);
      const head = await requestFrom(`${server.url}/v1/alerts`, { method: 'HEAD', headers: jwt() });
      expect(head.status).toBe(200);
      expect(head.text).toBe('');
      expect((await getMachine(server.store, MACHINE))?.lastPushAt).toBe(T0);
    });

    it("an agent's alert without decisions gets them from the default profile (remediation + Ip → ban 4h, origin crowdsec)", async () => {
      // Until = stop_at (04:18:05) + 4h, as CrowdSec computes it; now is 04:18:16.
      clock.set(T0 + 10_000);
      const r = await requestFrom(`${server.url}/v1/alerts`, {
        method: 'POST',
        headers: { ...jwt(), 'Content-Encoding': 'gzip' },
        body: gzipSync(JSON.stringify([agentAlert('203.0.113.7'), agentAlert('203.0.113.8', false)])),
      });
      expect(r.status).toBe(201);
      const [withBan, without] = JSON.parse(r.text);
      const list = JSON.parse((await requestFrom(`${server.url}/v1/alerts?scenario=crowdsecurity/ssh-bf`, { headers: jwt() })).text);
      const banned = list.find((a: { id: number }) => a.id === Number(withBan));
      expect(banned.decisions).toEqual([
        {
          duration: '3h59m49s',
          id: expect.any(Number),
          origin: 'crowdsec',
          scenario: 'crowdsecurity/ssh-bf',
          scope: 'Ip',
          simulated: false,
          type: 'ban',
          value: '203.0.113.7',
        },
      ]);
      // What the agent sent reads back: source details, events, capacity, hash, remediation.
      expect(banned.source).toEqual({
        as_name: 'EXAMPLE-AS',
        as_number: '64500',
        cn: 'FR',
        ip: '203.0.113.7',
        latitude: 48.85,
        longitude: 2.35,
        range: '203.0.113.0/24',
        scope: 'Ip',
        value: '203.0.113.7',
      });
      expect(banned).toMatchObject({ capacity: 5, remediation: true, scenario_version: '0.1', events_count: 6, leakspeed: '10s' });
      expect(banned.events).toEqual([{ meta: [{ key: 'source_ip', value: '203.0.113.7' }], timestamp: '2026-11-24T04:18:00Z' }]);
      expect(list.find((a: { id: number }) => a.id === Number(without)).decisions).toBeNull();
      // Filters: ip, range with contains, origin, decision_type.
      const byIp = JSON.parse((await requestFrom(`${server.url}/v1/alerts?ip=203.0.113.7`, { headers: jwt() })).text);
      expect(byIp.map((a: { id: number }) => a.id)).toEqual([Number(withBan)]);
      const inRange = JSON.parse((await requestFrom(`${server.url}/v1/alerts?range=203.0.113.0/24&contains=false`, { headers: jwt() })).text);
      expect(inRange.map((a: { id: number }) => a.id).sort()).toEqual([Number(withBan), Number(without)].sort());
      const byOrigin = JSON.parse((await requestFrom(`${server.url}/v1/alerts?origin=crowdsec`, { headers: jwt() })).text);
      expect(byOrigin.map((a: { id: number }) => a.id)).toEqual([Number(withBan)]);
      const none = await requestFrom(`${server.url}/v1/alerts?decision_type=captcha`, { headers: jwt() });
      expect(none.text).toBe('null');
      const bad = await requestFrom(`${server.url}/v1/alerts?bogus=1`, { headers: jwt() });
      expect(bad.status).toBe(400);
      expect(JSON.parse(bad.text).message).toBe("Filter parameter 'bogus' is unknown (=1): invalid filter");
    });

    it('refuses malformed alerts with CrowdSec shapes, stores nothing, never answers 5xx except CrowdSec validation list', async () => {
      const before = (await activeDecisions(server.store, clock.now())).length;
      const missing = await requestFrom(`${server.url}/v1/alerts`, { method: 'POST', headers: jwt(), body: '[{}]' });
      expect(missing.status).toBe(500);
      expect(JSON.parse(missing.text).message).toBe(
        'validation failure list:\n0.capacity in body is required\n0.events in body is required\n0.events_count in body is required\n0.leakspeed in body is required\n0.message in body is required\n0.scenario in body is required\n0.scenario_hash in body is required\n0.scenario_version in body is required\n0.simulated in body is required\n0.source in body is required\n0.start_at in body is required\n0.stop_at in body is required',
      );
      const cases: Array<[string, number, RegExp]> = [
        ['x', 400, /invalid character 'x'/],
        ['{}', 400, /cannot unmarshal object into Go value of type models.AddAlertsRequest/],
        [JSON.stringify([cscliAlert('192.0.2.9', '5m', { capacity: 'big' })]), 400, /Alert.capacity of type int32/],
        [JSON.stringify([cscliAlert('192.0.2.9', '5x')]), 400, /0\.decisions\.0: duration "5x"/],
        [JSON.stringify([cscliAlert('not-an-ip')]), 400, /0\.decisions\.0: ip "not-an-ip"/],
        [
          JSON.stringify([
            { ...cscliAlert('192.0.2.9'), decisions: [{ duration: '1h', origin: 'cscli', scenario: 's', scope: 'bad scope!', type: 'ban', value: 'v' }] },
          ]),
          400,
          /scope "bad scope!"/,
        ],
        [JSON.stringify([cscliAlert('192.0.2.9', '5m', { start_at: 'yesterday' })]), 400, /0\.start_at: "yesterday" is not an RFC 3339 time/],
        [JSON.stringify(Array.from({ length: 1001 }, () => cscliAlert('192.0.2.9'))), 413, /at most 1000 per request/],
        [JSON.stringify([cscliAlert('192.0.2.9', '5m', { scenario: 's'.repeat(1025) })]), 400, /^0\.scenario: 1025 characters; at most 1024$/],
      ];
      for (const [body, status, message] of cases) {
        const r = await requestFrom(`${server.url}/v1/alerts`, { method: 'POST', headers: jwt(), body });
        expect(r.status, body.slice(0, 80)).toBe(status);
        expect(JSON.parse(r.text).message).toMatch(message);
      }
      // 10k decisions in one alert with one bad one: named, nothing stored.
      const many = cscliAlert('192.0.2.9');
      many.decisions = Array.from({ length: 10_000 }, (_, i) => ({
        duration: '1h',
        origin: 'cscli-import',
        scenario: 'imp',
        scope: 'Ip',
        type: 'ban',
        value: `10.1.${i >> 8}.${i & 255}`,
      }));
      many.decisions[9_999]!.value = '10.1.999.1';
      const bad = await requestFrom(`${server.url}/v1/alerts`, { method: 'POST', headers: jwt(), body: JSON.stringify([many]) });
      expect(bad.status).toBe(400);
      expect(JSON.parse(bad.text).message).toMatch(/^0\.decisions\.9999: ip "10\.1\.999\.1"/);
      expect((await activeDecisions(server.store, clock.now())).length).toBe(before);
      // The same 10k, all good: one alert, 10k decisions, answered in one request.
      many.decisions[9_999]!.value = '10.2.0.1';
      const good = await requestFrom(`${server.url}/v1/alerts`, { method: 'POST', headers: jwt(), body: JSON.stringify([many]) });
      expect(good.status).toBe(201);
      expect((await activeDecisions(server.store, clock.now())).length).toBe(before + 10_000);
      const unauth = await requestFrom(`${server.url}/v1/alerts`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify([cscliAlert('192.0.2.10')]),
      });
      expect(unauth.status).toBe(401);
      expect(unauth.text).toBe('{"code":401,"message":"cookie token is empty"}');
    });

    it('DELETE /v1/decisions soft-deletes (bouncers get them in deleted); DELETE /v1/alerts only from loopback or trusted_ips', async () => {
      const stream0 = await requestFrom(`${server.url}/v1/decisions/stream?startup=true`, {
        headers: { 'X-Api-Key': BOUNCER_KEY, 'User-Agent': 'cs-firewall-bouncer/v0.0.31' },
      });
      expect(stream0.status).toBe(200);
      const del = await requestFrom(`${server.url}/v1/decisions?ip=192.0.2.1`, { method: 'DELETE', headers: jwt() });
      expect(del.status).toBe(200);
      expect(JSON.parse(del.text)).toEqual({ nbDeleted: '1' });
      const stream = await requestFrom(`${server.url}/v1/decisions/stream`, {
        headers: { 'X-Api-Key': BOUNCER_KEY, 'User-Agent': 'cs-firewall-bouncer/v0.0.31' },
      });
      expect(JSON.parse(stream.text).deleted.map((d: { value: string }) => d.value)).toContain('192.0.2.1');
      const badParam = await requestFrom(`${server.url}/v1/decisions?nope=1`, { method: 'DELETE', headers: jwt() });
      expect(badParam.status).toBe(400);
      const byId = await requestFrom(`${server.url}/v1/decisions/abc`, { method: 'DELETE', headers: jwt() });
      expect(byId.status).toBe(400);
      const agentAlerts = JSON.parse((await requestFrom(`${server.url}/v1/alerts?scenario=crowdsecurity/ssh-bf`, { headers: jwt() })).text);
      const one = await requestFrom(`${server.url}/v1/alerts/${agentAlerts[0].id}`, { method: 'DELETE', headers: jwt() });
      expect(JSON.parse(one.text)).toEqual({ nbDeleted: '1' });
      const rest = await requestFrom(`${server.url}/v1/alerts?scenario=crowdsecurity/ssh-bf`, { method: 'DELETE', headers: jwt() });
      expect(JSON.parse(rest.text)).toEqual({ nbDeleted: String(agentAlerts.length - 1) });
      expect(JSON.parse((await requestFrom(`${server.url}/v1/alerts?scenario=crowdsecurity/ssh-bf`, { headers: jwt() })).text)).toBeNull();
      const gone = await requestFrom(`${server.url}/v1/alerts/${agentAlerts[0].id}`, { method: 'DELETE', headers: jwt() });
      expect(gone.status).toBe(404);
    });

    it('allowlists: none yet, in CrowdSec 1.7.8 shapes (test/allowlists.test.ts has them filled)', async () => {
      expect((await requestFrom(`${server.url}/v1/allowlists?with_content=true`, { headers: jwt() })).text).toBe('[]');
      // CrowdSec answers an unknown name with HandleDBErrors' 500 (its error is not ItemNotFound).
      expect((await requestFrom(`${server.url}/v1/allowlists/mylist`, { headers: jwt() })).status).toBe(500);
      // omitempty on a false bool and an empty reason.
      expect((await requestFrom(`${server.url}/v1/allowlists/check/1.2.3.4`, { headers: jwt() })).text).toBe('{}');
      expect((await requestFrom(`${server.url}/v1/allowlists/check/10.0.0.0%2F24`, { method: 'HEAD', headers: jwt() })).status).toBe(204);
      expect((await requestFrom(`${server.url}/v1/allowlists/check`, { method: 'POST', headers: jwt(), body: '{"targets":["1.2.3.4"]}' })).text).toBe(
        '{"results":[]}',
      );
      expect((await requestFrom(`${server.url}/v1/allowlists/check`, { method: 'POST', headers: jwt(), body: '{"targets":[]}' })).status).toBe(400);
      expect((await requestFrom(`${server.url}/v1/allowlists`)).status).toBe(401);
    });
  });
}
