import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from './support/databases.ts';
import { startHttpReceiver, type HttpReceiver } from './support/receivers.ts';
import type { RunningServer } from '../src/app/serve.ts';
import { ManualClock } from '../src/lib/clock.ts';
import { hashApiKey } from '../src/core/bouncers/api-key.ts';
import { verifySignature } from '../src/notify/channels/webhook/signature.ts';
import { acknowledgeIssue, createSilence } from '../src/notify/silence-commands.ts';
import { createBouncer, setBouncerKind } from '../src/store/bouncers.ts';
import { openHealthIssues } from '../src/store/health-issues.ts';
import { bouncerPulls, evaluateAndNotify, startNotifyingServer } from './support/notify-cycle.ts';

/**
 * Notifications end to end: `vigil serve` (real store, real health engine, manual clock) sending
 * to real HTTP receivers on loopback. What is asserted is what the receivers got.
 */
const T0 = Date.UTC(2026, 10, 7, 6, 0, 0);
const H = 3600_000;

for (const dialect of DIALECTS) {
  describe(`${dialect}: notifications from the health engine`, () => {
    const clock = new ManualClock(T0);
    let server: RunningServer;
    let logs: string[];
    let cleanup: () => Promise<void>;
    let hook: HttpReceiver;
    let chat: HttpReceiver;
    const ids: Record<string, number> = {};

    const pull = bouncerPulls(() => server, ids, clock);
    const cycle = () => evaluateAndNotify(server);
    const issueId = async (subject: string) => (await openHealthIssues(server.store)).find((i) => i.subject === subject)!.id;

    beforeAll(async () => {
      hook = await startHttpReceiver();
      chat = await startHttpReceiver();
      ({ server, logs, cleanup } = await startNotifyingServer(
        dialect,
        clock,
        {
          channels: {
            hook: { type: 'webhook', url: '${HOOK_URL}', secret: '${HOOK_SECRET}', headers: { 'X-Team': 'sre' } },
            chat: { type: 'slack', url: chat.url, kinds: ['rc_integration_offline'] },
          },
        },
        { HOOK_URL: hook.url, HOOK_SECRET: 'hook-secret' },
      ));
      for (const name of ['web', 'fw']) ids[name] = (await createBouncer(server.store, { name, apiKeyHash: hashApiKey(`${name}-key`), now: T0 })).id;
      await setBouncerKind(server.store, 'fw', 'firewall', T0);
      await pull('web', 'fw');
    });
    afterAll(async () => {
      await server?.close();
      await cleanup?.();
      await hook?.close();
      await chat?.close();
    });

    it('sends the issues opened in one evaluation as one message per channel, signed, with one delivery id in header and body', async () => {
      clock.advance(25 * H);
      const r = await cycle();
      expect(r.opened.map((i) => i.kind).sort()).toEqual(['fw_integration_offline', 'rc_integration_offline', 'se_no_active_rc']);
      expect(hook.requests).toHaveLength(1);
      const [req] = hook.requests;
      expect(req!.json).toMatchObject({ event: 'opened', channel: 'hook', part: { index: 1, of: 1 } });
      expect(req!.json.issues.map((i: { kind: string }) => i.kind).sort()).toEqual(['fw_integration_offline', 'rc_integration_offline', 'se_no_active_rc']);
      expect(req!.headers['x-vigil-delivery']).toBe(req!.json.deliveryId);
      expect(req!.headers['x-vigil-event']).toBe('opened');
      expect(req!.headers['x-team']).toBe('sre');
      expect(req!.headers['content-type']).toBe('application/json');
      expect(verifySignature('hook-secret', req!.body, req!.headers['x-vigil-signature-256'] as string)).toBe(true);
      const web = req!.json.issues.find((i: { bouncer: string }) => i.bouncer === 'web');
      expect(web.likelyCause.text.length).toBeGreaterThan(10);
      expect(web.runbook.markdown).toContain('### Diagnose');
      // The Slack channel takes only rc_integration_offline.
      expect(chat.requests).toHaveLength(1);
      expect(chat.requests[0]!.json.text).toBe('*CRITICAL: RC Integration Offline: bouncer web*');
      expect(chat.requests[0]!.headers['x-vigil-delivery']).toBe(chat.requests[0]!.json.attachments[0].footer.replace('Vigil · delivery ', ''));
      // Nothing more on another flush: each message went once.
      await server.notifications.flush();
      expect([hook.requests.length, chat.requests.length]).toEqual([1, 1]);
    });

    it('sends one grouped resolve for what was announced', async () => {
      clock.advance(60_000);
      await pull('web');
      const r = await cycle();
      expect(r.resolved.map((i) => i.kind).sort()).toEqual(['rc_integration_offline', 'se_no_active_rc']);
      expect(hook.requests).toHaveLength(2);
      expect(hook.requests[1]!.json.event).toBe('resolved');
      expect(hook.requests[1]!.json.issues.map((i: { kind: string }) => i.kind).sort()).toEqual(['rc_integration_offline', 'se_no_active_rc']);
      expect(hook.requests[1]!.json.issues.every((i: { resolvedAt: string | null }) => i.resolvedAt !== null)).toBe(true);
      expect(chat.requests[1]!.json.text).toBe('*Resolved: RC Integration Offline: bouncer web*');
    });

    it('reminds every 24 h while an issue stays open, and stops once it is acknowledged', async () => {
      const fw = await issueId('bouncer:fw');
      clock.advance(24 * H - 2 * 60_000);
      await pull('web');
      await cycle();
      expect(hook.requests).toHaveLength(2); // 23h58m after the open was queued: not yet
      clock.advance(2 * 60_000);
      await pull('web');
      await cycle();
      expect(hook.requests).toHaveLength(3);
      expect(hook.requests[2]!.json).toMatchObject({ event: 'reminder', headline: `Still open after 1 d: Firewall Integration Offline: bouncer fw` });
      expect(hook.requests[2]!.json.issues.map((i: { id: number }) => i.id)).toEqual([fw]);
      await acknowledgeIssue(server.store, { issueId: fw, reason: 'on it', createdBy: 'test', now: clock.now() });
      clock.advance(25 * H);
      await pull('web');
      await cycle();
      expect(hook.requests).toHaveLength(3);
    });

    it("holds back a silenced bouncer's open until the silence ends; a sent open still gets its resolve", async () => {
      await createSilence(server.store, { bouncer: 'web', for: '48h', reason: 'nginx upgrade', createdBy: 'test', now: clock.now() });
      clock.advance(25 * H); // web silent for 25 h: offline, but silenced
      const r = await cycle();
      const web = r.opened.find((i) => i.subject === 'bouncer:web')!;
      expect(web).toBeDefined();
      const opened = hook.requests.slice(3).map((q) => [q.json.event, q.json.issues.map((i: { subject: string }) => i.subject)]);
      expect(opened).toEqual([['opened', ['fleet']]]);
      // The silence ends early: the open goes out now.
      const [s] = await server.notifications.store.silences(clock.now());
      await server.notifications.store.removeSilence(s!.id, clock.now());
      await server.notifications.flush();
      expect(hook.requests.at(-1)!.json).toMatchObject({ event: 'opened', issues: [{ id: web.id, bouncer: 'web' }] });
      // Silenced after its open was sent: the resolve is still sent.
      await createSilence(server.store, { issueId: web.id, for: '8h', reason: 'known', createdBy: 'test', now: clock.now() });
      clock.advance(60_000);
      await pull('web');
      await cycle();
      expect(hook.requests.at(-1)!.json.event).toBe('resolved');
      expect(hook.requests.at(-1)!.json.issues.map((i: { id: number }) => i.id)).toContain(web.id);
    });

    it('sends nothing for an issue that opened and resolved while silenced', async () => {
      const before = hook.requests.length;
      await createSilence(server.store, { bouncer: 'web', for: '30h', reason: 'maintenance', createdBy: 'test', now: clock.now() });
      clock.advance(25 * H);
      const r = await cycle();
      const web = r.opened.find((i) => i.subject === 'bouncer:web')!;
      clock.advance(60_000);
      await pull('web');
      expect((await cycle()).resolved.map((i) => i.id)).toContain(web.id);
      const mentioned = hook.requests.slice(before).flatMap((q) => q.json.issues.map((i: { id: number }) => i.id));
      expect(mentioned).not.toContain(web.id);
    });

    it('never logs a webhook URL token or the signing secret', () => {
      const text = logs.join('');
      expect(text).toContain('notification delivered to hook');
      expect(text).toContain('http://127.0.0.1:');
      expect(text).not.toContain('secret-token-123');
      expect(text).not.toContain('hook-secret');
    });
  });

  describe(`${dialect}: failing receivers`, () => {
    const clock = new ManualClock(T0);
    let server: RunningServer;
    let cleanup: () => Promise<void>;
    let flaky: HttpReceiver;
    let good: HttpReceiver;
    let gone: HttpReceiver;
    let flakyPort: number;
    const ids: Record<string, number> = {};
    const pull = bouncerPulls(() => server, ids, clock);
    const outbox = (channel: string) => server.notifications.store.outbox({ channel });

    beforeAll(async () => {
      flaky = await startHttpReceiver([{ status: 500, body: 'internal error' }, 'hang']);
      flakyPort = flaky.port;
      good = await startHttpReceiver();
      gone = await startHttpReceiver(() => ({ status: 404, body: 'no such hook' }));
      ({ server, cleanup } = await startNotifyingServer(
        dialect,
        clock,
        {
          // Long enough that a loaded machine finishes the checks made while an attempt hangs.
          timeout: '2s',
          retry_initial: '10s',
          retry_max: '1m',
          // Past the 50 h of clock these tests move through, so only the last one sees a message given up.
          give_up_after: '7d',
          channels: {
            flaky: { type: 'webhook', url: flaky.url },
            good: { type: 'webhook', url: good.url },
            gone: { type: 'slack', url: gone.url },
          },
        },
        {},
      ));
      for (const name of ['b1', 'b2']) ids[name] = (await createBouncer(server.store, { name, apiKeyHash: hashApiKey(`${name}-key`), now: T0 })).id;
      await pull('b1', 'b2');
    });
    afterAll(async () => {
      await server?.close();
      await cleanup?.();
      for (const r of [flaky, good, gone]) await r?.close();
    });

    it('retries a 500 after a backoff, with the same delivery id', async () => {
      clock.advance(25 * H);
      await pull('b2');
      await server.health.evaluateNow();
      await server.notifications.flush();
      expect(good.requests).toHaveLength(1);
      expect(flaky.requests).toHaveLength(1);
      const [m] = await outbox('flaky');
      expect(m).toMatchObject({
        status: 'pending',
        attempts: 1,
        lastError: 'HTTP 500 internal error',
        deliveryId: flaky.requests[0]!.headers['x-vigil-delivery'],
      });
      // Not due yet: no new attempt.
      await server.notifications.flush();
      expect(flaky.requests).toHaveLength(1);
      expect(m!.nextAttemptAt - clock.now()).toBeGreaterThanOrEqual(5_000);
      expect(m!.nextAttemptAt - clock.now()).toBeLessThanOrEqual(10_000);
    });

    it('a receiver that does not answer delays neither the evaluation nor another channel', async () => {
      clock.advance(10_000);
      const sending = server.notifications.dispatcher.runDue();
      await flaky.waitFor(2);
      expect(flaky.hanging()).toBe(1);
      // While flaky hangs: b2 goes offline, the evaluation completes, and `good` gets the new issue.
      clock.advance(25 * H);
      await pull('b1');
      const r = await server.health.evaluateNow();
      expect(r.opened.map((i) => i.subject)).toEqual(['bouncer:b2']);
      await server.notifications.planner.run();
      server.notifications.dispatcher.kick();
      await good.waitFor(2);
      expect(flaky.hanging()).toBe(1);
      expect(good.requests[1]!.json.issues.map((i: { subject: string }) => i.subject)).toEqual(['bouncer:b2']);
      await sending;
      const [m, second] = await outbox('flaky');
      expect(m).toMatchObject({ status: 'pending', attempts: 2, lastError: 'no answer within 2000 ms (timeout)' });
      // FIFO per channel: b2's message waits behind the first.
      expect(second).toMatchObject({ status: 'pending', attempts: 0 });
    });

    it('retries a refused connection, then delivers in order once the receiver is back', async () => {
      await flaky.close();
      clock.advance(60_000);
      await server.notifications.dispatcher.runDue();
      let [m] = await outbox('flaky');
      expect(m).toMatchObject({ status: 'pending', attempts: 3 });
      expect(m!.lastError).toContain('ECONNREFUSED');
      flaky = await startHttpReceiver([], flakyPort);
      clock.advance(60_000);
      await server.notifications.dispatcher.runDue();
      // In the order queued: b1 opened, b2 opened, b1 resolved (b1 pulled again in the evaluation above).
      expect(flaky.requests.map((q) => [q.json.event, q.json.issues[0].subject])).toEqual([
        ['opened', 'bouncer:b1'],
        ['opened', 'bouncer:b2'],
        ['resolved', 'bouncer:b1'],
      ]);
      [m] = await outbox('flaky');
      expect(m).toMatchObject({ status: 'sent', attempts: 4, answer: 'HTTP 200 ok' });
      // The same delivery id in every attempt of the first message.
      expect(flaky.requests[0]!.json.deliveryId).toBe(m!.deliveryId);
    });

    it('keeps retrying a message refused outright (404) within give_up_after, then gives it up and goes on with the next', async () => {
      for (let n = 0; n < 8; n++) {
        clock.advance(60_000);
        await server.notifications.dispatcher.runDue();
      }
      let [first, second] = await outbox('gone');
      expect(first).toMatchObject({ status: 'pending', lastError: 'HTTP 404 no such hook' });
      expect(first!.attempts).toBeGreaterThanOrEqual(5);
      // FIFO: nothing behind it was tried.
      expect(second!.attempts).toBe(0);
      clock.advance(7 * 24 * H);
      await server.notifications.dispatcher.runDue();
      [first, second] = await outbox('gone');
      expect(first).toMatchObject({ status: 'failed', lastError: 'HTTP 404 no such hook' });
      expect(second!.attempts).toBeGreaterThan(0);
      const attempts = gone.requests.map((q) => q.headers['x-vigil-delivery']);
      expect(attempts.filter((d) => d === first!.deliveryId)).toHaveLength(first!.attempts);
      expect(attempts.filter((d) => d === second!.deliveryId)).toHaveLength(second!.attempts);
    });
  });
}
