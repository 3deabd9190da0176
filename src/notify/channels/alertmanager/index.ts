import { z } from 'zod';
import { VigilError } from '../../../lib/errors.ts';
import { channelSchema, defineChannel, type ChannelBase } from '../shared/channel-definition.ts';
import { httpUrl } from '../shared/http-url.ts';
import { maskUrl } from '../shared/mask-url.ts';

/** A Prometheus Alertmanager (or anything speaking its `POST /api/v2/alerts`): one alert per issue. */
export interface AlertmanagerChannel extends ChannelBase {
  type: 'alertmanager';
  /** `…/api/v2/alerts` of the Alertmanager. */
  url: string;
  /** The operator's extra labels (e.g. `env: prod`), on every alert, for Alertmanager's routes. */
  labels: Record<string, string>;
}

/** Alertmanager ends an alert that is not re-sent: Vigil re-sends each open one this often unless the channel says otherwise. */
export const ALERTMANAGER_REMIND_EVERY_MS = 15 * 60_000;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

const alertmanagerSchema = channelSchema('alertmanager', {
  url: z.string().meta({
    description: 'The Alertmanager, e.g. `http://127.0.0.1:9093` (Vigil POSTs to its `/api/v2/alerts`); credentials in the URL are never printed.',
  }),
  labels: z
    .record(z.string(), z.string())
    .optional()
    .meta({ description: "Extra labels on every alert (e.g. `env: prod`) for Alertmanager's routes; values may use `${VAR}`." }),
});

export const alertmanagerChannel = defineChannel<typeof alertmanagerSchema, AlertmanagerChannel>({
  fileSchema: alertmanagerSchema,
  resolve(ch, base, { at, text: str }) {
    const labels: Record<string, string> = {};
    for (const [name, v] of Object.entries(ch.labels ?? {})) {
      if (!LABEL_NAME.test(name) || name.startsWith('__'))
        throw new VigilError(
          'E_CONFIG',
          `${at('labels')}: "${name}" is not an Alertmanager label name (letters, digits and _, not starting with a digit or __)`,
        );
      labels[name] = str(`labels.${name}`, v);
    }
    // Re-sending is what keeps the alert firing (each carries endsAt a few intervals ahead), so it cannot be off.
    const remindEveryMs = ch.remind_every === undefined ? ALERTMANAGER_REMIND_EVERY_MS : base.remindEveryMs;
    if (remindEveryMs <= 0)
      throw new VigilError('E_CONFIG', `${at('remind_every')}: Alertmanager ends an alert Vigil stops re-sending; use a duration such as 15m, not 0`);
    const u = new URL(httpUrl(at('url'), str('url', ch.url)));
    if (!u.pathname.endsWith('/api/v2/alerts')) u.pathname = `${u.pathname.replace(/\/+$/, '')}/api/v2/alerts`;
    return { ...base, type: 'alertmanager', remindEveryMs, remindsWhileAcknowledged: true, url: u.toString(), labels };
  },
  // Basic-auth credentials or a proxy token may be in the URL.
  target: (ch) => maskUrl(ch.url),
  loadSender: async () => (await import('./sender.ts')).alertmanagerSender,
});
