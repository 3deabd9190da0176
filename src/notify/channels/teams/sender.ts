import type { OutgoingMessage } from '../../../core/notify/types.ts';
import { postJson } from '../shared/http-sender.ts';
import type { Sender } from '../shared/sender.ts';
import type { TeamsChannel } from './index.ts';
import { renderTeamsBodies } from './render.ts';

/** POSTs each card in order (the workflow answers 202 Accepted); a retry re-sends the whole message. */
export function teamsSender(ch: TeamsChannel, timeoutMs: number): Sender {
  return {
    async send(m: OutgoingMessage): Promise<string> {
      const answers: string[] = [];
      for (const body of renderTeamsBodies(m)) answers.push(await postJson(ch.url, body, {}, timeoutMs));
      return answers.length === 1 ? answers[0]! : `${answers.length} cards: ${answers.at(-1)}`;
    },
  };
}
