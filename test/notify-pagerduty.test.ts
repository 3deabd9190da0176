import { beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from './support/databases.ts';
import { startHttpReceiver } from './support/receivers.ts';
import { ManualClock } from '../src/lib/clock.ts';
import { hashApiKey } from '../src/core/bouncers/api-key.ts';
import { acknowledgeIssue } from '../src/notify/silence-commands.ts';
import { applyBouncerActivity, createBouncer } from '../src/store/bouncers.ts';
import { evaluateAndNotify, useNotifyingServer } from './support/notify-cycle.ts';

/**
 * A PagerDuty channel end to end: `vigil serve` (store, health engine, planner, outbox) sending to
 * a real HTTP receiver that answers as the Events API v2 does (202). One alert per issue, opened by
 * trigger, acknowledged when an operator acknowledges the issue in Vigil, closed by resolve.
 */
const T0 = Date.UTC(2026, 11, 1, 9, 0, 0);
const H = 3600_000;
const KEY = 'R0UT1NGKEY0123456789abcdefABCDEF';

for (const dialect of DIALECTS) {
  describe(`${dialect}: PagerDuty from the health engine`, () => {
    const clock = new ManualClock(T0);
    let webId: number;
    const cycle = () => evaluateAndNotify(server());
    const events = () => pd().requests.map((r) => [r.path, r.json.event_action, r.json.dedup_key, r.json.payload?.severity ?? null]);

    const { server, receiver: pd } = useNotifyingServer(dialect, clock, {
      // Answers as the Events API v2 does.
      start: () => startHttpReceiver(() => ({ status: 202, body: '{"status":"success","message":"Event processed"}' })),
      stop: (r) => r.close(),
      notifications: (r) => ({
        remind_every: '1h',
        channels: {
          oncall: { type: 'pagerduty', routing_key: '${PD_KEY}', url: `${new URL(r.url).origin}/v2/enqueue`, kinds: ['rc_integration_offline'] },
        },
      }),
      env: () => ({ PD_KEY: KEY }),
      // The dashboard on a listener of its own: links must point there, not at the Local API.
      configure: (config) => {
        config.adminListen = { host: '127.0.0.1', port: 0 };
      },
    });
    beforeAll(async () => {
      webId = (await createBouncer(server().store, { name: 'web', apiKeyHash: hashApiKey('web-key'), now: T0 })).id;
      await applyBouncerActivity(server().store, [{ id: webId, lastPullAt: T0 }], T0);
    });

    it('triggers, sends no reminder, acknowledges when acknowledged in Vigil, and resolves under the same dedup_key', async () => {
      clock.advance(25 * H);
      const opened = (await cycle()).opened.find((i) => i.kind === 'rc_integration_offline')!;
      const key = `vigil-issue-${opened.id}`;
      expect(events()).toEqual([['/v2/enqueue', 'trigger', key, 'critical']]);
      expect(pd().requests[0]!.json.routing_key).toBe(KEY);
      expect(pd().requests[0]!.json.payload.custom_details).toMatchObject({ issue_id: opened.id, runbook_command: `vigil issues show ${opened.id}` });
      const dashboard = server().web.dashboardUrl!;
      expect(new URL(dashboard).origin).not.toBe(new URL(server().url).origin);
      expect(pd().requests[0]!.json.links[0].href).toBe(`${dashboard}issues/${opened.id}`);
      expect(pd().requests[0]!.json.payload.custom_details.runbook_link).toBe(`${dashboard}issues/${opened.id}`);
      expect(pd().requests[0]!.json.client_url).toBe(dashboard);
      expect((await fetch(pd().requests[0]!.json.links[0].href, { redirect: 'manual' })).status).not.toBe(404);
      clock.advance(2 * H); // a reminder is due on other channels: PagerDuty escalates by itself
      await cycle();
      expect(pd().requests).toHaveLength(1);
      await acknowledgeIssue(server().store, { issueId: opened.id, reason: 'on it', createdBy: 'test', now: clock.now() });
      await cycle();
      expect(events().at(-1)).toEqual(['/v2/enqueue', 'acknowledge', key, null]);
      await cycle();
      expect(pd().requests).toHaveLength(2); // told once
      clock.advance(60_000);
      await applyBouncerActivity(server().store, [{ id: webId, lastPullAt: clock.now() }], clock.now());
      await cycle();
      expect(events().at(-1)).toEqual(['/v2/enqueue', 'resolve', key, null]);
      expect(pd().requests).toHaveLength(3);
    });
  });
}
