import { z } from 'zod';
import { defineChannel, type ChannelBase } from '../shared/channel-definition.ts';
import { filterKeys } from '../shared/filter-keys.ts';
import { httpUrl } from '../shared/http-url.ts';
import { maskUrl } from '../shared/mask-url.ts';

/** A Microsoft Teams workflow webhook ("Send webhook alerts to a channel"): an Adaptive Card per message. */
export interface TeamsChannel extends ChannelBase {
  type: 'teams';
  url: string;
}

const teamsSchema = z
  .object({
    type: z.literal('teams'),
    url: z.string().meta({
      description:
        'The Teams workflow\'s webhook URL (Workflows → "Send webhook alerts to a channel"); its query holds the signature: keep it in the environment, `${TEAMS_WEBHOOK_URL}`.',
    }),
    ...filterKeys,
  })
  .strict();

export const teamsChannel = defineChannel<typeof teamsSchema, TeamsChannel>({
  type: 'teams',
  fileSchema: teamsSchema,
  resolve: (ch, base, { at, text: str }) => ({ ...base, type: 'teams', url: httpUrl(at('url'), str('url', ch.url)) }),
  // The workflow URL's `sig` query parameter is the secret.
  target: (ch) => maskUrl(ch.url),
  loadSender: async () => (await import('./sender.ts')).teamsSender,
});
