import { z } from 'zod';
import { VigilError } from '../lib/errors.ts';
import { expandEnvRefs } from '../lib/env.ts';
import { parseDuration } from '../lib/duration.ts';
import type { ChannelFilter, DeliverySettings } from '../core/notify/types.ts';
import { channelFileSchema, definitionOf, type Channel, type ChannelFileSection } from './channels/index.ts';
import type { ChannelBase } from './channels/shared/channel-definition.ts';
import type { HeartbeatSettings } from './heartbeat.ts';
import type { Silence } from '../core/notify/silences.ts';
import { loadMaintenanceWindows, maintenanceWindowSchema } from './maintenance-config.ts';

const duration = z.string().meta({ format: 'duration' });
export const DEFAULT_REMIND_EVERY = '24h';
export const DEFAULT_HEARTBEAT_EVERY = '1m';
/** Delivery defaults, written once for the loader and the docs. */
const DELIVERY_DEFAULTS = { timeout: '10s', retry_initial: '10s', retry_max: '10m', give_up_after: '24h' } as const;

/** The `notifications:` section of vigil.yaml, as the file's schema checks it. */
export const notificationsFileSchema = z
  .object({
    remind_every: duration
      .optional()
      .meta({ description: 'Reminder interval while an issue stays open and unacknowledged; `0` turns reminders off.', default: DEFAULT_REMIND_EVERY }),
    timeout: duration.optional().meta({ description: 'One delivery attempt (connect, send, answer) may take this long.', default: DELIVERY_DEFAULTS.timeout }),
    retry_initial: duration
      .optional()
      .meta({ description: 'First retry after a failed attempt; doubles each time, with jitter.', default: DELIVERY_DEFAULTS.retry_initial }),
    retry_max: duration.optional().meta({ description: 'The longest wait between retries.', default: DELIVERY_DEFAULTS.retry_max }),
    give_up_after: duration.optional().meta({
      description:
        'A message the receiver does not accept is retried (in order, same delivery id) until this long after it was queued, then marked `failed`; `vigil notify retry` sends it again.',
      default: DELIVERY_DEFAULTS.give_up_after,
    }),
    heartbeat: z
      .object({
        url: z.string().meta({
          description:
            "Pinged (POST, JSON body with the open issues by criticality) after a health evaluation, at most once per `every`: point your dead-man's switch here (a healthchecks.io ping URL, an Uptime Kuma push URL). `${VAR}` allowed.",
        }),
        every: duration.optional().meta({ description: 'At most one ping this often.', default: DEFAULT_HEARTBEAT_EVERY }),
      })
      .strict()
      .optional()
      .meta({ description: 'Watch the watcher: no ping means Vigil stopped evaluating (docs/operations.md).' }),
    maintenance: z.array(maintenanceWindowSchema).optional().meta({
      description:
        'Recurring maintenance windows: inside one, matching issues page nobody (opens, updates and reminders wait); afterwards, what is still open is announced, what resolved meanwhile is not (docs/notifications.md).',
    }),
    channels: z
      .record(z.string(), channelFileSchema)
      .optional()
      .meta({ description: 'Channels by name (letters, digits, `.`, `_`, `-`; ≤ 64): each a `webhook`, `slack`, `email` or `pagerduty` section (below).' }),
  })
  .strict();

export type NotificationsFileSection = z.infer<typeof notificationsFileSchema>;

/**
 * The section after loading: durations parsed, channels still as written. Secrets are `${VAR}`
 * references resolved only when notifications start (`resolveChannels`), so a CLI command run from
 * a shell without SMTP_PASSWORD still works.
 */
export interface NotificationsConfig extends DeliverySettings {
  remindEveryMs: number;
  channels: Record<string, ChannelFileSection>;
  /** The heartbeat as written (its URL resolved at start, `resolveHeartbeat`), or null. */
  heartbeat: { url: string; everyMs: number } | null;
  /** `maintenance:` windows, checked, as recurring silences. */
  maintenance: Silence[];
  /** How a key is named in messages: `FILE: notifications.…` or `notifications.…`. */
  where: string;
}

