import { describe, expect, it } from 'vitest';
import { refusedDelivery, resolveOneChannel, useHttpReceivers } from '../../../../test/support/channel-tests.ts';
import { H, LAPI, T0, issue, message } from '../../../../test/support/notify-messages.ts';
import { describeTarget } from '../index.ts';
import { loadNotificationsConfig, resolveChannels } from '../../config.ts';
import type { PagerDutyChannel } from './index.ts';
import { pagerdutySender } from './sender.ts';

/**
 * PagerDuty Events API v2 against a real HTTP receiver on loopback answering as PagerDuty documents
 * (202 `{"status":"success",...}`; 400 invalid event; 429 throttled), checking the exact body of
 * https://developer.pagerduty.com/docs/events-api-v2/trigger-events/ for each event action.
 */
const KEY = 'R0UT1NGKEY0123456789abcdefABCDEF';
const accepted = (n: number) => ({ status: 202, body: JSON.stringify({ status: 'success', message: 'Event processed', dedup_key: `k${n}` }) });

const channel = (url: string) =>
  resolveOneChannel<PagerDutyChannel>(
    'pd',
    { type: 'pagerduty', routing_key: '${PD_KEY}', url: `${new URL(url).origin}/v2/enqueue`, criticality: ['critical', 'high'] },
    { PD_KEY: KEY },
  );

describe('PagerDuty channel', () => {
  const receiver = useHttpReceivers();

  it('triggers one alert per issue with the documented payload: dedup_key the issue id, severity from criticality, cause and runbook link in custom_details', async () => {
    const pd = await receiver(accepted);
    const ch = channel(pd.url);
    const high = issue({
      id: 8,
      criticality: 'high',
      bouncerName: 'fw',
      subject: 'bouncer:fw',
      kind: 'fw_integration_offline',
      evidence: { causes: [], notes: [] },
    });
    const answer = await pagerdutySender(ch, 2000).send(message('opened', [issue(), high]));
    expect(answer).toBe('2 events: HTTP 202 {"status":"success","message":"Event processed","dedup_key":"k1"}');
    expect(pd.requests.map((r) => [r.method, r.path, r.headers['content-type']])).toEqual([
      ['POST', '/v2/enqueue', 'application/json'],
      ['POST', '/v2/enqueue', 'application/json'],
    ]);
    const [first, second] = pd.requests.map((r) => r.json);
    const link = `${LAPI}ui/issues/7`;
    expect(first).toEqual({
      routing_key: KEY,
      event_action: 'trigger',
      dedup_key: 'vigil-issue-7',
      payload: {
        summary: "CRITICAL: RC Integration Offline: bouncer web: bouncer 'web' (<script>alert(1)</script> & `rm -rf`) has not pulled decisions for 25h0m0s",
        source: 'bouncer:web',
        severity: 'critical',
        timestamp: new Date(T0).toISOString(),
        component: 'web',
        group: 'crowdsec',
        class: 'rc_integration_offline',
        custom_details: {
          issue_id: 7,
          kind: 'rc_integration_offline',
          criticality: 'critical',
          subject: 'bouncer:web',
          since: new Date(T0 - 25 * H).toISOString(),
          likely_cause: expect.stringMatching(/ \(high confidence\)$/),
          evidence: ['3 requests refused with an unknown key from 192.0.2.7'],
          runbook_link: link,
          runbook_command: 'vigil issues show 7',
          runbook: expect.stringContaining('### Diagnose'),
        },
      },
      client: 'Vigil',
      client_url: `${LAPI}ui/`,
      links: [{ href: link, text: 'Issue 7 in Vigil: likely cause and runbook' }],
    });
    expect(second).toMatchObject({ dedup_key: 'vigil-issue-8', payload: { severity: 'error', source: 'bouncer:fw', custom_details: { likely_cause: null } } });
    // The documented limits: summary ≤ 1024 characters, dedup_key ≤ 255.
    expect(first.payload.summary.length).toBeLessThanOrEqual(1024);
  });

  it('maps warning to warning and recommended to info; resolve and acknowledge carry only the key, as documented; a reminder sends nothing', async () => {
    const pd = await receiver(accepted);
    const sender = pagerdutySender(channel(pd.url), 2000);
    await sender.send(message('opened', [issue({ id: 9, criticality: 'warning' }), issue({ id: 10, criticality: 'recommended' })]));
    expect(pd.requests.map((r) => r.json.payload.severity)).toEqual(['warning', 'info']);
    await sender.send(message('resolved', [issue({ resolvedAt: T0 + H })]));
    expect(pd.requests.at(-1)!.json).toEqual({ routing_key: KEY, event_action: 'resolve', dedup_key: 'vigil-issue-7' });
    expect(await sender.send(message('reminder', [issue()], T0 + 24 * H))).toMatch(/^not sent/);
    expect(pd.requests).toHaveLength(3);
    await sender.send(message('acknowledged', [issue({ id: 9 })]));
    expect(pd.requests.at(-1)!.json).toEqual({ routing_key: KEY, event_action: 'acknowledge', dedup_key: 'vigil-issue-9' });
  });

  it('a test triggers and resolves its own alert at once, under a key no issue has', async () => {
    const pd = await receiver(accepted);
    await pagerdutySender(channel(pd.url), 2000).send(message('test', [issue({ id: 0 })]));
    expect(pd.requests.map((r) => [r.json.event_action, r.json.dedup_key])).toEqual([
      ['trigger', 'vigil-test-11111111-2222-4333-8444-555555555555'],
      ['resolve', 'vigil-test-11111111-2222-4333-8444-555555555555'],
    ]);
  });

  it('a 400 (invalid event) is permanent, a 429 (throttled) is retried', async () => {
    const pd = await receiver([
      { status: 400, body: '{"status":"invalid event","message":"Event object is invalid","errors":["Length of \'routing_key\' is incorrect"]}' },
      { status: 429, body: '' },
    ]);
    const sender = pagerdutySender(channel(pd.url), 2000);
    const invalid = await refusedDelivery(sender);
    expect(invalid.permanent).toBe(true);
    expect(invalid.message).toContain('HTTP 400');
    expect((await refusedDelivery(sender)).permanent).toBe(false);
  });

  it('never shows the routing key; refuses one that cannot be a key, naming the key and not the value', () => {
    const ch = channel('http://127.0.0.1:9');
    expect(describeTarget(ch)).toBe('http://127.0.0.1:9/v2/enqueue (routing key …CDEF)');
    expect(describeTarget(ch)).not.toContain(KEY.slice(0, 8));
    const config = loadNotificationsConfig({ channels: { pd: { type: 'pagerduty', routing_key: '${PD_KEY}' } } }, null);
    expect(() => resolveChannels(config, { PD_KEY: 'not a key!' })).toThrow(/notifications\.channels\.pd\.routing_key: not a PagerDuty integration key/);
    expect((resolveChannels(config, { PD_KEY: KEY })[0] as PagerDutyChannel).url).toBe('https://events.pagerduty.com/v2/enqueue');
  });
});
