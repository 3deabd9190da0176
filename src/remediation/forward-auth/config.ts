/**
 * The forward-auth daemon's YAML configuration, in the shape of CrowdSec's own bouncers
 * (`api_url`, `api_key`, `update_frequency`, … docs/reference/crowdsec-docs-notes.md §3), read strictly: an unknown key, a
 * wrong type or a bad value is refused with the file, the key and the fix. `${VAR}` is replaced by
 * the environment variable, as the Go bouncers do, so the key can stay out of the file.
 */
import fs from 'node:fs';
import { parseYaml } from '../../lib/yaml.ts';
import { z } from 'zod';
import { VigilError } from '../../lib/errors.ts';
import { expandEnvRefs } from '../../lib/env.ts';
import { parseListen, type ListenAddress } from '../../lib/listen-address.ts';
import { normalizeOptions, type BouncerOptions } from '../options.ts';
import { CAPTCHA_PROVIDERS, CaptchaService } from '../captcha.ts';
import { TrustedProxies } from '../client-ip.ts';
import { systemClock } from '../../lib/clock.ts';

export const DEFAULT_FORWARD_AUTH_CONFIG = '/etc/crowdsec/bouncers/vigil-forward-auth.yaml';
export const DEFAULT_FORWARD_AUTH_LISTEN = '127.0.0.1:7480';
export const DEFAULT_SIGNING_KEY_FILE = '/var/lib/vigil/forward-auth-captcha.key';
/** The proxy runs on the same host by default (nginx, Traefik or Caddy next to the daemon). */
export const DEFAULT_TRUSTED_PROXIES = ['127.0.0.1', '::1'];

const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
const duration = z.string();
const list = z.array(z.string());

