import { describe, expect, it } from 'vitest';
import { refusedDelivery, resolveOneChannel, useHttpReceivers } from '../../../../test/support/channel-tests.ts';
import { H, LAPI, T0, issue, message } from '../../../../test/support/notify-messages.ts';
import { describeTarget } from '../index.ts';
import type { DiscordChannel } from './index.ts';
import { DISCORD_LIMITS, embedSize } from './render.ts';
import { discordSender } from './sender.ts';

/**
 * Discord's Execute Webhook (https://discord.com/developers/docs/resources/webhook#execute-webhook)
 * against a real loopback receiver answering as Discord does (204; 400 invalid form body; 429).
 */
const channel = (url: string) => resolveOneChannel<DiscordChannel>('dc', { type: 'discord', url: '${DISCORD_URL}' }, { DISCORD_URL: url });

describe('Discord channel', () => {
  const receiver = useHttpReceivers();

  it('posts content and one embed per issue, as documented, with mentions disabled and markdown escaped', async () => {
    const rx = await receiver(() => ({ status: 204 }));
    const answer = await discordSender(channel(`${rx.url.replace('/hooks/', '/api/webhooks/123/')}`), 2000).send(message('opened', [issue()]));
    expect(answer).toBe('HTTP 204');
    expect(rx.requests[0]!.headers['content-type']).toBe('application/json');
    expect(rx.requests[0]!.json).toEqual({
      content: '**CRITICAL: RC Integration Offline: bouncer web**',
      embeds: [
        {
          title: 'RC Integration Offline: bouncer web (issue 7, critical)',
          description: `bouncer 'web' (<script>alert(1)</script> & \\\`rm -rf\\\`) has not pulled decisions for 25h0m0s\nOpened 2026-11-06T12:00:00Z (condition since 2026-11-05T11:00:00Z).`,
          url: `${LAPI}ui/issues/7`,
          color: 0xd62728,
          timestamp: new Date(T0).toISOString(),
          fields: [
            { name: 'Criticality', value: 'critical', inline: true },
            { name: 'Issue', value: '7', inline: true },
            {
              name: 'Likely cause',
              value:
                'authentication failure (key invalid, bouncer deleted or re-registered) (high confidence)\n• 3 requests refused with an unknown key from 192.0.2.7',
              inline: false,
            },
            { name: 'Runbook', value: '`vigil issues show 7` · stop reminders: `vigil issues ack 7`', inline: false },
          ],
          footer: { text: 'Vigil · delivery 11111111-2222-4333-8444-555555555555' },
        },
      ],
      allowed_mentions: { parse: [] },
    });
  });

  it('respects the limits: content ≤ 2,000, description ≤ 4,096, ≤ 10 embeds and ≤ 6,000 embed characters per body', async () => {
    const rx = await receiver(() => ({ status: 204 }));
    const long = 'x'.repeat(5000);
    const issues = Array.from({ length: 25 }, (_, n) => issue({ id: n + 1, summary: long, bouncerName: `b${n}`.repeat(300), subject: `bouncer:b${n}` }));
    const answer = await discordSender(channel(rx.url), 2000).send(
      message(
        'resolved',
        issues.map((i) => ({ ...i, resolvedAt: T0 + H })),
      ),
    );
    expect(answer).toMatch(/^\d+ messages: HTTP 204$/);
    const bodies = rx.requests.map((r) => r.json);
    expect(bodies.flatMap((b) => b.embeds.map((e: { url: string }) => e.url.split('/').at(-1)))).toEqual(issues.map((i) => String(i.id)));
    for (const b of bodies) {
      expect(b.content.length).toBeLessThanOrEqual(DISCORD_LIMITS.content);
      expect(b.embeds.length).toBeLessThanOrEqual(DISCORD_LIMITS.embeds);
      expect(b.embeds.reduce((n: number, e: Parameters<typeof embedSize>[0]) => n + embedSize(e), 0)).toBeLessThanOrEqual(DISCORD_LIMITS.total);
      for (const e of b.embeds) {
        expect(e.title.length).toBeLessThanOrEqual(DISCORD_LIMITS.title);
        expect(e.description.length).toBeLessThanOrEqual(DISCORD_LIMITS.description);
        expect(e.color).toBe(0x2ca02c);
      }
    }
    expect(bodies[0].content).toMatch(/^\*\*25 issues resolved: .*\(1\/\d+\)$/);
  });

  it('a retry after a failure part-way resumes at the first part not accepted: no part twice', async () => {
    const rx = await receiver((n) => (n === 1 ? { status: 500, body: 'upstream' } : { status: 204 }));
    const issues = Array.from({ length: 25 }, (_, n) => issue({ id: n + 1, bouncerName: `b${n}`, subject: `bouncer:b${n}` }));
    const sender = discordSender(channel(rx.url), 2000);
    const m = message('opened', issues);
    await expect(sender.send(m)).rejects.toThrow();
    const answer = await sender.send(m);
    expect(answer).toMatch(/^3 messages \(the first 1 accepted by an earlier attempt\): HTTP 204$/);
    const delivered = rx.requests.filter((_, n) => n !== 1).flatMap((r) => r.json.embeds.map((e: { url: string }) => e.url.split('/').at(-1)));
    expect(delivered).toEqual(issues.map((i) => String(i.id)));
  });

  it('a 400 (invalid form body) is permanent, a 429 is retried; the token is never shown; the /slack endpoint is refused', async () => {
    const rx = await receiver([
      { status: 400, body: '{"code": 50035, "message": "Invalid Form Body"}' },
      { status: 429, body: '{"retry_after": 1.5}' },
    ]);
    const sender = discordSender(channel(rx.url), 2000);
    expect((await refusedDelivery(sender)).permanent).toBe(true);
    expect((await refusedDelivery(sender)).permanent).toBe(false);
    expect(describeTarget(channel('https://discord.com/api/webhooks/123/tok-secret'))).toBe('https://discord.com/api/***');
    expect(() => channel('https://discord.com/api/webhooks/123/tok/slack')).toThrow(/notifications\.channels\.dc\.url: this is the Slack-compatible endpoint/);
  });
});
