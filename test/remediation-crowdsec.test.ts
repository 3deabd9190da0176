import { beforeAll, describe, expect, it } from 'vitest';
import { createBouncer, type BouncerOptions } from '../src/remediation/index.ts';
import { BOUNCER_TYPE, BOUNCER_VERSION } from '../src/remediation/version.ts';
import { crowdsecAvailable, startCrowdsec, type CrowdsecInstance } from './support/crowdsec-instance.ts';
import { memoryLogger } from './remediation-helpers.ts';
import { useCleanups } from './support/cleanups.ts';

/**
 * The bouncer library against the REAL CrowdSec 1.4.6 Local API (Debian package), an isolated
 * instance of its own (test/support/crowdsec-instance.ts): its stream and live answers (Go
 * durations with nanoseconds, `null` lists), its deltas, the User-Agent it records, its 403 for a
 * bad key, and its missing /v1/usage-metrics route (404), which the bouncer takes quietly.
 */
const cs = crowdsecAvailable();
const skip = !cs.available && !process.env.CI;

describe.skipIf(skip)(`bouncer against the real CrowdSec LAPI${skip ? ` (skipped: ${cs.reason})` : ''}`, () => {
  const cleanups = useCleanups('all');
  let lapi: CrowdsecInstance;
  let key: string;
  const make = (o: Partial<BouncerOptions> = {}) => {
    const b = createBouncer({ apiUrl: lapi.url, apiKey: key, autoStart: false, logger: memoryLogger().logger, ...o });
    cleanups.push(() => b.stop());
    return b;
  };

  beforeAll(async () => {
    lapi = await startCrowdsec({ workDir: cleanups.tempDir('vigil-bouncer-cs-') });
    cleanups.push(() => lapi.destroy());
    key = await lapi.addBouncer('vigil-web');
    await lapi.addDecision({ ip: '192.0.2.1', duration: '1h', reason: 'test' });
    await lapi.addDecision({ range: '198.51.100.0/24', duration: '1h', reason: 'rangetest' });
    await lapi.addDecision({ ip: '2001:db8::1', duration: '1h', reason: 'v6' });
    await lapi.addDecision({ range: '2001:db8:1::/48', duration: '1h', reason: 'v6range' });
    await lapi.addDecision({ ip: '192.0.2.2', duration: '1h', reason: 'captchatest', type: 'captcha' });
  }, 120_000);

  it('stream: the startup pull holds every decision; ranges and IPv6 match', async () => {
    const b = make();
    await b.pull();
    expect(b.health()).toMatchObject({ healthy: true, lastFailure: null });
    expect(b.cache.size).toBe(5);
    expect(b.check('192.0.2.1')).toMatchObject({ remediation: 'ban', decision: { origin: 'cscli', scenario: 'test' } });
    expect(b.check('198.51.100.200')).toMatchObject({ remediation: 'ban', decision: { value: '198.51.100.0/24' } });
    expect(b.check('2001:db8::1')).toMatchObject({ remediation: 'ban' });
    expect(b.check('2001:db8:1:2::3')).toMatchObject({ remediation: 'ban', decision: { value: '2001:db8:1::/48' } });
    expect(b.check('192.0.2.2')).toMatchObject({ remediation: 'captcha' });
    expect(b.check('192.0.2.3')).toEqual({ remediation: 'bypass', reason: 'none' });
    // Local expiry follows the remaining duration CrowdSec sent (Go duration with nanoseconds).
    const until = (b.check('192.0.2.1') as { decision: { until: number } }).decision.until;
    expect(until - Date.now()).toBeGreaterThan(59 * 60_000);
    expect(until - Date.now()).toBeLessThanOrEqual(3600_000);
  });

  it('stream: deltas bring new and deleted decisions', async () => {
    const b = make();
    await b.pull();
    await lapi.addDecision({ ip: '203.0.113.5', duration: '30m', reason: 'newone' });
    await lapi.cscli(['decisions', 'delete', '--ip', '192.0.2.1']);
    await b.pull();
    expect(b.check('203.0.113.5')).toMatchObject({ remediation: 'ban', decision: { scenario: 'newone' } });
    expect(b.check('192.0.2.1')).toEqual({ remediation: 'bypass', reason: 'none' });
    expect(b.healthy).toBe(true);
  });

  it('is recorded by CrowdSec as type vigil-bouncer with its version', async () => {
    const rows = await lapi.listBouncers();
    expect(rows.find((r) => r.name === 'vigil-web')).toMatchObject({ type: BOUNCER_TYPE, version: BOUNCER_VERSION });
  });

  it('live: one query per address; CrowdSec`s `null` means clean', async () => {
    const b = make({ mode: 'live', lapiTimeout: '2s' });
    expect(await b.check('198.51.100.7')).toMatchObject({ remediation: 'ban', decision: { value: '198.51.100.0/24' } });
    expect(await b.check('192.0.2.99')).toEqual({ remediation: 'bypass', reason: 'none' });
    await b.pull(); // the HEAD probe
    expect(b.healthy).toBe(true);
  });

  it('a wrong key: 403 access forbidden, classified as a refused key', async () => {
    const b = make({ apiKey: 'not-a-registered-key' });
    await b.pull();
    expect(b.health().lastFailure).toMatchObject({ kind: 'auth', status: 403 });
    expect(b.health().lastFailure?.message).toContain('refused the API key (403 access forbidden)');
  });

  it('usage metrics: CrowdSec 1.4.6 has no route (404); the bouncer backs off without a warning', async () => {
    const { lines, logger } = memoryLogger();
    const b = make({ logger });
    await b.pull();
    expect(await b.pushUsageMetrics()).toBe('unsupported');
    expect(await b.pushUsageMetrics()).toBe('unsupported');
    expect(lines.filter((l) => l.startsWith('warn') || l.startsWith('error'))).toEqual([]);
    expect(lines.filter((l) => l.includes('does not accept usage metrics'))).toHaveLength(1);
  });
});
