import type { OutgoingMessage } from '../../../core/notify/types.ts';
import { DELIVERY_HEADER, EVENT_HEADER, postJson } from '../shared/http-sender.ts';
import type { Sender } from '../shared/sender.ts';
import type { WebhookChannel } from './index.ts';
import { renderWebhookBody } from './render.ts';
import { SIGNATURE_HEADER, signBody } from './signature.ts';
import { renderTemplate } from './template.ts';

/** The generic webhook: JSON body (Vigil's, or the operator's template), the operator's headers, the delivery id, and an HMAC signature when a secret is set. */
export function webhookSender(ch: WebhookChannel, timeoutMs: number): Sender {
  return {
    async send(m: OutgoingMessage): Promise<string> {
      const body = ch.template === null ? renderWebhookBody(m) : renderTemplate(ch.template, m);
      const headers: Record<string, string> = { ...ch.headers, [DELIVERY_HEADER]: m.deliveryId, [EVENT_HEADER]: m.content.event };
      if (ch.secret !== null) headers[SIGNATURE_HEADER] = signBody(ch.secret, body);
      return await postJson(ch.url, body, headers, timeoutMs);
    },
  };
}
