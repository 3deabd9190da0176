import { describe, expect, it } from 'vitest';
import { refusedDelivery, resolveOneChannel, useHttpReceivers } from '../../../../test/support/channel-tests.ts';
import { LAPI, T0, H, issue, message } from '../../../../test/support/notify-messages.ts';
import { describeTarget } from '../index.ts';
import type { TeamsChannel } from './index.ts';
import { teamsSender } from './sender.ts';

/**
 * A Teams workflow webhook ("Send webhook alerts to a channel") against a real loopback receiver
 * answering 202 as the workflow does: the body is a message with one Adaptive Card 1.4 attachment.
 */
const channel = (url: string) => resolveOneChannel<TeamsChannel>('t', { type: 'teams', url: '${TEAMS_URL}' }, { TEAMS_URL: url });

describe('Teams channel', () => {
  const receiver = useHttpReceivers();

  it('posts a message with one Adaptive Card 1.4 attachment, as the workflow takes it', async () => {
    const rx = await receiver(() => ({ status: 202 }));
    expect(await teamsSender(channel(rx.url), 2000).send(message('opened', [issue()]))).toBe('HTTP 202');
    const body = rx.requests[0]!.json;
    expect(body.type).toBe('message');
    expect(body.attachments).toHaveLength(1);
    const [a] = body.attachments;
    expect(a.contentType).toBe('application/vnd.microsoft.card.adaptive');
    expect(a.content).toMatchObject({ $schema: 'http://adaptivecards.io/schemas/adaptive-card.json', type: 'AdaptiveCard', version: '1.4' });
    const [head, block, footer] = a.content.body;
    expect(head).toEqual({ type: 'TextBlock', text: 'CRITICAL: RC Integration Offline: bouncer web', size: 'Medium', weight: 'Bolder', wrap: true });
    expect(block).toEqual({
      type: 'Container',
      separator: true,
      items: [
        { type: 'TextBlock', text: 'RC Integration Offline: bouncer web', weight: 'Bolder', color: 'Attention', wrap: true },
        { type: 'TextBlock', text: "bouncer 'web' (<script>alert(1)</script> & \\`rm -rf\\`) has not pulled decisions for 25h0m0s", wrap: true },
        { type: 'TextBlock', text: 'Opened 2026-11-06T12:00:00Z (condition since 2026-11-05T11:00:00Z).', isSubtle: true, spacing: 'None', wrap: true },
        {
          type: 'FactSet',
          facts: [
            { title: 'Issue', value: '7' },
            { title: 'Criticality', value: 'critical' },
            { title: 'Subject', value: 'bouncer:web' },
            { title: 'Likely cause', value: 'authentication failure (key invalid, bouncer deleted or re-registered) (high confidence)' },
          ],
        },
        { type: 'TextBlock', text: 'Runbook: `vigil issues show 7` · stop reminders: `vigil issues ack 7`', wrap: true },
      ],
      selectAction: { type: 'Action.OpenUrl', url: `${LAPI}ui/issues/7` },
    });
    expect(footer.text).toBe('Vigil · delivery 11111111-2222-4333-8444-555555555555');
    expect(a.content.actions).toEqual([{ type: 'Action.OpenUrl', title: 'Open in Vigil', url: `${LAPI}ui/issues/7` }]);
  });

  it('a resolve is green with no runbook; 25 issues go as three cards of at most 10, each under the 28 KB a workflow takes', async () => {
    const rx = await receiver(() => ({ status: 202 }));
    const issues = Array.from({ length: 25 }, (_, n) => issue({ id: n + 1, resolvedAt: T0 + H }));
    expect(await teamsSender(channel(rx.url), 2000).send(message('resolved', issues))).toBe('3 cards: HTTP 202');
    const cards = rx.requests.map((r) => r.json.attachments[0].content);
    expect(cards.map((c) => c.body.length - 2)).toEqual([10, 10, 5]);
    expect(cards[0].body[0].text).toBe('25 issues resolved: RC Integration Offline: bouncer web and 24 more (1/3)');
    expect(cards[0].body[1].items[0].color).toBe('Good');
    expect(JSON.stringify(cards[0])).not.toContain('vigil issues show');
    for (const r of rx.requests) expect(Buffer.byteLength(r.body)).toBeLessThan(28 * 1024);
  });

  it('a 400 is permanent, a 429 retried; the signature in the URL is never shown', async () => {
    const rx = await receiver([{ status: 400, body: 'bad request' }, { status: 429 }]);
    const sender = teamsSender(channel(rx.url), 2000);
    expect((await refusedDelivery(sender)).permanent).toBe(true);
    expect((await refusedDelivery(sender)).permanent).toBe(false);
    const url = 'https://prod-1.westeurope.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke?api-version=2016-06-01&sig=S3cr3tSig';
    expect(describeTarget(channel(url))).toBe('https://prod-1.westeurope.logic.azure.com/workflows/***?***');
  });
});