const CHANNEL_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export function loadNotificationsConfig(section: NotificationsFileSection | undefined, file: string | null): NotificationsConfig {
  const where = file ? `config file ${file}: notifications` : 'notifications';
  const s = section ?? {};
  const dur = (key: string, text: string | undefined, fallback: string, allowZero = false) => parseDuration(text ?? fallback, `${where}.${key}`, { allowZero });
  const channels = s.channels ?? {};
  for (const [name, ch] of Object.entries(channels)) {
    if (!CHANNEL_NAME.test(name)) {
      throw new VigilError('E_CONFIG', `${where}.channels.${name}: channel names use letters, digits, '.', '_' and '-' (≤ 64), e.g. ops-slack`);
    }
    if (ch.remind_every !== undefined) dur(`channels.${name}.remind_every`, ch.remind_every, '0', true);
  }
  const config: NotificationsConfig = {
    remindEveryMs: dur('remind_every', s.remind_every, DEFAULT_REMIND_EVERY, true),
    timeoutMs: dur('timeout', s.timeout, DELIVERY_DEFAULTS.timeout),
    retryInitialMs: dur('retry_initial', s.retry_initial, DELIVERY_DEFAULTS.retry_initial),
    retryMaxMs: dur('retry_max', s.retry_max, DELIVERY_DEFAULTS.retry_max),
    giveUpAfterMs: dur('give_up_after', s.give_up_after, DELIVERY_DEFAULTS.give_up_after),
    channels,
    heartbeat: s.heartbeat ? { url: s.heartbeat.url, everyMs: dur('heartbeat.every', s.heartbeat.every, DEFAULT_HEARTBEAT_EVERY) } : null,
    maintenance: loadMaintenanceWindows(s.maintenance, where),
    where,
  };
  if (config.retryMaxMs < config.retryInitialMs) {
    throw new VigilError('E_CONFIG', `${where}.retry_max: must be at least retry_initial (${s.retry_initial ?? DELIVERY_DEFAULTS.retry_initial})`);
  }
  if (config.giveUpAfterMs < config.retryMaxMs) {
    throw new VigilError(
      'E_CONFIG',
      `${where}.give_up_after: must be at least retry_max (${s.retry_max ?? DELIVERY_DEFAULTS.retry_max}), or a message would get a single retry; e.g. 24h`,
    );
  }
  return config;
}

/**
 * `${VAR}` takes the value of an environment variable; `$$` is a literal `$`. An unset or empty
 * variable is refused, naming the key and the variable (never its value).
 */
export function expandEnv(text: string, env: NodeJS.ProcessEnv, key: string): string {
  return expandEnvRefs(text, env, {
    missing: (name) => `${key}: environment variable ${name} is not set (referenced as \${${name}}); export it to the server's environment`,
    strict: { malformed: (ref) => `${key}: "\${${ref}}" is not a variable reference; use \${NAME} with letters, digits and _ (write $$ for a literal $)` },
  });
}

/** The heartbeat's URL with `${VAR}` resolved and checked (http or https), or null when none is set. */
export function resolveHeartbeat(config: NotificationsConfig, env: NodeJS.ProcessEnv): HeartbeatSettings | null {
  if (!config.heartbeat) return null;
  const key = `${config.where}.heartbeat.url`;
  const url = expandEnv(config.heartbeat.url, env, key);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new VigilError('E_CONFIG', `${key}: not a URL; use e.g. https://hc-ping.com/<uuid>`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new VigilError('E_CONFIG', `${key}: must be an http:// or https:// URL, e.g. https://hc-ping.com/<uuid>`);
  }
  return { url, everyMs: config.heartbeat.everyMs, timeoutMs: config.timeoutMs };
}

/** Every configured channel with its secrets resolved and its values checked; refused with the key and the reason. */
export function resolveChannels(config: NotificationsConfig, env: NodeJS.ProcessEnv): Channel[] {
  return Object.entries(config.channels).map(([name, ch]) => resolveChannel(config, name, ch, env));
}

function resolveChannel(config: NotificationsConfig, name: string, ch: ChannelFileSection, env: NodeJS.ProcessEnv): Channel {
  const at = (key: string) => `${config.where}.channels.${name}.${key}`;
  const text = (key: string, value: string) => expandEnv(value, env, at(key));
  const base: ChannelBase = {
    name,
    filter: {
      criticality: ch.criticality ?? [],
      kinds: ch.kinds ?? [],
      bouncers: ch.bouncers ?? [],
    } satisfies ChannelFilter,
    remindEveryMs: ch.remind_every === undefined ? config.remindEveryMs : parseDuration(ch.remind_every, at('remind_every'), { allowZero: true }),
  };
  return definitionOf(ch).resolve(ch, base, { at, text });
}
