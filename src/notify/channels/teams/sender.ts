import type { OutgoingMessage } from '../../../core/notify/types.ts';
import { AcceptedParts, postEachJson } from '../shared/http-sender.ts';
import type { Sender } from '../shared/sender.ts';
import type { TeamsChannel } from './index.ts';
import { renderTeamsBodies } from './render.ts';

/** POSTs each card in order (the workflow answers 202 Accepted); a retry resumes at the first card not accepted. */
export function teamsSender(ch: TeamsChannel, timeoutMs: number): Sender {
  const accepted = new AcceptedParts();
  return { send: (m: OutgoingMessage) => postEachJson(ch.url, renderTeamsBodies(m), timeoutMs, 'cards', { id: m.deliveryId, accepted }) };
}
