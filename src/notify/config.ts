import fs from 'node:fs';
import { z } from 'zod';
import { VigilError } from '../errors.ts';
import { parseDuration } from '../decisions/duration.ts';
import { ISSUE_CATALOGUE, type Criticality, type IssueKind } from '../health/types.ts';
import type { Channel, ChannelFilter, DeliverySettings, SmtpSecurity } from './types.ts';
import { maskUrl } from './mask.ts';

const CRITICALITIES = ['critical', 'high', 'warning', 'recommended'] as const satisfies readonly Criticality[];
const KINDS = Object.keys(ISSUE_CATALOGUE) as [IssueKind, ...IssueKind[]];

const duration = z.string();
const filterKeys = {
  criticality: z.array(z.enum(CRITICALITIES)).optional(),
  kinds: z.array(z.enum(KINDS)).optional(),
  bouncers: z.array(z.string().min(1)).optional(),
  remind_every: duration.optional(),
};

const webhookSchema = z
  .object({
    type: z.literal('webhook'),
    url: z.string(),
    headers: z.record(z.string(), z.string()).optional(),
    secret: z.string().optional(),
    ...filterKeys,
  })
  .strict();
const slackSchema = z.object({ type: z.literal('slack'), url: z.string(), ...filterKeys }).strict();
const emailSchema = z
  .object({
    type: z.literal('email'),
    host: z.string(),
    port: z.number().int().min(1).max(65535).optional(),
    security: z.enum(['none', 'starttls', 'tls']).optional(),
    username: z.string().optional(),
    password: z.string().optional(),
    from: z.string(),
    to: z.union([z.string(), z.array(z.string()).min(1)]),
    tls_ca_file: z.string().optional(),
    tls_insecure_skip_verify: z.boolean().optional(),
    ...filterKeys,
  })
  .strict();

const channelSchema = z.discriminatedUnion('type', [webhookSchema, slackSchema, emailSchema], {
  error: (issue) => (issue.code === 'invalid_union' ? 'use webhook, slack or email' : undefined),
});

/** The `notifications:` section of vigil.yaml, as the file's schema checks it. */
export const notificationsFileSchema = z
  .object({
    remind_every: duration.optional(),
    timeout: duration.optional(),
    retry_initial: duration.optional(),
    retry_max: duration.optional(),
    channels: z.record(z.string(), channelSchema).optional(),
  })
  .strict();

export type NotificationsFileSection = z.infer<typeof notificationsFileSchema>;
type ChannelSection = z.infer<typeof channelSchema>;

/**
 * The section after loading: durations parsed, channels still as written. Secrets are `${VAR}`
 * references resolved only when notifications start (`resolveChannels`), so a CLI command run from
 * a shell without SMTP_PASSWORD still works.
 */
export interface NotificationsConfig extends DeliverySettings {
  remindEveryMs: number;
  channels: Record<string, ChannelSection>;
  /** How a key is named in messages: `FILE: notifications.…` or `notifications.…`. */
  where: string;
}

export const DEFAULT_REMIND_EVERY = '24h';
const CHANNEL_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export function loadNotificationsConfig(section: NotificationsFileSection | undefined, file: string | null): NotificationsConfig {
  const where = file ? `config file ${file}: notifications` : 'notifications';
  const s = section ?? {};
  const dur = (key: string, text: string | undefined, fallback: string, allowZero = false) =>
    parseDuration(text ?? fallback, `${where}.${key}`, { allowZero });
  const channels = s.channels ?? {};
  for (const [name, ch] of Object.entries(channels)) {
    if (!CHANNEL_NAME.test(name)) {
      throw new VigilError('E_CONFIG', `${where}.channels.${name}: channel names use letters, digits, '.', '_' and '-' (≤ 64), e.g. ops-slack`);
    }
    if (ch.remind_every !== undefined) dur(`channels.${name}.remind_every`, ch.remind_every, '0', true);
  }
  const config: NotificationsConfig = {
    remindEveryMs: dur('remind_every', s.remind_every, DEFAULT_REMIND_EVERY, true),
    timeoutMs: dur('timeout', s.timeout, '10s'),
    retryInitialMs: dur('retry_initial', s.retry_initial, '10s'),
    retryMaxMs: dur('retry_max', s.retry_max, '10m'),
    channels,
    where,
  };
  if (config.retryMaxMs < config.retryInitialMs) {
    throw new VigilError('E_CONFIG', `${where}.retry_max: must be at least retry_initial (${s.retry_initial ?? '10s'})`);
  }
  return config;
}

/**
 * `${VAR}` takes the value of an environment variable; `$$` is a literal `$`. An unset or empty
 * variable is refused, naming the key and the variable (never its value).
 */
export function expandEnv(text: string, env: NodeJS.ProcessEnv, key: string): string {
  return text.replace(/\$\$|\$\{([^}]*)\}|\$/g, (match, name: string | undefined) => {
    if (match === '$$') return '$';
    if (match === '$') return '$';
    if (!name || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw new VigilError('E_CONFIG', `${key}: "\${${name ?? ''}}" is not a variable reference; use \${NAME} with letters, digits and _ (write $$ for a literal $)`);
    }
    const value = env[name];
    if (value === undefined || value === '') {
      throw new VigilError('E_CONFIG', `${key}: environment variable ${name} is not set (referenced as \${${name}}); export it to the server's environment`);
    }
    return value;
  });
}

