import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAlertmanager, type AlertmanagerInstance } from '../../../../test/support/alertmanager.ts';
import { H, LAPI, issue, message } from '../../../../test/support/notify-messages.ts';
import { startHttpReceiver } from '../../../../test/support/receivers.ts';
import { eventually } from '../../../../test/support/wait.ts';
import { loadNotificationsConfig, resolveChannels } from '../../config.ts';
import { describeTarget } from '../index.ts';
import { DeliveryError } from '../shared/delivery-error.ts';
import type { AlertmanagerChannel } from './index.ts';
import { alertmanagerSender } from './sender.ts';

/**
 * The Alertmanager channel against a real Alertmanager (Debian's prometheus-alertmanager 0.25,
 * scripts/install-alertmanager.sh) started with its own config: what Vigil sends is what
 * `GET /api/v2/alerts` shows, a resolve ends it, Alertmanager's own silences and grouping apply.
 * Alertmanager keeps real time, so the messages are dated now.
 */
function channel(url: string, extra: Record<string, unknown> = {}): AlertmanagerChannel {
  const config = loadNotificationsConfig({ channels: { am: { type: 'alertmanager', url, labels: { env: 'prod' }, ...extra } } }, null);
  return resolveChannels(config, {})[0] as AlertmanagerChannel;
}

// biome-ignore lint/suspicious/noExplicitAny: Alertmanager's gettableAlert, as it documents it
type Gettable = any;
const byIssue = (alerts: Gettable[], id: string) => alerts.find((a: Gettable) => a.labels.issue_id === id);

