import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, freshDbUrl } from './support/databases.ts';
import { startServer, createLogger, type RunningServer } from '../src/app/serve.ts';
import { loadConfig } from '../src/config/config.ts';
import { ManualClock } from '../src/lib/clock.ts';
import { hashApiKey } from '../src/core/bouncers/api-key.ts';
import { buildDecision, manualAlert } from '../src/decisions/new-decisions.ts';
import { createBouncer } from '../src/store/bouncers.ts';
import { addDecisions } from '../src/store/decisions.ts';
import { openHealthIssues } from '../src/store/health-issues.ts';

/**
 * Two `vigil serve` replicas on one shared PostgreSQL database: what one learns (a decision, a
 * pull) the other knows through the store, and an issue is opened once, not once per replica.
 */
const T0 = Date.UTC(2026, 10, 3);

describe.skipIf(!DIALECTS.includes('postgres'))('postgres: two replicas sharing one database', () => {
  let a: RunningServer;
  let b: RunningServer;
  let cleanup: () => Promise<void>;
  const clock = new ManualClock(T0);
  const key = { 'X-Api-Key': 'shared-key', 'User-Agent': 'crowdsec-custom-bouncer/-' };

  beforeAll(async () => {
    const db = await freshDbUrl('postgres');
    cleanup = db.cleanup;
    const config = () => loadConfig({ flags: { listen: '127.0.0.1:0', db: db.url, metricsListen: 'off' }, env: {}, cwd: '/nonexistent' });
    a = await startServer({ ...config(), health: { ...config().health, evaluateEveryMs: 0 } }, { clock, log: createLogger('silent') });
    b = await startServer({ ...config(), health: { ...config().health, evaluateEveryMs: 0 } }, { clock, log: createLogger('silent') });
    await createBouncer(a.store, { name: 'custom', apiKeyHash: hashApiKey('shared-key'), now: T0 });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await cleanup?.();
  });

  it('a decision written through one replica is answered by the other', async () => {
    const d = buildDecision({ scope: 'Ip', value: '192.0.2.10', type: 'ban', duration: '1h', reason: 'replica', origin: 'cscli' }, T0);
    await addDecisions(a.store, manualAlert({ now: T0, scenario: 'replica', scope: 'Ip', value: d.value, count: 1, machineId: 'vigil' }), [d]);
    await b.sync.refresh();
    const r = await fetch(`${b.url}/v1/decisions?ip=192.0.2.10`, { headers: key });
    expect(JSON.parse(await r.text())[0].value).toBe('192.0.2.10');
  });

  it('a pull recorded by one replica is the stream cursor of the other', async () => {
    const startup = JSON.parse(await (await fetch(`${a.url}/v1/decisions/stream?startup=true`, { headers: key })).text());
    expect(startup.new).toHaveLength(1);
    await a.activity.flush();
    clock.advance(10_000);
    // The other replica continues from where the first left off: nothing new, not everything again.
    expect(await (await fetch(`${b.url}/v1/decisions/stream?`, { headers: key })).text()).toBe('{"deleted":null,"new":null}');
  });

  it('opens an issue once when both replicas evaluate at the same moment', async () => {
    await b.activity.flush();
    clock.advance(25 * 3600_000);
    const [ra, rb] = await Promise.all([a.health.evaluateNow(), b.health.evaluateNow()]);
    const opened = [...ra.opened, ...rb.opened].filter((i) => i.kind === 'rc_integration_offline');
    expect(opened).toHaveLength(1);
    expect((await openHealthIssues(a.store)).filter((i) => i.kind === 'rc_integration_offline')).toHaveLength(1);
  });
});
