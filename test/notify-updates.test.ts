import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { simpleParser, type ParsedMail } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getStatus as get } from './support/http-from.ts';
import { DIALECTS } from './support/databases.ts';
import { useInProcessServer } from './support/in-process-server.ts';
import { startHttpReceiver, type HttpReceiver } from './support/receivers.ts';
import { ManualClock } from '../src/lib/clock.ts';
import { hashApiKey } from '../src/core/bouncers/api-key.ts';
import { loadNotificationsConfig } from '../src/notify/config.ts';
import { UPDATE_EVERY_MS } from '../src/core/notify/plan.ts';
import { rotateAdminToken } from '../src/server/admin.ts';
import { createBouncer, listBouncers } from '../src/store/bouncers.ts';
import { openHealthIssues } from '../src/store/health-issues.ts';
import { evaluateAndNotify } from './support/notify-cycle.ts';

/**
 * One bouncer incident, end to end, with the default health rules: a stream bouncer pulls every
 * 10 s over real HTTP, stops (killed), goes late, its key starts being refused (the cause changes),
 * it escalates to offline, and it comes back. What is asserted is what a real webhook receiver, a
 * Slack-compatible receiver and a real SMTP server (smtp-server, parsed with mailparser) got:
 * one thread — opened, updated (cause), updated (criticality), resolved — with one issue id.
 */
const T0 = Date.UTC(2026, 10, 9, 8, 0, 0);
const UA = 'crowdsec-custom-bouncer/v0.0.15';
const FROM = '127.0.0.4';

