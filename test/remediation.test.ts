import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/lib/clock.ts';
import { createBouncer, type Bouncer, type BouncerOptions } from '../src/remediation/index.ts';
import { BOUNCER_USER_AGENT } from '../src/remediation/version.ts';
import { freePort, memoryLogger, startTestLapi, type TestLapi } from './remediation-helpers.ts';
import { getBouncer } from '../src/store/bouncers.ts';
import { latestUsageMetrics } from '../src/store/usage-metrics.ts';

/**
 * The bouncer library against a real `vigil serve` on loopback: stream and live modes, delta
 * semantics, local expiry, ban before captcha, the User-Agent the LAPI records, health when the key
 * is refused or the LAPI is gone (time moved with a ManualClock shared with the server), fail-open
 * and fail-closed, and the usage-metrics push.
 */
const T0 = Date.UTC(2026, 10, 24, 6, 0, 0);

describe('bouncer library against vigil serve', () => {
  const clock = new ManualClock(T0);
  let lapi: TestLapi;
  let key: string;
  const bouncers: Bouncer[] = [];
  const make = (o: Partial<BouncerOptions> = {}) => {
    const b = createBouncer({ apiUrl: lapi.url, apiKey: key, clock, autoStart: false, logger: memoryLogger().logger, ...o });
    bouncers.push(b);
    return b;
  };

  beforeAll(async () => {
    lapi = await startTestLapi(clock);
    key = await lapi.addBouncer('web-app');
  });
  afterAll(async () => {
    for (const b of bouncers) await b.stop();
    await lapi?.close();
  });

  it('pulls the full set at start: addresses and ranges of both families; other scopes ignored', async () => {
    await lapi.addDecision('Ip', '192.0.2.1');
    await lapi.addDecision('Range', '198.51.100.0/24');
    await lapi.addDecision('Ip', '2001:db8::1');
    await lapi.addDecision('Range', '2001:db8:1::/48');
    await lapi.addDecision('Ip', '192.0.2.2', 'captcha');
    await lapi.addDecision('Country', 'FR');
    const b = make();
    await b.pull();
    expect(b.healthy).toBe(true);
    expect(b.cache.size).toBe(5);
    expect(b.check('192.0.2.1')).toMatchObject({ remediation: 'ban', reason: 'decision' });
    expect(b.check('198.51.100.77')).toMatchObject({ remediation: 'ban', decision: { value: '198.51.100.0/24' } });
    expect(b.check('::ffff:198.51.100.77')).toMatchObject({ remediation: 'ban' });
    expect(b.check('2001:db8::1')).toMatchObject({ remediation: 'ban' });
    expect(b.check('2001:DB8:0001:0:ffff::9')).toMatchObject({ remediation: 'ban', decision: { value: '2001:db8:1::/48' } });
    expect(b.check('192.0.2.2')).toMatchObject({ remediation: 'captcha' });
    expect(b.check('192.0.2.3')).toEqual({ remediation: 'bypass', reason: 'none' });
    expect(b.check('2001:db8:2::1')).toEqual({ remediation: 'bypass', reason: 'none' });
    expect(b.check('not-an-ip')).toMatchObject({ remediation: 'ban', reason: 'invalid_address' });
  });

  it('is known to the LAPI by its User-Agent: type vigil-bouncer, its version', async () => {
    await lapi.server.activity.flush();
    const row = await getBouncer(lapi.server.store, 'web-app');
    expect(`${row?.type}/${row?.version}`).toBe(BOUNCER_USER_AGENT);
    expect(row?.version).toMatch(/^v\d+\.\d+\.\d+/);
  });

  it('applies deltas: new and deleted decisions; ban wins over captcha on overlap', async () => {
    const b = make();
    await b.pull();
    const captchaRange = await lapi.addDecision('Range', '203.0.113.0/24', 'captcha');
    const banIp = await lapi.addDecision('Ip', '203.0.113.9', 'ban');
    await lapi.addDecision('Ip', '203.0.113.10', 'captcha');
    await lapi.addDecision('Range', '203.0.113.8/29', 'ban');
    clock.advance(1000);
    await b.pull();
    expect(b.check('203.0.113.1')).toMatchObject({ remediation: 'captcha' });
    expect(b.check('203.0.113.9')).toMatchObject({ remediation: 'ban' });
    // An address with its own captcha inside a banned range is banned.
    expect(b.check('203.0.113.10')).toMatchObject({ remediation: 'ban', decision: { value: '203.0.113.8/29' } });
    await lapi.deleteDecision(banIp);
    await lapi.deleteDecision(captchaRange);
    clock.advance(1000);
    await b.pull();
    expect(b.check('203.0.113.9')).toMatchObject({ remediation: 'ban', decision: { value: '203.0.113.8/29' } });
    expect(b.check('203.0.113.1')).toEqual({ remediation: 'bypass', reason: 'none' });
  });

  it('lets decisions lapse locally on time, without a pull', async () => {
    const b = make();
    await lapi.addDecision('Ip', '192.0.2.50', 'ban', '5m');
    await b.pull();
    expect(b.check('192.0.2.50').valueOf()).toMatchObject({ remediation: 'ban' });
    clock.advance(5 * 60_000 + 1000);
    expect(b.check('192.0.2.50')).toEqual({ remediation: 'bypass', reason: 'none' });
  });

  it('a refused key: healthy turns false after the threshold, with the reason; the key is never in a message', async () => {
    const { lines, logger } = memoryLogger();
    const b = make({ apiKey: 'wrong-key-0123456789', updateFrequency: '10s', logger });
    await b.pull();
    let h = b.health();
    expect(h.status).toBe('starting');
    expect(h.lastFailure).toMatchObject({ kind: 'auth', status: 403 });
    expect(h.lastFailure?.message).toContain('refused the API key');
    clock.advance(31_000);
    await b.pull();
    h = b.health();
    expect(h.healthy).toBe(false);
    expect(h.status).toBe('unhealthy');
    expect(h.summary).toContain('refused the API key');
    expect(lines.some((l) => l.startsWith('error bouncer unhealthy'))).toBe(true);
    expect(lines.join('\n')).not.toContain('wrong-key-0123456789');
    // It was refused, not allowed to pull anything: fail-open lets requests through.
    expect(b.check('192.0.2.1')).toEqual({ remediation: 'bypass', reason: 'none' });
  });

  it('a dead LAPI: cached bans still apply, clean addresses pass (fail-open), healthy false after the threshold', async () => {
    const port = await freePort();
    const dead = `http://127.0.0.1:${port}/`;
    // Learn decisions from the live LAPI first, then lose it.
    const b = make({ updateFrequency: '1s', unhealthyAfter: '5s' });
    await b.pull();
    expect(b.check('192.0.2.1')).toMatchObject({ remediation: 'ban' });
    const changes: boolean[] = [];
    const lost = make({ apiUrl: dead, updateFrequency: '1s', unhealthyAfter: '5s', onHealthChange: (healthy) => changes.push(healthy) });
    await lost.pull();
    expect(lost.health().lastFailure).toMatchObject({ kind: 'network' });
    expect(lost.health().lastFailure?.message).toContain('cannot reach the Local API');

    // `b` keeps its cache through an outage: move time without successful pulls.
    clock.advance(4000);
    expect(b.healthy).toBe(true);
    clock.advance(2000);
    expect(b.healthy).toBe(false);
    expect(b.check('192.0.2.1')).toMatchObject({ remediation: 'ban' });
    expect(b.check('192.0.2.99')).toEqual({ remediation: 'bypass', reason: 'none' });
    await b.pull(); // the LAPI is still up: healthy again at once
    expect(b.healthy).toBe(true);
  });

  it('fail-closed: while the LAPI is unreachable every request gets the fail-closed remediation', async () => {
    const port = await freePort();
    const b = make({ apiUrl: `http://127.0.0.1:${port}/`, failOpen: false, unhealthyAfter: '30s' });
    await b.pull();
    expect(b.check('192.0.2.99')).toEqual({ remediation: 'ban', reason: 'lapi_unavailable' });
    const c = make({ apiUrl: `http://127.0.0.1:${port}/`, failOpen: false, failClosedRemediation: 'captcha' });
    expect(c.check('192.0.2.99')).toEqual({ remediation: 'captcha', reason: 'lapi_unavailable' });
  });

  it('live mode: asks per unseen address, reuses the answer for cache_expiration, fails open', async () => {
    await lapi.addDecision('Range', '100.64.0.0/10', 'ban');
    const b = make({ mode: 'live', cacheExpiration: '2s' });
    const first = b.check('100.64.1.2');
    expect(first).toBeInstanceOf(Promise);
    expect(await first).toMatchObject({ remediation: 'ban', decision: { value: '100.64.0.0/10' } });
    expect(b.check('100.64.1.2')).toMatchObject({ remediation: 'ban' }); // cached: synchronous
    expect(await b.check('100.128.0.1')).toEqual({ remediation: 'bypass', reason: 'none' });
    expect(b.healthy).toBe(true);
    clock.advance(2001);
    expect(b.check('100.64.1.2')).toBeInstanceOf(Promise);

    const port = await freePort();
    const dead = make({ mode: 'live', apiUrl: `http://127.0.0.1:${port}/` });
    expect(await dead.check('100.64.1.2')).toEqual({ remediation: 'bypass', reason: 'none' });
    expect(dead.health().lastFailure?.kind).toBe('network');
  });

  it('live mode health: a probe (HEAD) when idle proves the key', async () => {
    const b = make({ mode: 'live' });
    await b.pull();
    expect(b.healthy).toBe(true);
    const bad = make({ mode: 'live', apiKey: 'nope-nope-nope' });
    await bad.pull();
    expect(bad.health().lastFailure?.kind).toBe('auth');
  });

  it('pushes usage metrics in CrowdSec format; vigil serve keeps the report (201) and counters restart', async () => {
    const { lines, logger } = memoryLogger();
    const b = make({ logger });
    await b.pull();
    b.handle({ method: 'GET', url: '/', headers: {}, peer: '192.0.2.1' }); // banned: dropped
    b.handle({ method: 'GET', url: '/', headers: {}, peer: '2001:db8:9::1' }); // clean: processed
    expect(await b.pushUsageMetrics()).toBe('sent');
    expect(lines.filter((l) => l.startsWith('warn') || l.startsWith('error'))).toEqual([]);
    const row = await getBouncer(lapi.server.store, 'web-app');
    const kept = await latestUsageMetrics(lapi.server.store, row!.id);
    const report = kept?.report as { type: string; version: string; metrics: { items: { name: string; value: number; labels: Record<string, string> }[] }[] };
    expect(report).toMatchObject({ type: 'vigil-bouncer', version: BOUNCER_USER_AGENT.split('/')[1] });
    const items = report.metrics[0]!.items;
    expect(items).toContainEqual({ name: 'dropped', value: 1, unit: 'request', labels: { origin: 'cscli', remediation: 'ban', ip_type: 'ipv4' } });
    expect(items).toContainEqual({ name: 'processed', value: 1, unit: 'request', labels: { ip_type: 'ipv6' } });
    expect(items.some((i) => i.name === 'active_decisions')).toBe(true);
    // The next report starts from zero.
    expect(await b.pushUsageMetrics()).toBe('sent');
    const next = (await latestUsageMetrics(lapi.server.store, row!.id))?.report as typeof report;
    expect(next.metrics[0]!.items.filter((i) => i.name !== 'active_decisions')).toEqual([]);
    expect(await make({ usageMetricsInterval: 0 }).pushUsageMetrics()).toBe('disabled');
  });

  it('start() pulls at once and ready() resolves after the first pull; stop() ends the timers', async () => {
    const b = createBouncer({ apiUrl: lapi.url, apiKey: key, clock, logger: memoryLogger().logger });
    bouncers.push(b);
    await b.ready();
    expect(b.healthy).toBe(true);
    await b.stop();
  });
});

