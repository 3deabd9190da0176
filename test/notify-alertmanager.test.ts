import { beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey } from '../src/core/bouncers/api-key.ts';
import { ManualClock } from '../src/lib/clock.ts';
import { acknowledgeIssue } from '../src/notify/silence-commands.ts';
import { applyBouncerActivity, createBouncer } from '../src/store/bouncers.ts';
import { openHealthIssues } from '../src/store/health-issues.ts';
import { startAlertmanager } from './support/alertmanager.ts';
import { DIALECTS } from './support/databases.ts';
import { evaluateAndNotify, useNotifyingServer } from './support/notify-cycle.ts';
import { eventually } from './support/wait.ts';

/**
 * The Alertmanager channel end to end: `vigil serve` (real store, health engine, outbox; manual
 * clock) posting to a real Alertmanager. Alertmanager keeps real time, so Vigil's clock is set
 * half an hour in the past when the issue opens and never passes the real time: what is asserted
 * is how the alert's endsAt moves with Vigil's re-sends, also after an acknowledgement.
 */
const H = 3600_000;
const MIN = 60_000;

for (const dialect of DIALECTS) {
  describe(`${dialect}: Vigil keeps its alert firing in Alertmanager until the issue resolves`, () => {
    const start = Date.now() - 25 * H - 30 * MIN;
    const clock = new ManualClock(start);
    let web = 0;

    const pull = () => applyBouncerActivity(server().store, [{ id: web, lastPullAt: clock.now() }], clock.now());
    const cycle = () => evaluateAndNotify(server());
    // biome-ignore lint/suspicious/noExplicitAny: Alertmanager's gettableAlert
    const alertOf = async (): Promise<any> =>
      ((await am().get('/api/v2/alerts')) as { labels: { bouncer?: string } }[]).find((a) => a.labels.bouncer === 'web');

    const { server, receiver: am } = useNotifyingServer(dialect, clock, {
      start: () => startAlertmanager(['alertname']),
      stop: (r) => r.stop(),
      notifications: () => ({ channels: { am: { type: 'alertmanager', url: '${AM_URL}', kinds: ['rc_integration_offline'], labels: { env: 'test' } } } }),
      env: (r) => ({ AM_URL: r.url }),
    });

    beforeAll(async () => {
      web = (await createBouncer(server().store, { name: 'web', apiKeyHash: hashApiKey('web-key'), now: start })).id;
      await pull();
    }, 120_000);

    it('opens the alert with endsAt three re-send intervals ahead', async () => {
      clock.advance(25 * H);
      await cycle();
      const a = await alertOf();
      expect(a.labels).toMatchObject({ alertname: 'VigilIssue', kind: 'rc_integration_offline', criticality: 'critical', env: 'test' });
      expect(a.status.state).toBe('active');
      expect(Date.parse(a.endsAt)).toBe(clock.now() + 45 * MIN);
    });

    it('re-sends every 15 minutes, also once acknowledged in Vigil, so the alert does not expire', async () => {
      const id = (await openHealthIssues(server().store)).find((i) => i.subject === 'bouncer:web')!.id;
      await acknowledgeIssue(server().store, { issueId: id, reason: 'on it', createdBy: 'test', now: clock.now() });
      clock.advance(15 * MIN);
      await cycle();
      const a = await alertOf();
      expect(a.labels.issue_id).toBe(String(id));
      expect(Date.parse(a.endsAt)).toBe(clock.now() + 45 * MIN);
    });

    it('a resolve ends it', async () => {
      clock.advance(MIN);
      await pull();
      await cycle();
      await eventually('Alertmanager to end the alert', async () => (await alertOf()) === undefined);
    });
  });
}
