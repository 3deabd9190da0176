import { z } from 'zod';
import { VigilError } from '../../../lib/errors.ts';
import { channelSchema, defineChannel, type ChannelBase } from '../shared/channel-definition.ts';
import { httpUrl } from '../shared/http-url.ts';

/** PagerDuty's Events API v2: one alert per issue, keyed by the issue id. */
export interface PagerDutyChannel extends ChannelBase {
  type: 'pagerduty';
  /** The service integration's routing key (a secret: never printed). */
  routingKey: string;
  url: string;
}

export const PAGERDUTY_EVENTS_URL = 'https://events.pagerduty.com/v2/enqueue';

const pagerdutySchema = channelSchema('pagerduty', {
  routing_key: z.string().meta({
    description: 'The Events API v2 integration key of a PagerDuty service (32 characters); keep it in the environment: `${PAGERDUTY_ROUTING_KEY}`.',
  }),
  url: z
    .string()
    .optional()
    .meta({ description: 'The Events API v2 endpoint (EU accounts: `https://events.eu.pagerduty.com/v2/enqueue`).', default: PAGERDUTY_EVENTS_URL }),
});

export const pagerdutyChannel = defineChannel<typeof pagerdutySchema, PagerDutyChannel>({
  fileSchema: pagerdutySchema,
  resolve(ch, base, { at, text: str }) {
    const routingKey = str('routing_key', ch.routing_key).trim();
    // PagerDuty's keys are 32 characters; refuse what cannot be one before the first page is lost to a 400.
    if (!/^[A-Za-z0-9]{20,64}$/.test(routingKey))
      throw new VigilError(
        'E_CONFIG',
        `${at('routing_key')}: not a PagerDuty integration key (32 letters and digits, from the service's Events API v2 integration)`,
      );
    return { ...base, type: 'pagerduty', sendsAcknowledgements: true, routingKey, url: httpUrl(at('url'), str('url', ch.url ?? PAGERDUTY_EVENTS_URL)) };
  },
  // The routing key is the secret (the URL is PagerDuty's public endpoint): only its last 4 characters are shown, to tell keys apart.
  target: (ch) => {
    const u = new URL(ch.url);
    return `${u.origin}${u.pathname} (routing key …${ch.routingKey.slice(-4)})`;
  },
  loadSender: async () => (await import('./sender.ts')).pagerdutySender,
});
