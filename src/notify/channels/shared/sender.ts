import type { OutgoingMessage } from '../../../core/notify/types.ts';

/** Sends one message; resolves with the receiver's answer, rejects with a DeliveryError. */
export interface Sender {
  send(m: OutgoingMessage): Promise<string>;
}