const schema = z
  .object({
    api_url: z.string(),
    api_key: z.string(),
    mode: z.enum(['stream', 'live']).optional(),
    update_frequency: duration.optional(),
    unhealthy_after: duration.optional(),
    stream_timeout: duration.optional(),
    lapi_timeout: duration.optional(),
    cache_expiration: duration.optional(),
    live_cache_size: z.number().int().positive().optional(),
    scopes: list.optional(),
    origins: list.optional(),
    scenarios_containing: list.optional(),
    scenarios_not_containing: list.optional(),
    fallback_remediation: z.enum(['ban', 'captcha', 'bypass']).optional(),
    fail_open: z.boolean().optional(),
    fail_closed_remediation: z.enum(['ban', 'captcha']).optional(),
    listen: z.string().optional(),
    trusted_proxies: list.optional(),
    real_ip_header: z.string().optional(),
    usage_metrics_interval: z.union([duration, z.literal(0)]).optional(),
    name: z.string().optional(),
    log_level: z.enum(LOG_LEVELS).optional(),
    captcha: z
      .object({
        provider: z.enum(CAPTCHA_PROVIDERS).optional(),
        difficulty: z.number().int().optional(),
        lifetime: duration.optional(),
        site_key: z.string().optional(),
        secret_key: z.string().optional(),
        signing_key_file: z.string().optional(),
        cookie_name: z.string().optional(),
        verify_url: z.string().optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

type FileConfig = z.infer<typeof schema>;

/** What a missing required key needs. */
const REQUIRED_HINT: Record<string, string> = {
  api_url: "the Local API's base URL, e.g. api_url: http://127.0.0.1:8080/",
  api_key:
    "the bouncer's key: register it with 'vigil bouncers add vigil-forward-auth' (or 'cscli bouncers add …') and set api_key: <key> (or api_key: ${API_KEY})",
};

export interface ForwardAuthConfig {
  file: string;
  listen: ListenAddress;
  logLevel: (typeof LOG_LEVELS)[number];
  bouncer: BouncerOptions;
}

/** camelCase option → YAML key, so errors from the shared validation name what the operator wrote. */
const YAML_KEYS: Record<string, string> = {
  apiUrl: 'api_url',
  apiKey: 'api_key',
  mode: 'mode',
  updateFrequency: 'update_frequency',
  unhealthyAfter: 'unhealthy_after',
  streamTimeout: 'stream_timeout',
  lapiTimeout: 'lapi_timeout',
  cacheExpiration: 'cache_expiration',
  liveCacheSize: 'live_cache_size',
  fallbackRemediation: 'fallback_remediation',
  failClosedRemediation: 'fail_closed_remediation',
  realIpHeader: 'real_ip_header',
  usageMetricsInterval: 'usage_metrics_interval',
  'captcha.lifetime': 'captcha.lifetime',
};

/** Replaces `${NAME}` with the environment's value; an unset variable is an error naming its line. */
export function expandEnv(text: string, env: NodeJS.ProcessEnv, file: string): string {
  return text
    .split('\n')
    .map((line, i) =>
      line.trimStart().startsWith('#')
        ? line
        : expandEnvRefs(line, env, {
            allowEmpty: true,
            missing: (name) => `config file ${file}: line ${i + 1}: \${${name}} is not set in the environment; export ${name} or write the value in the file`,
          }),
    )
    .join('\n');
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const key = issue.path.join('.');
  if (issue.code === 'unrecognized_keys') {
    const where = key ? `${key}: ` : '';
    return `${where}unknown key ${issue.keys.join(', ')}; see docs/bouncer.md (forward-auth) for the keys it reads`;
  }
  if (issue.code === 'invalid_type' && issue.input === undefined) return `${key}: missing; give ${REQUIRED_HINT[key] ?? 'a value'}`;
  if (issue.code === 'invalid_value') return `${key}: ${JSON.stringify(issue.input)} is not allowed; use one of ${issue.values.map(String).join(', ')}`;
  if (issue.code === 'invalid_type')
    return `${key}: expected ${issue.expected}, got ${JSON.stringify(issue.input)}${issue.expected === 'string' ? ' (quote it, or write a duration such as 10s)' : ''}`;
  return `${key}: ${issue.message}`;
}

/** Reads, expands, parses and validates the file; throws E_CONFIG naming the key and the fix. */
export function loadForwardAuthConfig(file: string, opts: { env?: NodeJS.ProcessEnv; listen?: string } = {}): ForwardAuthConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const fix = code === 'ENOENT' ? `create it (see docs/bouncer.md, forward-auth) or pass another file with --config` : 'check its permissions';
    throw new VigilError('E_CONFIG', `config file ${file}: cannot read it (${code ?? (e as Error).message}); ${fix}`);
  }
  const expanded = expandEnv(text, opts.env ?? process.env, file);
  const data = parseYaml(expanded, 'E_CONFIG', (at, reason) => `config file ${file}: YAML error at ${at}: ${reason}`);
  const parsed = schema.safeParse(data, { reportInput: true });
  if (!parsed.success) throw new VigilError('E_CONFIG', `config file ${file}: ${describeIssue(parsed.error.issues[0]!)}`);
  const c: FileConfig = parsed.data;
  const bouncer: BouncerOptions = {
    apiUrl: c.api_url,
    apiKey: c.api_key,
    mode: c.mode,
    updateFrequency: c.update_frequency,
    unhealthyAfter: c.unhealthy_after,
    streamTimeout: c.stream_timeout,
    lapiTimeout: c.lapi_timeout,
    cacheExpiration: c.cache_expiration,
    liveCacheSize: c.live_cache_size,
    scopes: c.scopes,
    origins: c.origins,
    scenariosContaining: c.scenarios_containing,
    scenariosNotContaining: c.scenarios_not_containing,
    fallbackRemediation: c.fallback_remediation,
    failOpen: c.fail_open,
    failClosedRemediation: c.fail_closed_remediation,
    trustedProxies: c.trusted_proxies ?? DEFAULT_TRUSTED_PROXIES,
    realIpHeader: c.real_ip_header,
    usageMetricsInterval: c.usage_metrics_interval,
    name: c.name ?? 'vigil-forward-auth',
    captcha: {
      provider: c.captcha?.provider,
      difficulty: c.captcha?.difficulty,
      lifetime: c.captcha?.lifetime,
      siteKey: c.captcha?.site_key,
      secretKey: c.captcha?.secret_key,
      signingKeyFile: c.captcha?.signing_key_file ?? DEFAULT_SIGNING_KEY_FILE,
      cookieName: c.captcha?.cookie_name,
      verifyUrl: c.captcha?.verify_url,
    },
  };
  try {
    normalizeOptions(bouncer, (option) => YAML_KEYS[option] ?? option);
    new TrustedProxies(bouncer.trustedProxies ?? []);
    // Everything about the captcha but its key file, which is read (or created) at start.
    new CaptchaService({ ...bouncer.captcha, lifetimeMs: 1, signingKey: 'validation-only-key-0123456789ab', signingKeyFile: undefined }, systemClock);
  } catch (e) {
    if (e instanceof VigilError) throw new VigilError(e.code, `config file ${file}: ${e.message}`);
    throw e;
  }
  const listenText = opts.listen ?? c.listen ?? DEFAULT_FORWARD_AUTH_LISTEN;
  const listen = parseListen(listenText, opts.listen !== undefined ? '--listen' : `config file ${file}: listen`);
  return { file, listen, logLevel: c.log_level ?? 'info', bouncer };
}
