import { z } from 'zod';
import { VigilError } from '../../../lib/errors.ts';
import { channelSchema, defineChannel, type ChannelBase } from '../shared/channel-definition.ts';
import { httpUrl } from '../shared/http-url.ts';
import { maskUrl } from '../shared/mask-url.ts';
import { checkTemplate } from './template.ts';

/** A generic webhook: the issues as JSON, optionally signed. */
export interface WebhookChannel extends ChannelBase {
  type: 'webhook';
  url: string;
  headers: Record<string, string>;
  /** HMAC-SHA256 key for the `X-Vigil-Signature-256` header; none = unsigned. */
  secret: string | null;
  /** A Mustache template of the body in the receiver's format; none = Vigil's webhook body. */
  template: string | null;
}

const webhookSchema = channelSchema('webhook', {
  url: z.string().meta({ description: 'http:// or https:// URL the JSON body is POSTed to.' }),
  headers: z.record(z.string(), z.string()).optional().meta({ description: 'Extra request headers; values may use `${VAR}`.' }),
  secret: z.string().optional().meta({ description: 'HMAC-SHA256 key: each body is signed in `X-Vigil-Signature-256`.' }),
  template: z.string().optional().meta({
    description:
      "The JSON body in the receiver's format, a Mustache template over Vigil's webhook body (`{{headline}}`, `{{#issues}}…{{/issues}}`); values are JSON-escaped. Absent: Vigil's webhook body.",
  }),
});

export const webhookChannel = defineChannel<typeof webhookSchema, WebhookChannel>({
  fileSchema: webhookSchema,
  resolve(ch, base, { at, text: str }) {
    const headers: Record<string, string> = {};
    for (const [h, v] of Object.entries(ch.headers ?? {})) {
      if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(h)) throw new VigilError('E_CONFIG', `${at('headers')}: "${h}" is not a valid HTTP header name`);
      const value = str(`headers.${h}`, v);
      if (/[\r\n\0]/.test(value)) throw new VigilError('E_CONFIG', `${at(`headers.${h}`)}: a header value cannot contain a line break`);
      headers[h] = value;
    }
    const secret = ch.secret === undefined ? null : str('secret', ch.secret);
    // Not `${VAR}`-expanded: `$` is common in receivers' formats, and the template holds no secret.
    const template = ch.template ?? null;
    if (template !== null) checkTemplate(at('template'), template);
    return { ...base, type: 'webhook', url: httpUrl(at('url'), str('url', ch.url)), headers, secret, template };
  },
  // The URL may carry a token; header values and the secret are never printed.
  target: (ch) => maskUrl(ch.url),
  loadSender: async () => (await import('./sender.ts')).webhookSender,
});