/** Every configured channel with its secrets resolved and its values checked; refused with the key and the reason. */
export function resolveChannels(config: NotificationsConfig, env: NodeJS.ProcessEnv): Channel[] {
  return Object.entries(config.channels).map(([name, ch]) => resolveChannel(config, name, ch, env));
}

function resolveChannel(config: NotificationsConfig, name: string, ch: ChannelSection, env: NodeJS.ProcessEnv): Channel {
  const at = (key: string) => `${config.where}.channels.${name}.${key}`;
  const str = (key: string, value: string) => expandEnv(value, env, at(key));
  const base = {
    name,
    filter: {
      criticality: ch.criticality ?? [],
      kinds: ch.kinds ?? [],
      bouncers: ch.bouncers ?? [],
    } satisfies ChannelFilter,
    remindEveryMs: ch.remind_every === undefined ? config.remindEveryMs : parseDuration(ch.remind_every, at('remind_every'), { allowZero: true }),
  };
  switch (ch.type) {
    case 'webhook': {
      const headers: Record<string, string> = {};
      for (const [h, v] of Object.entries(ch.headers ?? {})) {
        if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(h)) throw new VigilError('E_CONFIG', `${at('headers')}: "${h}" is not a valid HTTP header name`);
        const value = str(`headers.${h}`, v);
        if (/[\r\n\0]/.test(value)) throw new VigilError('E_CONFIG', `${at(`headers.${h}`)}: a header value cannot contain a line break`);
        headers[h] = value;
      }
      const secret = ch.secret === undefined ? null : str('secret', ch.secret);
      return { ...base, type: 'webhook', url: httpUrl(at('url'), str('url', ch.url)), headers, secret };
    }
    case 'slack':
      return { ...base, type: 'slack', url: httpUrl(at('url'), str('url', ch.url)) };
    case 'email': {
      const security: SmtpSecurity = ch.security ?? 'starttls';
      const host = str('host', ch.host).trim();
      if (host === '' || /[\s/]/.test(host)) throw new VigilError('E_CONFIG', `${at('host')}: "${host}" is not a host name or address; e.g. smtp.example.com`);
      const to = (Array.isArray(ch.to) ? ch.to : [ch.to]).map((a, i) => emailAddress(at(Array.isArray(ch.to) ? `to[${i}]` : 'to'), str('to', a)));
      const username = ch.username === undefined ? null : str('username', ch.username);
      const password = ch.password === undefined ? null : str('password', ch.password);
      if ((username === null) !== (password === null)) {
        throw new VigilError('E_CONFIG', `${at(username === null ? 'username' : 'password')}: set both username and password for SMTP AUTH, or neither`);
      }
      const tlsCaFile = ch.tls_ca_file === undefined ? null : str('tls_ca_file', ch.tls_ca_file);
      if (tlsCaFile !== null && !fs.existsSync(tlsCaFile)) throw new VigilError('E_CONFIG', `${at('tls_ca_file')}: ${tlsCaFile}: no such file`);
      if (security === 'none' && (tlsCaFile !== null || ch.tls_insecure_skip_verify)) {
        throw new VigilError('E_CONFIG', `${at('security')}: TLS options are set but security is none; use starttls or tls`);
      }
      return {
        ...base,
        type: 'email',
        host,
        port: ch.port ?? (security === 'tls' ? 465 : security === 'starttls' ? 587 : 25),
        security,
        username,
        password,
        from: emailAddress(at('from'), str('from', ch.from)),
        to,
        tlsCaFile,
        tlsInsecureSkipVerify: ch.tls_insecure_skip_verify ?? false,
      };
    }
  }
}

function httpUrl(key: string, text: string): string {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new VigilError('E_CONFIG', `${key}: "${maskUrl(text)}" is not a URL; use https://HOST/PATH`);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') {
    throw new VigilError('E_CONFIG', `${key}: "${maskUrl(text)}": use an http:// or https:// URL`);
  }
  return u.toString();
}

// Deliberately loose (RFC 5322 allows far more): one @, no spaces or brackets; "Name <a@b>" accepted.
function emailAddress(key: string, text: string): string {
  const t = text.trim();
  const m = /^(?:[^<>]*<([^<>\s]+)>|([^<>\s]+))$/.exec(t);
  const addr = m?.[1] ?? m?.[2];
  if (!addr || !/^[^@\s]+@[^@\s]+$/.test(addr) || /[\r\n]/.test(t)) {
    throw new VigilError('E_CONFIG', `${key}: "${t}" is not an e-mail address; use e.g. ops@example.com or "Vigil <vigil@example.com>"`);
  }
  return t;
}

/** Where a channel sends, safe to print: URL tokens and passwords masked. */
export function describeTarget(ch: Channel): string {
  if (ch.type === 'email') {
    const auth = ch.username ? ` as ${ch.username}` : '';
    return `smtp ${ch.host}:${ch.port} (${ch.security}${auth}) to ${ch.to.join(', ')}`;
  }
  return maskUrl(ch.url);
}
