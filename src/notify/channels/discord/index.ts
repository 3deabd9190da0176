import { z } from 'zod';
import { VigilError } from '../../../lib/errors.ts';
import { defineChannel, type ChannelBase } from '../shared/channel-definition.ts';
import { filterKeys } from '../shared/filter-keys.ts';
import { httpUrl } from '../shared/http-url.ts';
import { maskUrl } from '../shared/mask-url.ts';

/** A Discord channel webhook (`https://discord.com/api/webhooks/ID/TOKEN`): content plus one embed per issue. */
export interface DiscordChannel extends ChannelBase {
  type: 'discord';
  url: string;
}

const discordSchema = z
  .object({
    type: z.literal('discord'),
    url: z.string().meta({
      description: "The channel's webhook URL (`https://discord.com/api/webhooks/ID/TOKEN`); keep it in the environment: `${DISCORD_WEBHOOK_URL}`.",
    }),
    ...filterKeys,
  })
  .strict();

export const discordChannel = defineChannel<typeof discordSchema, DiscordChannel>({
  type: 'discord',
  fileSchema: discordSchema,
  resolve(ch, base, { at, text: str }) {
    const url = httpUrl(at('url'), str('url', ch.url));
    // Its Slack-compatible endpoint takes another body: that one is `type: slack`.
    if (/\/slack\/?$/.test(new URL(url).pathname))
      throw new VigilError('E_CONFIG', `${at('url')}: this is the Slack-compatible endpoint; use \`type: slack\` for it, or drop \`/slack\``);
    return { ...base, type: 'discord', url };
  },
  // The token is the URL's last path segment.
  target: (ch) => maskUrl(ch.url),
  loadSender: async () => (await import('./sender.ts')).discordSender,
});
