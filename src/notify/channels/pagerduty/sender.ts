import type { OutgoingMessage } from '../../../core/notify/types.ts';
import { postJson } from '../shared/http-sender.ts';
import type { Sender } from '../shared/sender.ts';
import type { PagerDutyChannel } from './index.ts';
import { pagerdutyAction, renderPagerDutyEvent } from './render.ts';

/**
 * POSTs one Events API v2 event per issue of the message, in order. A failure part-way fails the
 * message and the outbox retries all of it: PagerDuty deduplicates by dedup_key (a repeated
 * trigger is a log entry on the open alert; a repeated resolve is dropped), so a retry is harmless.
 */
export function pagerdutySender(ch: PagerDutyChannel, timeoutMs: number): Sender {
  return {
    async send(m: OutgoingMessage): Promise<string> {
      const action = pagerdutyAction(m.content.event);
      if (action === null) return 'not sent: PagerDuty re-notifies by its own escalation policy';
      const answers: string[] = [];
      const post = async (body: Record<string, unknown>) => answers.push(await postJson(ch.url, JSON.stringify(body), {}, timeoutMs));
      if (m.content.event === 'test') {
        // `vigil notify test`: an alert that proves the key works, resolved at once so nobody stays paged.
        const key = `vigil-test-${m.deliveryId}`;
        for (const issue of m.content.issues) {
          await post(renderPagerDutyEvent(ch.routingKey, 'trigger', issue, m.content, key));
          await post(renderPagerDutyEvent(ch.routingKey, 'resolve', issue, m.content, key));
        }
      } else for (const issue of m.content.issues) await post(renderPagerDutyEvent(ch.routingKey, action, issue, m.content));
      return answers.length === 1 ? answers[0]! : `${answers.length} events: ${answers.at(-1)}`;
    },
  };
}
