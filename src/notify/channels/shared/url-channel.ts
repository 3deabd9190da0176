import { z } from 'zod';
import { channelSchema, defineChannel, type ChannelBase } from './channel-definition.ts';
import { httpUrl } from './http-url.ts';
import { maskUrl } from './mask-url.ts';
import type { Sender } from './sender.ts';

/** A channel that is one webhook URL and nothing else: the URL itself is the secret. */
export interface UrlChannel<Type extends string> extends ChannelBase {
  type: Type;
  url: string;
}

export interface UrlChannelType<Type extends string> {
  type: Type;
  /** What `url:` is, for `vigil config docs` and the schema. */
  urlDescription: string;
  /** Refuses a URL of the right form that this type cannot use (throws a VigilError naming `key`). */
  checkUrl?(url: URL, key: string): void;
  loadSender(): Promise<(ch: UrlChannel<Type>, timeoutMs: number) => Sender>;
}

/** Slack, Teams and Discord are each a webhook URL: one definition serves them, with each type's check. */
export function defineUrlChannel<Type extends string>(t: UrlChannelType<Type>) {
  const fileSchema = channelSchema(t.type, { url: z.string().meta({ description: t.urlDescription }) });
  return defineChannel<typeof fileSchema, UrlChannel<Type>>({
    fileSchema,
    resolve(ch, base, { at, text }) {
      const url = httpUrl(at('url'), text('url', ch.url));
      t.checkUrl?.(new URL(url), at('url'));
      return { ...base, type: t.type, url };
    },
    // The token is somewhere in the URL (Slack's path, Discord's last segment, the `sig` of Teams' query): masked.
    target: (ch) => maskUrl(ch.url),
    loadSender: t.loadSender,
  });
}