async function startSmtp() {
  const received: ParsedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, cb) {
      simpleParser(stream).then(
        (mail) => {
          received.push(mail);
          cb(null);
        },
        (e) => cb(e),
      );
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = ((server as unknown as { server: { address(): AddressInfo } }).server.address() as AddressInfo).port;
  return { port, received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

for (const dialect of DIALECTS) {
  describe(`${dialect}: a bouncer incident is one notification thread`, () => {
    const clock = new ManualClock(T0);
    let hook: HttpReceiver;
    let chat: HttpReceiver;
    let smtp: Awaited<ReturnType<typeof startSmtp>>;
    let lastPull = T0;

    const pull = async () => {
      expect(await get(server().url, '/v1/decisions/stream?startup=false', { 'X-Api-Key': 'web-key', 'User-Agent': UA }, FROM)).toBe(200);
      lastPull = clock.now();
    };
    const cycle = () => evaluateAndNotify(server(), { flushActivity: true });
    const counts = () => [hook.requests.length, chat.requests.length, smtp.received.length];
    const last = () => ({ hook: hook.requests.at(-1)!.json, chat: chat.requests.at(-1)!.json, mail: smtp.received.at(-1)! });

    afterAll(async () => {
      await hook?.close();
      await chat?.close();
      await smtp?.close();
    });
    // Default health rules: only the timer is off (evaluated by hand as the clock moves).
    const server = useInProcessServer(dialect, clock, async (config) => {
      hook = await startHttpReceiver();
      chat = await startHttpReceiver();
      smtp = await startSmtp();
      // This file follows one incident through a cause change at Warning; a stale key refused past
      // fail_open_after would raise it Critical at once (fail-open, its own tests), so not here.
      config.health.failOpenAfterMs = 24 * 3600_000;
      config.notifications = loadNotificationsConfig(
        {
          channels: {
            hook: { type: 'webhook', url: hook.url },
            chat: { type: 'slack', url: chat.url },
            mail: { type: 'email', host: '127.0.0.1', port: smtp.port, security: 'none', from: 'vigil@example.test', to: ['ops@example.test'] },
          },
        },
        null,
      );
    });

    beforeAll(async () => {
      await createBouncer(server().store, { name: 'web', apiKeyHash: hashApiKey('web-key'), now: T0 });
      // A stream bouncer with update_frequency 10s: enough pulls for its cadence to be learnt.
      for (let n = 0; n < 8; n++) {
        if (n > 0) clock.advance(10_000);
        await pull();
      }
      await cycle();
      expect((await listBouncers(server().store))[0]!.pullCadenceMs).toBe(10_000);
      expect(await openHealthIssues(server().store)).toEqual([]);
      expect(counts()).toEqual([0, 0, 0]);
    });

    it('killed: shown late after 3 missed pulls (admin API), nothing sent for 2 min, then Integration Late (Warning) on every channel, cause "stopped"', async () => {
      const token = await rotateAdminToken(server().store);
      const shown = async () => {
        const [b] = await (await fetch(`${server().url}/admin/v1/bouncers`, { headers: { Authorization: `Bearer ${token}` } })).json();
        return b.health;
      };
      clock.set(lastPull + 30_000);
      expect(await shown()).toBe('healthy');
      clock.set(lastPull + 31_000);
      expect(await shown()).toBe('late');
      await cycle();
      expect(counts()).toEqual([0, 0, 0]);
      clock.set(lastPull + 120_000);
      await cycle();
      expect(counts()).toEqual([0, 0, 0]);
      clock.set(lastPull + 130_000);
      const r = await cycle();
      expect(r.opened.map((i) => `${i.kind}:${i.criticality}`)).toEqual(['integration_late:warning']);
      expect(counts()).toEqual([1, 1, 1]);
      const { hook: h, chat: c, mail } = last();
      expect(h).toMatchObject({
        event: 'opened',
        issues: [{ kind: 'integration_late', criticality: 'warning', likelyCause: { cause: 'stopped_or_network' } }],
      });
      expect(c.text).toBe('*WARNING: Integration Late: bouncer web*');
      expect(mail.subject).toBe('[Vigil] WARNING: Integration Late: bouncer web');
      expect(mail.headers.get('x-vigil-event')).toBe('opened');
    });

    it('its key is refused now: one update with the new cause on every channel, none on the next evaluations', async () => {
      const id = (await openHealthIssues(server().store))[0]!.id;
      clock.advance(10_000);
      // The bouncer restarted with a stale key: it keeps trying, and the Local API refuses it.
      for (let n = 0; n < 3; n++) {
        expect(await get(server().url, '/v1/decisions/stream?startup=true', { 'X-Api-Key': 'stale-key', 'User-Agent': UA }, FROM)).toBe(403);
        clock.advance(10_000);
      }
      await cycle();
      expect(counts()).toEqual([2, 2, 2]);
      const { hook: h, chat: c, mail } = last();
      expect(h.event).toBe('updated');
      expect(h.issues).toHaveLength(1);
      expect(h.issues[0]).toMatchObject({
        id,
        criticality: 'warning',
        likelyCause: { cause: 'authentication', confidence: 'high' },
        previous: { criticality: 'warning', cause: 'stopped_or_network' },
      });
      expect(h.headline).toMatch(/^Likely cause changed: Integration Late: bouncer web: authentication failure/);
      expect(c.attachments[0].text).toContain('Changed since the last message: likely cause');
      expect(mail.subject).toMatch(/^\[Vigil\] Likely cause changed: Integration Late: bouncer web/);
      expect(mail.text).toContain('Changed since the last message: likely cause');
      expect(mail.headers.get('x-vigil-event')).toBe('updated');
      // Same cause on later evaluations: nothing more.
      clock.advance(10_000);
      await cycle();
      clock.advance(UPDATE_EVERY_MS);
      await cycle();
      expect(counts()).toEqual([2, 2, 2]);
    });

    it('10 min without a pull: the same issue escalates to RC Integration Offline (Critical), sent at once', async () => {
      const before = (await openHealthIssues(server().store))[0]!;
      clock.set(lastPull + 10 * 60_000);
      await cycle();
      expect(counts()).toEqual([2, 2, 2]);
      clock.set(lastPull + 10 * 60_000 + 10_000);
      const r = await cycle();
      expect(r.escalated.map((i) => `${i.id}:${i.kind}`)).toEqual([`${before.id}:rc_integration_offline`]);
      expect(r.opened).toEqual([]);
      expect(r.resolved).toEqual([]);
      expect(counts()).toEqual([3, 3, 3]);
      const { hook: h, chat: c, mail } = last();
      expect(h).toMatchObject({
        event: 'updated',
        issues: [{ id: before.id, kind: 'rc_integration_offline', criticality: 'critical', previous: { criticality: 'warning', cause: 'authentication' } }],
      });
      expect(c.text).toBe('*Now CRITICAL (was warning): RC Integration Offline: bouncer web*');
      expect(mail.subject).toBe('[Vigil] Now CRITICAL (was warning): RC Integration Offline: bouncer web');
      expect(mail.text).toContain('criticality warning → critical');
      // Nothing more while it stays as it is.
      clock.advance(UPDATE_EVERY_MS + 10_000);
      await cycle();
      expect(counts()).toEqual([3, 3, 3]);
    });

    it('back with its key: one resolve of that issue; every e-mail of it is one thread', async () => {
      const id = (await openHealthIssues(server().store))[0]!.id;
      clock.advance(10_000);
      await pull();
      const r = await cycle();
      expect(r.resolved.map((i) => i.id)).toEqual([id]);
      expect(counts()).toEqual([4, 4, 4]);
      const { hook: h, chat: c, mail } = last();
      expect(h).toMatchObject({ event: 'resolved', issues: [{ id, kind: 'rc_integration_offline' }] });
      expect(c.text).toBe('*Resolved: RC Integration Offline: bouncer web*');
      expect(mail.subject).toBe('[Vigil] Resolved: RC Integration Offline: bouncer web');
      expect(hook.requests.map((q) => q.json.event)).toEqual(['opened', 'updated', 'updated', 'resolved']);
      expect(new Set(hook.requests.map((q) => q.json.issues[0].id))).toEqual(new Set([id]));
      const threads = smtp.received.map((m) => m.references);
      expect(new Set(threads.map(String)).size).toBe(1);
      expect(String(threads[0])).toMatch(new RegExp(`^<vigil-issue-${id}\\.[0-9a-f]{12}@vigil\\.invalid>$`));
    });
  });
}
