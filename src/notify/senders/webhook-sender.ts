import type { OutgoingMessage, SlackChannel, WebhookChannel } from '../types.ts';
import { renderWebhookBody } from '../render-webhook.ts';
import { renderSlackBody } from '../render-slack.ts';
import { SIGNATURE_HEADER, signBody } from '../signature.ts';
import { postJson } from './http-sender.ts';
import type { Sender } from './sender.ts';

export const DELIVERY_HEADER = 'X-Vigil-Delivery';
export const EVENT_HEADER = 'X-Vigil-Event';

/** The generic webhook: JSON body, the operator's headers, the delivery id, and an HMAC signature when a secret is set. */
export function webhookSender(ch: WebhookChannel, timeoutMs: number): Sender {
  return {
    async send(m: OutgoingMessage): Promise<string> {
      const body = renderWebhookBody(m);
      const headers: Record<string, string> = { ...ch.headers, [DELIVERY_HEADER]: m.deliveryId, [EVENT_HEADER]: m.content.event };
      if (ch.secret !== null) headers[SIGNATURE_HEADER] = signBody(ch.secret, body);
      return await postJson(ch.url, body, headers, timeoutMs);
    },
  };
}

/** A Slack-compatible incoming webhook (Slack, Mattermost, Discord's `/slack` endpoint). */
export function slackSender(ch: SlackChannel, timeoutMs: number): Sender {
  return {
    async send(m: OutgoingMessage): Promise<string> {
      return await postJson(ch.url, renderSlackBody(m), { [DELIVERY_HEADER]: m.deliveryId, [EVENT_HEADER]: m.content.event }, timeoutMs);
    },
  };
}