describe('Alertmanager channel', () => {
  let am: AlertmanagerInstance;
  beforeAll(async () => {
    am = await startAlertmanager(['alertname', 'kind']);
  }, 60_000);
  afterAll(async () => {
    await am?.stop();
  });

  it('an opened issue is an alert with its labels and annotations; a resolve ends it', async () => {
    const now = Date.now();
    const ch = channel(am.url);
    const sender = alertmanagerSender(ch, 5000);
    const open = issue({ id: 101, openedAt: now - 60_000, lastSeenAt: now, since: now - 25 * H });
    expect(await sender.send(message('opened', [open], now))).toBe('1 alert: HTTP 200');
    const alerts: Gettable[] = await am.get('/api/v2/alerts');
    const a = byIssue(alerts, '101');
    expect(a.labels).toEqual({
      alertname: 'VigilIssue',
      issue_id: '101',
      kind: 'rc_integration_offline',
      criticality: 'critical',
      bouncer: 'web',
      env: 'prod',
    });
    expect(a.annotations).toMatchObject({
      summary: expect.stringContaining("RC Integration Offline: bouncer web: bouncer 'web'"),
      cause: 'authentication failure (key invalid, bouncer deleted or re-registered) (high confidence)',
      runbook: expect.stringContaining('### Diagnose'),
      runbook_url: `${LAPI}ui/issues/101`,
    });
    expect(a.generatorURL).toBe(`${LAPI}ui/issues/101`);
    expect(a.status.state).toBe('active');
    expect(Date.parse(a.startsAt)).toBe(now - 60_000);
    // Valid for three re-send intervals (15 min by default), so a missed re-send does not end it.
    expect(Date.parse(a.endsAt)).toBe(now + 45 * 60_000);

    const resolvedAt = Date.now();
    await sender.send(message('resolved', [{ ...open, resolvedAt }], resolvedAt));
    // Alertmanager's v2 API lists only alerts not yet ended.
    await eventually('the resolved alert to leave the active list', async () => byIssue(await am.get('/api/v2/alerts'), '101') === undefined);
  });

  it('a silence created in Alertmanager marks the alert silenced', async () => {
    const now = Date.now();
    await alertmanagerSender(channel(am.url), 5000).send(message('opened', [issue({ id: 102, openedAt: now, since: now - H })], now));
    const { silenceID } = await am.post('/api/v2/silences', {
      matchers: [{ name: 'issue_id', value: '102', isRegex: false, isEqual: true }],
      startsAt: new Date(now).toISOString(),
      endsAt: new Date(now + H).toISOString(),
      createdBy: 'vigil-test',
      comment: 'maintenance',
    });
    const a = byIssue(await am.get('/api/v2/alerts'), '102');
    expect(a.status).toEqual({ state: 'suppressed', silencedBy: [silenceID], inhibitedBy: [] });
    // A re-send (reminder) keeps it silenced: the silence matches labels, which stay the same.
    await alertmanagerSender(channel(am.url), 5000).send(message('reminder', [issue({ id: 102, openedAt: now, since: now - H })], Date.now()));
    expect(byIssue(await am.get('/api/v2/alerts'), '102').status.silencedBy).toEqual([silenceID]);
  });

  it('two issues with the same group_by labels land in one group, another kind in its own', async () => {
    const now = Date.now();
    const sender = alertmanagerSender(channel(am.url), 5000);
    await sender.send(
      message(
        'opened',
        [
          issue({ id: 103, kind: 'fw_integration_offline', subject: 'bouncer:fw1', bouncerName: 'fw1', openedAt: now, since: now - H }),
          issue({ id: 104, kind: 'fw_integration_offline', subject: 'bouncer:fw2', bouncerName: 'fw2', openedAt: now, since: now - H }),
        ],
        now,
      ),
    );
    await sender.send(message('opened', [issue({ id: 105, kind: 'rc_integration_offline', openedAt: now, since: now - H })], now));
    let groups: Gettable[] = [];
    const issuesOf = (g: Gettable) => g.alerts.map((a: Gettable) => a.labels.issue_id).sort();
    await eventually('Alertmanager to group the alerts', async () => {
      groups = await am.get('/api/v2/alerts/groups');
      return groups.some((g) => issuesOf(g).includes('105'));
    });
    const fw = groups.find((g) => g.labels.kind === 'fw_integration_offline');
    expect(fw.labels).toEqual({ alertname: 'VigilIssue', kind: 'fw_integration_offline' });
    expect(issuesOf(fw)).toEqual(['103', '104']);
    const rc = groups.find((g) => g.labels.kind === 'rc_integration_offline');
    expect(issuesOf(rc)).toContain('105');
    expect(issuesOf(rc)).not.toContain('103');
  });

  it('a machine issue is labelled with its machine; a test fires and resolves its own alert', async () => {
    const now = Date.now();
    const sender = alertmanagerSender(channel(am.url), 5000);
    await sender.send(
      message('opened', [issue({ id: 106, kind: 'rc_integration_offline', subject: 'machine:agent-1', bouncerName: null, openedAt: now })], now),
    );
    const a = byIssue(await am.get('/api/v2/alerts'), '106');
    expect(a.labels.machine).toBe('agent-1');
    expect(a.labels.bouncer).toBeUndefined();
    const answer = await sender.send(message('test', [issue({ id: 0, openedAt: now })], now));
    expect(answer).toBe('test alert fired and resolved: HTTP 200');
    const alerts: Gettable[] = await am.get('/api/v2/alerts');
    expect(alerts.filter((x) => x.labels.alertname === 'VigilTest')).toEqual([]);
  });

  it("Alertmanager's 400 is permanent; the target hides credentials; remind_every 0 is refused", async () => {
    const rx = await startHttpReceiver([{ status: 400, body: '"start time must be before end time"' }]);
    try {
      const err = await alertmanagerSender(channel(`http://127.0.0.1:${rx.port}`), 2000)
        .send(message('opened', [issue()]))
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DeliveryError);
      expect((err as DeliveryError).permanent).toBe(true);
      expect(rx.requests[0]!.path).toBe('/api/v2/alerts');
      expect(rx.requests[0]!.headers['content-type']).toBe('application/json');
    } finally {
      await rx.close();
    }
    expect(channel('http://127.0.0.1:9093/').url).toBe('http://127.0.0.1:9093/api/v2/alerts');
    expect(channel('http://127.0.0.1:9093/am/api/v2/alerts').url).toBe('http://127.0.0.1:9093/am/api/v2/alerts');
    expect(describeTarget(channel('http://u:s3cret@127.0.0.1:9093'))).toBe('http://***@127.0.0.1:9093/api/***');
    expect(channel('http://127.0.0.1:9093', { remind_every: '5m' }).remindEveryMs).toBe(5 * 60_000);
    expect(() => channel('http://127.0.0.1:9093', { remind_every: '0' })).toThrow(/notifications\.channels\.am\.remind_every: Alertmanager ends an alert/);
    expect(() => channel('http://127.0.0.1:9093', { labels: { 'bad-name': 'x' } })).toThrow(/"bad-name" is not an Alertmanager label name/);
  });
});
