import type { OutgoingMessage } from '../../../core/notify/types.ts';
import { AcceptedParts, postEachJson } from '../shared/http-sender.ts';
import type { Sender } from '../shared/sender.ts';
import type { DiscordChannel } from './index.ts';
import { renderDiscordBodies } from './render.ts';

/** POSTs each body in order (Discord answers 204); a retry resumes at the first part not accepted. */
export function discordSender(ch: DiscordChannel, timeoutMs: number): Sender {
  const accepted = new AcceptedParts();
  return { send: (m: OutgoingMessage) => postEachJson(ch.url, renderDiscordBodies(m), timeoutMs, 'messages', { id: m.deliveryId, accepted }) };
}
