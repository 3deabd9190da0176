import { defineUrlChannel, type UrlChannel } from '../shared/url-channel.ts';

/** A Microsoft Teams workflow webhook ("Send webhook alerts to a channel"): an Adaptive Card per message. */
export type TeamsChannel = UrlChannel<'teams'>;

export const teamsChannel = defineUrlChannel({
  type: 'teams',
  urlDescription:
    'The Teams workflow\'s webhook URL (Workflows → "Send webhook alerts to a channel"); its query holds the signature: keep it in the environment, `${TEAMS_WEBHOOK_URL}`.',
  loadSender: async () => (await import('./sender.ts')).teamsSender,
});
