import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, freshDbUrl } from './support/databases.ts';
import { startHttpReceiver, type HttpReceiver } from './support/receivers.ts';
import { eventually } from './support/wait.ts';
import { startServer, createLogger, type RunningServer } from '../src/app/serve.ts';
import { loadConfig } from '../src/config/config.ts';
import { ManualClock } from '../src/lib/clock.ts';
import { hashApiKey } from '../src/core/bouncers/api-key.ts';
import { loadNotificationsConfig } from '../src/notify/config.ts';
import type { MessageContent } from '../src/core/notify/types.ts';
import { applyBouncerActivity, createBouncer } from '../src/store/bouncers.ts';

/**
 * Two `vigil serve` replicas on one PostgreSQL database, both planning and sending: every message
 * reaches the receiver exactly once, whichever replica sends it, and each channel keeps its order.
 */
const T0 = Date.UTC(2026, 10, 10);
const H = 3600_000;

describe.skipIf(!DIALECTS.includes('postgres'))('postgres: two replicas send each notification once', () => {
  let a: RunningServer;
  let b: RunningServer;
  let cleanup: () => Promise<void>;
  const receivers: Record<string, HttpReceiver> = {};
  const clock = new ManualClock(T0);
  const channels = ['one', 'two', 'three'];

  beforeAll(async () => {
    const db = await freshDbUrl('postgres');
    cleanup = db.cleanup;
    for (const name of channels) receivers[name] = await startHttpReceiver();
    const config = () => {
      const c = loadConfig({ flags: { listen: '127.0.0.1:0', db: db.url, metricsListen: 'off' }, env: {}, cwd: '/nonexistent' });
      c.health.evaluateEveryMs = 0;
      c.notifications = loadNotificationsConfig(
        { channels: Object.fromEntries(channels.map((n) => [n, { type: 'webhook' as const, url: receivers[n]!.url }])) },
        null,
      );
      return c;
    };
    a = await startServer(config(), { clock, log: createLogger('silent'), env: {} });
    b = await startServer(config(), { clock, log: createLogger('silent'), env: {} });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await cleanup?.();
    for (const r of Object.values(receivers)) await r.close();
  });

  const deliveries = (name: string) => receivers[name]!.requests.map((r) => r.headers['x-vigil-delivery'] as string);

  it('plans and sends an issue once when both replicas evaluate and flush at the same moment, cycle after cycle', async () => {
    const names = Array.from({ length: 6 }, (_, i) => `b${i}`);
    const ids = new Map<string, number>();
    for (const n of names) ids.set(n, (await createBouncer(a.store, { name: n, apiKeyHash: hashApiKey(`${n}-key`), now: T0 })).id);
    const pullAll = (except?: string) =>
      applyBouncerActivity(
        a.store,
        names.filter((n) => n !== except).map((n) => ({ id: ids.get(n)!, lastPullAt: clock.now() })),
        clock.now(),
      );
    await pullAll();
    for (const silent of names) {
      // `silent` stops pulling for 25 h, then resumes: one open and one resolve, planned by both at once.
      clock.advance(25 * H);
      await pullAll(silent);
      await Promise.all([a.health.evaluateNow(), b.health.evaluateNow()]);
      await Promise.all([a.notifications.flush(), b.notifications.flush()]);
      clock.advance(60_000);
      await pullAll();
      await Promise.all([a.health.evaluateNow(), b.health.evaluateNow()]);
      await Promise.all([a.notifications.flush(), b.notifications.flush()]);
    }
    for (const ch of channels) {
      const got = receivers[ch]!.requests.map((r) => `${r.json.event}:${r.json.issues.map((i: { bouncer: string }) => i.bouncer).join(',')}`);
      expect(got).toEqual(names.flatMap((n) => [`opened:${n}`, `resolved:${n}`]));
      expect(new Set(deliveries(ch)).size).toBe(got.length);
    }
  });

  it('of 90 queued messages, racing dispatchers deliver each exactly once, in order per channel', async () => {
    const before = Object.fromEntries(channels.map((c) => [c, receivers[c]!.requests.length]));
    const content: MessageContent = { event: 'test', createdAt: clock.now(), lapiUrl: 'http://127.0.0.1:8080/', issues: [], part: { index: 1, of: 1 } };
    const queued = new Map<string, string[]>(channels.map((c) => [c, []]));
    await a.notifications.store.planning(async (trx) => {
      for (let i = 0; i < 30; i++) {
        for (const channel of channels)
          queued.get(channel)!.push((await a.notifications.store.enqueue(trx, { channel, content, now: clock.now() })).deliveryId);
      }
    });
    await Promise.all([a.notifications.dispatcher.runDue(), b.notifications.dispatcher.runDue(), a.notifications.dispatcher.runDue()]);
    // A dispatcher's own timer may have claimed the last ones meanwhile (a loaded machine): let it finish.
    await eventually('every queued message delivered', () => channels.every((ch) => deliveries(ch).length - before[ch]! >= 30), 5_000);
    for (const ch of channels) expect(deliveries(ch).slice(before[ch])).toEqual(queued.get(ch));
    expect((await a.notifications.store.outbox({ status: 'pending' })).length).toBe(0);
  });
});
