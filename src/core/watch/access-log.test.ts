import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseLapiLogLine, requestMeaning, unquoteGo } from './access-log.ts';
import { LapiActivity } from './lapi-activity.ts';

// Real lines CrowdSec 1.4.6 (Debian) wrote with log_media: file (crowdsec_api.log, crowdsec.log), made by
// scripts/capture-lapi-logs.ts: a custom bouncer's startup and deltas, a wrong key, no key, a wrong path, an
// unknown machine, a wrong password, cscli decisions add, a restart one second later, a delta and a live query.
const FIXTURES = path.resolve(import.meta.dirname, '../../../test/fixtures/crowdsec-1.4.6');
const accessLog = fs.readFileSync(path.join(FIXTURES, 'lapi-access.log'), 'utf8').split('\n').filter(Boolean);
const mainLog = fs.readFileSync(path.join(FIXTURES, 'lapi-crowdsec.log'), 'utf8').split('\n').filter(Boolean);

describe('parseLapiLogLine on CrowdSec 1.4.6 access log lines', () => {
  it('reads every line of the real access log as a request: time, peer, method, path without query, status, User-Agent', () => {
    const events = accessLog.map((l) => parseLapiLogLine(l));
    expect(events.every((e) => e.type === 'request')).toBe(true);
    expect(events[1]).toEqual({
      type: 'request',
      at: Date.parse('2026-12-03T11:22:05Z'),
      peerIp: '127.0.0.1',
      method: 'GET',
      path: '/v1/decisions/stream',
      status: 200,
      userAgent: 'crowdsec-custom-bouncer/v0.0.15',
    });
    const statuses = events.map((e) => (e.type === 'request' ? `${e.status} ${e.method} ${e.path} ${e.userAgent}` : ''));
    expect(statuses).toContain('403 GET /v1/decisions/stream cs-firewall-bouncer/v0.0.28');
    expect(statuses).toContain('404 GET /v1/decision/stream crowdsec-custom-bouncer/v0.0.15');
    expect(statuses).toContain('401 POST /v1/watchers/login crowdsec/v1.4.6');
    expect(statuses).toContain('200 POST /v1/watchers/login crowdsec/v1.4.6-6~deb12u1+b1-linux-debian');
  });

  it("reads crowdsec.log: the Local API's start lines and the machine a refused login named; other messages are 'other'", () => {
    const events = mainLog.map((l) => parseLapiLogLine(l));
    const starts = events.filter((e) => e.type === 'lapi_start');
    expect(starts).toEqual([
      { type: 'lapi_start', at: Date.parse('2026-12-03T11:22:05Z'), listen: '127.0.0.1:34061' },
      { type: 'lapi_start', at: Date.parse('2026-12-03T11:22:06Z'), listen: '127.0.0.1:34061' },
    ]);
    expect(events.filter((e) => e.type === 'unknown_machine')).toEqual([
      { type: 'unknown_machine', at: Date.parse('2026-12-03T11:22:05Z'), machineId: 'nobody' },
    ]);
    expect(events.filter((e) => e.type === 'malformed')).toEqual([]);
    expect(events.filter((e) => e.type === 'other').length).toBe(mainLog.length - 3);
  });

  it('logrus local time without a zone: read in the zone given (gin says UTC: its time wins)', () => {
    const line = mainLog.find((l) => l.includes('Local API listening'))!;
    const plus1h = parseLapiLogLine(line, { zoneOffsetMs: () => 3600_000 });
    expect(plus1h).toMatchObject({ type: 'lapi_start', at: Date.parse('2026-12-03T10:22:05Z') });
    expect(parseLapiLogLine(accessLog[1]!, { zoneOffsetMs: () => 3600_000 })).toMatchObject({ at: Date.parse('2026-12-03T11:22:05Z') });
  });

  it('the same access line in JSON (log_format: json) and bare (no logrus wrapper)', () => {
    const bare = '10.0.0.5 - [Thu, 03 Dec 2026 10:00:28 UTC] "GET /v1/decisions/stream HTTP/1.1 200 1.06ms "cs-firewall-bouncer/v0.0.28" "';
    expect(parseLapiLogLine(bare)).toMatchObject({ type: 'request', peerIp: '10.0.0.5', userAgent: 'cs-firewall-bouncer/v0.0.28' });
    const json = JSON.stringify({ level: 'info', msg: bare, time: '2026-12-03T10:00:28Z' });
    expect(parseLapiLogLine(json)).toMatchObject({ type: 'request', status: 200, at: Date.parse('2026-12-03T10:00:28Z') });
    // IPv6 peer, and a numeric zone.
    expect(parseLapiLogLine(bare.replace('10.0.0.5', '2001:db8::1').replace('UTC', '+0100'))).toMatchObject({
      peerIp: '2001:db8::1',
      at: Date.parse('2026-12-03T09:00:28Z'),
    });
  });

  it('damaged lines are malformed, never thrown', () => {
    const cut = accessLog[1]!.slice(0, 80);
    for (const bad of [cut, 'garbage', '{"msg": 1}', '{not json', accessLog[1]!.replace(' 200 ', ' 2OO ')])
      expect(parseLapiLogLine(bad).type, bad).toBe('malformed');
    expect(parseLapiLogLine('').type).toBe('other');
  });

  it('unquoteGo: Go escapes', () => {
    expect(unquoteGo('"a \\"b\\" \\\\ \\u00e9\\x41"')).toBe('a "b" \\ éA');
  });
});

