import { describe, expect, it } from 'vitest';
import { loadNotificationsConfig, notificationsFileSchema, resolveChannels } from '../config.ts';
import { CHANNEL_TYPES, describeTarget } from './index.ts';
import { senderFor } from './senders.ts';

const TOKEN = 'tok-9f3a';
const env = { TOKEN, PASSWORD: 'pw-51c2', PD_KEY: 'Pd0123456789abcdefABCDEF01234567' };
// One channel of every registered type, each with secrets in every place it can hold one.
const section = notificationsFileSchema.parse({
  channels: {
    hook: { type: 'webhook', url: 'https://example.com/hooks/${TOKEN}', headers: { Authorization: 'Bearer ${TOKEN}' }, secret: '${TOKEN}' },
    chat: { type: 'slack', url: 'https://hooks.slack.com/services/T0/B0/${TOKEN}' },
    mail: { type: 'email', host: 'smtp.example.com', username: 'vigil', password: '${PASSWORD}', from: 'vigil@example.com', to: 'ops@example.com' },
    pd: { type: 'pagerduty', routing_key: '${PD_KEY}' },
    teams: { type: 'teams', url: 'https://prod-1.westeurope.logic.azure.com/workflows/abc/triggers/manual/paths/invoke?sig=${TOKEN}' },
    dc: { type: 'discord', url: 'https://discord.com/api/webhooks/123/${TOKEN}' },
    am: { type: 'alertmanager', url: 'https://vigil:${TOKEN}@am.example.com:9093', labels: { env: 'prod' } },
  },
});

describe('channel registry', () => {
  it('lists each type once, and the file schema refuses any other, naming them all', () => {
    const types = CHANNEL_TYPES.map((d) => d.type);
    expect(new Set(types).size).toBe(types.length);
    const refused = notificationsFileSchema.safeParse({ channels: { x: { type: 'pager', url: 'x' } } });
    expect(refused.error?.issues[0]?.message).toBe('use webhook, slack, email, pagerduty, alertmanager, teams or discord');
  });

  it('resolves, builds a sender for and describes every type, never printing a secret', () => {
    const channels = resolveChannels(loadNotificationsConfig(section, null), env);
    expect(channels.map((c) => c.type).sort()).toEqual(CHANNEL_TYPES.map((d) => d.type).sort());
    for (const ch of channels) {
      expect(typeof senderFor(ch, 1000).send).toBe('function');
      expect(describeTarget(ch)).not.toContain(TOKEN);
      expect(describeTarget(ch)).not.toContain(env.PASSWORD);
      expect(describeTarget(ch)).not.toContain(env.PD_KEY);
    }
  });
});
