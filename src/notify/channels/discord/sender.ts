import type { OutgoingMessage } from '../../../core/notify/types.ts';
import { postJson } from '../shared/http-sender.ts';
import type { Sender } from '../shared/sender.ts';
import type { DiscordChannel } from './index.ts';
import { renderDiscordBodies } from './render.ts';

/**
 * POSTs each body in order (Discord answers 204). A failure part-way fails the message and the
 * outbox re-sends all of it: Discord has no idempotency key, so a retry may repeat the first part.
 */
export function discordSender(ch: DiscordChannel, timeoutMs: number): Sender {
  return {
    async send(m: OutgoingMessage): Promise<string> {
      const answers: string[] = [];
      for (const body of renderDiscordBodies(m)) answers.push(await postJson(ch.url, body, {}, timeoutMs));
      return answers.length === 1 ? answers[0]! : `${answers.length} messages: ${answers.at(-1)}`;
    },
  };
}
