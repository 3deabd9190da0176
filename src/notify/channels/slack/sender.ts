import type { OutgoingMessage } from '../../../core/notify/types.ts';
import { DELIVERY_HEADER, EVENT_HEADER, postJson } from '../shared/http-sender.ts';
import type { Sender } from '../shared/sender.ts';
import type { SlackChannel } from './index.ts';
import { renderSlackBody } from './render.ts';

/** A Slack-compatible incoming webhook (Slack, Mattermost, Discord's `/slack` endpoint). */
export function slackSender(ch: SlackChannel, timeoutMs: number): Sender {
  return {
    async send(m: OutgoingMessage): Promise<string> {
      return await postJson(ch.url, renderSlackBody(m), { [DELIVERY_HEADER]: m.deliveryId, [EVENT_HEADER]: m.content.event }, timeoutMs);
    },
  };
}
