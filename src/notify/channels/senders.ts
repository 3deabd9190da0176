import { CHANNEL_TYPES, type Channel } from './index.ts';
import type { Sender } from './shared/sender.ts';

// Loaded once, when this module is: `vigil serve` at start, a CLI command only when it sends.
const factories = new Map(await Promise.all(CHANNEL_TYPES.map(async (d) => [d.type, await d.loadSender()] as const)));

/** The sender of a channel, by its type. */
export function senderFor(ch: Channel, timeoutMs: number): Sender {
  const create = factories.get(ch.type) as (ch: Channel, timeoutMs: number) => Sender;
  return create(ch, timeoutMs);
}
