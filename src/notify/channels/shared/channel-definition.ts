import { z } from 'zod';
import type { ChannelFilter } from '../../../core/notify/types.ts';
import { filterKeys } from './filter-keys.ts';
import type { Sender } from './sender.ts';

/** What every resolved channel has, whatever its type: set by the shared config code. */
export interface ChannelBase {
  name: string;
  filter: ChannelFilter;
  /** Reminder interval while an issue stays open; 0 = no reminders. */
  remindEveryMs: number;
  /** Set by channel types that announce acknowledgements (PagerDuty); others are not told. */
  sendsAcknowledgements?: boolean;
  /** Set by channel types whose receiver ends what is not re-sent (Alertmanager): reminders continue after an acknowledgement. */
  remindsWhileAcknowledged?: boolean;
}

/** What a channel type's resolve step is given to read its section. */
export interface ResolveContext {
  /** How messages name one of the channel's keys: `FILE: notifications.channels.NAME.KEY`. */
  at(key: string): string;
  /** A value with its `${VAR}` references expanded; refused naming the key, never the value. */
  text(key: string, value: string): string;
}

/**
 * One channel type, all in one place: what the file may say, how that becomes a channel ready to
 * send, where it sends in words safe to print, and its sender. `target` is the only way a channel
 * reaches output or logs, so each type masks its own secrets (URL tokens, passwords) by construction.
 */
export interface ChannelDefinition<Schema extends z.ZodObject, Channel extends ChannelBase & { type: string }> {
  /** What `type:` says in the file. */
  type: Channel['type'];
  /** Its entry under `notifications.channels` in vigil.yaml (strict: unknown keys are refused). */
  fileSchema: Schema;
  /** The section with its secrets resolved and its values checked; refused with the key and the reason. */
  resolve(section: z.output<Schema>, base: ChannelBase, ctx: ResolveContext): Channel;
  /** Where it sends, safe to print: secrets masked. */
  target(ch: Channel): string;
  /** Its sender, loaded on demand: nodemailer and the HTTP clients would slow every CLI command's start. */
  loadSender(): Promise<(ch: Channel, timeoutMs: number) => Sender>;
}

/**
 * A channel type's section of vigil.yaml: `type: NAME`, its own keys, and the filter keys every
 * channel takes; strict, so a misspelt key is refused rather than ignored.
 */
export function channelSchema<Type extends string, Keys extends z.ZodRawShape>(type: Type, keys: Keys) {
  return z.object({ type: z.literal(type), ...keys, ...filterKeys }).strict();
}

/**
 * Names the types of a definition once, so its functions are checked against its own section and
 * channel; its `type` is the one its section's schema says.
 */
export function defineChannel<Schema extends z.ZodObject<{ type: z.ZodLiteral<Channel['type']> }>, Channel extends ChannelBase & { type: string }>(
  definition: Omit<ChannelDefinition<Schema, Channel>, 'type'>,
): ChannelDefinition<Schema, Channel> {
  return { type: definition.fileSchema.shape.type.value, ...definition };
}