describe('requestMeaning', () => {
  it('stream and live pulls, refused keys (403), wrong paths (404 with "decision"), refused logins (401)', () => {
    const m = (method: string, p: string, status: number) => requestMeaning({ method, path: p, status });
    expect(m('GET', '/v1/decisions/stream', 200)).toEqual({ kind: 'pull', mode: 'stream' });
    expect(m('GET', '/v1/decisions', 200)).toEqual({ kind: 'pull', mode: 'live' });
    expect(m('GET', '/v1/decisions/stream', 403)).toEqual({ kind: 'refused', reason: 'unknown' });
    expect(m('GET', '/v1/decision/stream', 404)).toEqual({ kind: 'refused', reason: 'wrong-path' });
    expect(m('GET', '/decisions/stream', 404)).toEqual({ kind: 'refused', reason: 'wrong-path' });
    expect(m('GET', '/favicon.ico', 404)).toEqual({ kind: 'other' });
    expect(m('POST', '/v1/watchers/login', 401)).toEqual({ kind: 'refused', reason: 'login:bad-password' });
    expect(m('GET', '/health', 200)).toEqual({ kind: 'other' });
  });
});

describe('LapiActivity over the real log', () => {
  it('pulls per client, refused requests summed per (address, User-Agent, reason), restarts, malformed counted', () => {
    const a = new LapiActivity();
    for (const l of [...accessLog, 'not a log line', ...mainLog]) a.add(parseLapiLogLine(l));
    expect(a.stats).toMatchObject({ malformed: 1, requests: accessLog.length });
    const clients = a.clients();
    expect(clients.map((c) => `${c.peerIp} ${c.type}`)).toEqual(['127.0.0.1 crowdsec-custom-bouncer']);
    // startup=true, a delta, (restart) a delta and one live query: three stream pulls, four pulls in the hour
    expect(clients[0]!.streamPulls.length).toBe(3);
    expect([...clients[0]!.pendingHours.values()]).toEqual([4]);
    const refused = a.refusedSummaries(0).map((r) => `${r.reason} ${r.userAgent || '-'} ${r.bouncerName || '-'} ${r.count} ${r.path}`);
    expect(refused.sort()).toEqual([
      'login:bad-password crowdsec/v1.4.6 - 2 /v1/watchers/login',
      'login:unknown-machine - nobody 1 /v1/watchers/login',
      'unknown cs-firewall-bouncer/v0.0.28 - 1 /v1/decisions/stream',
      'unknown nokey/1.0 - 1 /v1/decisions/stream',
      'wrong-path crowdsec-custom-bouncer/v0.0.15 - 2 /v1/decision/stream',
    ]);
    expect(a.lapiStarts(0)).toEqual([Date.parse('2026-12-03T11:22:05Z'), Date.parse('2026-12-03T11:22:06Z')]);
  });

  it('pulls already counted by an earlier run are not counted again in the hourly history', () => {
    const a = new LapiActivity({ countPullsAfter: Date.parse('2026-12-03T11:22:05Z') });
    for (const l of accessLog) a.add(parseLapiLogLine(l));
    expect([...a.clients()[0]!.pendingHours.values()]).toEqual([2]);
  });
});
