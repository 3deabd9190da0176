import type { OutgoingMessage } from '../../../core/notify/types.ts';
import { DELIVERY_HEADER, EVENT_HEADER, postJson } from '../shared/http-sender.ts';
import type { Sender } from '../shared/sender.ts';
import type { AlertmanagerChannel } from './index.ts';
import { renderAlert } from './render.ts';

/**
 * POSTs the message's issues as one array to `/api/v2/alerts`. Every event is the same call:
 * opened, updated, reminder and acknowledged (re)fire the alert with a fresh endsAt, resolved
 * sends the resolve time as endsAt. Alertmanager merges by labels, so a retry is harmless.
 */
export function alertmanagerSender(ch: AlertmanagerChannel, timeoutMs: number): Sender {
  return {
    async send(m: OutgoingMessage): Promise<string> {
      const c = m.content;
      const headers = { [DELIVERY_HEADER]: m.deliveryId, [EVENT_HEADER]: c.event };
      if (c.event === 'test') {
        // `vigil notify test`: an alert that proves the route works, then resolved so nobody stays paged.
        const firing = c.issues.map((i) => renderAlert(i, c, ch, { deliveryId: m.deliveryId, resolveAt: c.createdAt + 60 * 60_000 }));
        await postJson(ch.url, JSON.stringify(firing), headers, timeoutMs);
        const resolved = c.issues.map((i) => renderAlert(i, c, ch, { deliveryId: m.deliveryId, resolveAt: c.createdAt }));
        return `test alert fired and resolved: ${await postJson(ch.url, JSON.stringify(resolved), headers, timeoutMs)}`;
      }
      const alerts = c.issues.map((i) => renderAlert(i, c, ch));
      return `${alerts.length} alert${alerts.length === 1 ? '' : 's'}: ${await postJson(ch.url, JSON.stringify(alerts), headers, timeoutMs)}`;
    },
  };
}
