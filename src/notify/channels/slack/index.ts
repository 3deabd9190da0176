import { defineUrlChannel, type UrlChannel } from '../shared/url-channel.ts';

/** A Slack-compatible incoming webhook (Slack, Mattermost, Discord's `/slack` endpoint). */
export type SlackChannel = UrlChannel<'slack'>;

export const slackChannel = defineUrlChannel({
  type: 'slack',
  urlDescription:
    'Incoming-webhook URL (Slack, or the Slack-compatible endpoint of Mattermost or Discord); keep it in the environment: `${SLACK_WEBHOOK_URL}`.',
  loadSender: async () => (await import('./sender.ts')).slackSender,
});
