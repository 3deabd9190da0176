import { z } from 'zod';
import { defineChannel, type ChannelBase } from '../shared/channel-definition.ts';
import { filterKeys } from '../shared/filter-keys.ts';
import { httpUrl } from '../shared/http-url.ts';
import { maskUrl } from '../shared/mask-url.ts';

/** A Slack-compatible incoming webhook (Slack, Mattermost, Discord's `/slack` endpoint). */
export interface SlackChannel extends ChannelBase {
  type: 'slack';
  url: string;
}

const slackSchema = z
  .object({
    type: z.literal('slack'),
    url: z.string().meta({
      description:
        'Incoming-webhook URL (Slack, or the Slack-compatible endpoint of Mattermost or Discord); keep it in the environment: `${SLACK_WEBHOOK_URL}`.',
    }),
    ...filterKeys,
  })
  .strict();

export const slackChannel = defineChannel<typeof slackSchema, SlackChannel>({
  type: 'slack',
  fileSchema: slackSchema,
  resolve: (ch, base, { at, text: str }) => ({ ...base, type: 'slack', url: httpUrl(at('url'), str('url', ch.url)) }),
  // The token is the URL's path.
  target: (ch) => maskUrl(ch.url),
  loadSender: async () => (await import('./sender.ts')).slackSender,
});
