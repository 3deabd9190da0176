import type { OutgoingMessage } from '../../types.ts';

/** Sends one message; resolves with the receiver's answer, rejects with a DeliveryError. */
export interface Sender {
  send(m: OutgoingMessage): Promise<string>;
}
