import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/app/serve.ts';
import { hashApiKey } from '../../src/core/bouncers/api-key.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import type { OutboxMessage } from '../../src/store/notify-store.ts';
import { runVigil } from '../support/cli.ts';
import { DIALECTS } from '../support/databases.ts';
import { type HttpReceiver, startHttpReceiver } from '../support/receivers.ts';
import { createBouncer } from '../../src/store/bouncers.ts';
import { bouncerPulls, startNotifyingServer } from '../support/notify-cycle.ts';

/**
 * A webhook that answers 302 (moved, being set up) must not lose what Vigil had to tell it: every
 * message is retried with backoff for `give_up_after` (24 h), in order, holding its channel's
 * queue; a channel that recovers within it gets everything it missed, in order, with the delivery
 * ids queued; past it, `vigil notify queue` says what to do and `vigil notify retry` sends the
 * failed ones again, the same way. Real `vigil serve` (in process, manual clock), real HTTP receivers.
 */
const T0 = Date.UTC(2026, 11, 1, 0, 0, 0);
const H = 3600_000;
const MIN = 60_000;

for (const dialect of DIALECTS) {
  describe(`${dialect}: notifications that must not give up for good`, () => {
    const clock = new ManualClock(T0);
    let server: RunningServer;
    let cleanup: () => Promise<void>;
    let dbUrl: string;
    let cwd: string;
    let moved: HttpReceiver;
    let broken: HttpReceiver;
    // `moved` refuses its first 8 requests (5 were enough to lose a message for good), then accepts.
    const MOVED_REFUSALS = 8;
    let brokenFixed = false;
    const accepted: Record<string, number[]> = { moved: [], broken: [] };
    const ids: Record<string, number> = {};

    const pull = bouncerPulls(() => server, ids, clock);
    const outbox = (channel: string): Promise<OutboxMessage[]> => server.notifications.store.outbox({ channel });
    const runDue = () => server.notifications.dispatcher.runDue();
    const delivered = (r: HttpReceiver, channel: string) =>
      accepted[channel]!.map((n) => r.requests[n]!.json).map((j) => [j.event, j.issues[0].subject, j.deliveryId]);
    const vigil = (...argv: string[]) => runVigil({ env: { VIGIL_DB: dbUrl }, cwd, clock }, argv);

    beforeAll(async () => {
      moved = await startHttpReceiver((n) => {
        if (n < MOVED_REFUSALS) return { status: 302, body: '' };
        accepted.moved!.push(n);
        return { status: 200, body: 'ok' };
      });
      broken = await startHttpReceiver((n) => {
        if (!brokenFixed) return { status: 302, body: '' };
        accepted.broken!.push(n);
        return { status: 200, body: 'ok' };
      });
      cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-notify-give-up-'));
      ({ server, dbUrl, cleanup } = await startNotifyingServer(dialect, clock, {
        timeout: '2s',
        retry_initial: '10s',
        retry_max: '10m',
        channels: { moved: { type: 'webhook', url: moved.url }, broken: { type: 'webhook', url: broken.url } },
      }));
      for (const name of ['b1', 'b2']) ids[name] = (await createBouncer(server.store, { name, apiKeyHash: hashApiKey(`${name}-key`), now: T0 })).id;
      await pull('b1');
      clock.advance(H);
      await pull('b2');
      // Three messages per channel, queued in this order: b1 opened, b2 opened, b1 resolved.
      clock.advance(23 * H + 30 * MIN);
      expect((await server.health.evaluateNow()).opened.map((i) => i.subject)).toEqual(['bouncer:b1']);
      await server.notifications.planner.run();
      clock.advance(H);
      await pull('b1');
      const r = await server.health.evaluateNow();
      expect([r.opened.map((i) => i.subject), r.resolved.map((i) => i.subject)]).toEqual([['bouncer:b2'], ['bouncer:b1']]);
      await server.notifications.planner.run();
    });
    afterAll(async () => {
      await server?.close();
      await cleanup?.();
      await moved?.close();
      await broken?.close();
      if (cwd) fs.rmSync(cwd, { recursive: true, force: true });
    });

    it('retries the head with doubling backoff; a channel that recovers gets all it missed, in order, with the queued delivery ids', async () => {
      const queued = await outbox('moved');
      expect(queued.map((m) => [m.content.event, m.content.issues.map((i) => i.subject)])).toEqual([
        ['opened', ['bouncer:b1']],
        ['opened', ['bouncer:b2']],
        ['resolved', ['bouncer:b1']],
      ]);
      const head = queued[0]!;
      // Each retry comes when due, and not before: step k waits within [½, 1] × min(10s × 2^(k-1), 10m).
      for (let k = 1; k <= MOVED_REFUSALS; k++) {
        await runDue();
        const [m] = await outbox('moved');
        expect(m).toMatchObject({ id: head.id, status: 'pending', attempts: k, lastError: 'HTTP 302' });
        const step = Math.min(10_000 * 2 ** (k - 1), 10 * MIN);
        const wait = m!.nextAttemptAt - clock.now();
        expect(wait).toBeGreaterThanOrEqual(step / 2);
        expect(wait).toBeLessThanOrEqual(step);
        clock.advance(wait - 1);
        await runDue();
        expect(moved.requests).toHaveLength(k);
        clock.advance(1);
      }
      // Only the head was tried while refused: nothing overtook it.
      expect(new Set(moved.requests.map((q) => q.headers['x-vigil-delivery']))).toEqual(new Set([head.deliveryId]));
      await runDue();
      expect(delivered(moved, 'moved')).toEqual(queued.map((m) => [m.content.event, m.content.issues[0]!.subject, m.deliveryId]));
      expect((await outbox('moved')).map((m) => m.status)).toEqual(['sent', 'sent', 'sent']);
    });

    it('keeps retrying for 24 h, then marks failed; the queue says what to do; vigil notify retry sends them again in order with the same ids', async () => {
      // The default window (notifications.give_up_after).
      expect(server.notifications.dispatcher.giveUpAfterMs).toBe(24 * H);
      const queued = await outbox('broken');
      const firstQueuedAt = queued[0]!.createdAt;
      // An hour at a time up to a minute before the head's window ends: still pending.
      while (clock.now() + H < firstQueuedAt + 24 * H - MIN) {
        clock.advance(H);
        await runDue();
      }
      clock.advance(firstQueuedAt + 24 * H - MIN - clock.now());
      await runDue();
      expect((await outbox('broken')).map((m) => m.status)).toEqual(['pending', 'pending', 'pending']);
      // Backoff capped at retry_max: about one attempt per hour of clock here, not one per second.
      expect(broken.requests.length).toBeGreaterThan(24);
      expect(broken.requests.length).toBeLessThan(60);
      // Past every message's window: failed, in the order queued.
      for (let i = 0; i < 4; i++) {
        clock.advance(H);
        await runDue();
      }
      const failed = await outbox('broken');
      expect(failed.map((m) => [m.status, m.lastError])).toEqual([
        ['failed', 'HTTP 302'],
        ['failed', 'HTTP 302'],
        ['failed', 'HTTP 302'],
      ]);
      expect(accepted.broken).toEqual([]);

      const queue = await vigil('notify', 'queue');
      expect(queue.code).toBe(0);
      expect(queue.out).toContain('3 notification(s) failed');
      expect(queue.out).toContain('vigil notify test broken');
      expect(queue.out).toContain('vigil notify retry --channel broken');

      const none = await vigil('notify', 'retry', '--channel', 'moved');
      expect(none.out).toContain('No failed notification (channel moved)');
      expect((await vigil('notify', 'retry', '--id', 'abc')).err).toContain('--id "abc": use a message ID from vigil notify queue');
      // One message by id (still refused: the receiver is not fixed yet, so it stays pending, retried).
      const one = await vigil('notify', 'retry', '--id', String(failed[0]!.id), '-o', 'json');
      expect(JSON.parse(one.out)).toEqual([{ id: failed[0]!.id, channel: 'broken', deliveryId: failed[0]!.deliveryId }]);
      expect((await outbox('broken')).map((m) => m.status)).toEqual(['pending', 'failed', 'failed']);
      brokenFixed = true;
      const retry = await vigil('notify', 'retry', '--channel', 'broken');
      expect(retry.code).toBe(0);
      expect(retry.out).toContain('Queued again 2 notification(s) (broken)');
      // Past any backoff the head may have got from a refused attempt meanwhile (the dispatcher also polls by itself).
      clock.advance(10 * MIN);
      await runDue();
      expect(delivered(broken, 'broken')).toEqual(queued.map((m) => [m.content.event, m.content.issues[0]!.subject, m.deliveryId]));
      expect((await outbox('broken')).map((m) => m.status)).toEqual(['sent', 'sent', 'sent']);
      expect((await vigil('notify', 'queue')).out).toContain('Nothing queued');
    });
  });
}
