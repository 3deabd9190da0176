import { VigilError } from '../../../lib/errors.ts';
import { defineUrlChannel, type UrlChannel } from '../shared/url-channel.ts';

/** A Discord channel webhook (`https://discord.com/api/webhooks/ID/TOKEN`): content plus one embed per issue. */
export type DiscordChannel = UrlChannel<'discord'>;

export const discordChannel = defineUrlChannel({
  type: 'discord',
  urlDescription: "The channel's webhook URL (`https://discord.com/api/webhooks/ID/TOKEN`); keep it in the environment: `${DISCORD_WEBHOOK_URL}`.",
  checkUrl(url, key) {
    // Its Slack-compatible endpoint takes another body: that one is `type: slack`.
    if (/\/slack\/?$/.test(url.pathname))
      throw new VigilError('E_CONFIG', `${key}: this is the Slack-compatible endpoint; use \`type: slack\` for it, or drop \`/slack\``);
  },
  loadSender: async () => (await import('./sender.ts')).discordSender,
});
