import type { Channel, OutgoingMessage } from '../types.ts';
import { emailSender } from './smtp-sender.ts';
import { slackSender, webhookSender } from './webhook-sender.ts';

/** Sends one message; resolves with the receiver's answer, rejects with a DeliveryError. */
export interface Sender {
  send(m: OutgoingMessage): Promise<string>;
}

export function senderFor(ch: Channel, timeoutMs: number): Sender {
  switch (ch.type) {
    case 'webhook':
      return webhookSender(ch, timeoutMs);
    case 'slack':
      return slackSender(ch, timeoutMs);
    case 'email':
      return emailSender(ch, timeoutMs);
  }
}