describe('bouncer options are checked', () => {
  const base = { apiUrl: 'http://127.0.0.1:8080/', apiKey: 'k', autoStart: false } as const;
  const fails = (o: Partial<BouncerOptions>) => {
    try {
      createBouncer({ ...base, ...o });
    } catch (e) {
      return (e as Error).message;
    }
    return 'accepted';
  };
  it('names the option and the fix', () => {
    expect(fails({ apiUrl: 'ftp://x' })).toMatch(/^apiUrl: use an http/);
    expect(fails({ apiUrl: 'localhost:8080' })).toMatch(/^apiUrl: /);
    expect(fails({ apiKey: '' })).toMatch(/^apiKey: missing; register/);
    expect(fails({ apiKey: 'a b' })).toMatch(/^apiKey: must be printable/);
    expect(fails({ updateFrequency: '10x' })).toMatch(/^updateFrequency "10x"/);
    expect(fails({ unhealthyAfter: '1s' })).toMatch(/^unhealthyAfter: must be at least updateFrequency/);
    expect(fails({ usageMetricsInterval: '1m' })).toMatch(/^usageMetricsInterval: at least 10m/);
    expect(fails({ realIpHeader: 'X-Client' })).toMatch(/^realIpHeader: "X-Client": use X-Forwarded-For/);
    expect(fails({ trustedProxies: ['10.0.0.0/33'] })).toMatch(/^trusted_proxies\[0\] "10.0.0.0\/33"/);
    expect(fails({ captcha: { provider: 'turnstile' } })).toMatch(/needs captcha.site_key and captcha.secret_key/);
    expect(fails({ captcha: { difficulty: 99 } })).toMatch(/captcha.difficulty 99/);
    expect(fails({})).toBe('accepted');
  });
});

describe('a bouncer does not keep its host process alive', () => {
  it('its timers are unref()ed', async () => {
    // A server that never answers: the pull stays in flight; the process would still be free to exit.
    const server = http.createServer(() => {});
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    const b = createBouncer({ apiUrl: `http://127.0.0.1:${port}/`, apiKey: 'k', streamTimeout: '200ms', logger: memoryLogger().logger });
    await b.ready();
    expect(b.health().lastFailure?.kind).toBe('timeout');
    await b.stop();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });
});
