import { z } from 'zod';
import type { ChannelDefinition } from './shared/channel-definition.ts';
import { webhookChannel } from './webhook/index.ts';
import { slackChannel } from './slack/index.ts';
import { emailChannel } from './email/index.ts';
import { pagerdutyChannel } from './pagerduty/index.ts';
import { alertmanagerChannel } from './alertmanager/index.ts';
import { teamsChannel } from './teams/index.ts';
import { discordChannel } from './discord/index.ts';

/**
 * Every channel type Vigil can send to. A new one (Discord, Telegram…) is a folder beside these
 * with its `index.ts` definition, and one line here: the file schema, `vigil notify channels`, the
 * logs and the senders all read this list.
 */
export const CHANNEL_TYPES = [webhookChannel, slackChannel, emailChannel, pagerdutyChannel, alertmanagerChannel, teamsChannel, discordChannel] as const;

type Definition = (typeof CHANNEL_TYPES)[number];

/** A channel with its secrets resolved: what a sender is built from. Never logged as is: print `describeTarget`. */
export type Channel = ReturnType<Definition['resolve']>;

const typeNames = CHANNEL_TYPES.map((d) => d.type);
// `webhook, slack or email`
const typeList = typeNames.length > 1 ? `${typeNames.slice(0, -1).join(', ')} or ${typeNames.at(-1)}` : typeNames[0];
type FileSchemas<T extends readonly { fileSchema: z.ZodObject }[]> = { [K in keyof T]: T[K]['fileSchema'] };
const schemas = CHANNEL_TYPES.map((d) => d.fileSchema) as unknown as FileSchemas<typeof CHANNEL_TYPES>;

/** One entry of `notifications.channels`, whichever its type. */
export const channelFileSchema = z.discriminatedUnion('type', schemas, {
  error: (issue) => (issue.code === 'invalid_union' ? `use ${typeList}` : undefined),
});

export type ChannelFileSection = z.infer<typeof channelFileSchema>;

/**
 * The definition of a channel's own type. The one cast of the registry: TypeScript cannot tie a
 * value of the `Channel` union to the matching member of `CHANNEL_TYPES`; `type` does.
 */
export function definitionOf<C extends Channel | ChannelFileSection>(ch: C): ChannelDefinition<z.ZodObject, Extract<Channel, { type: C['type'] }>> {
  return CHANNEL_TYPES.find((d) => d.type === ch.type) as unknown as ChannelDefinition<z.ZodObject, Extract<Channel, { type: C['type'] }>>;
}

/** Where a channel sends, safe to print: URL tokens and passwords masked. */
export function describeTarget(ch: Channel): string {
  return definitionOf(ch).target(ch);
}
