/**
 * The bouncer library's options (camelCase, typed) and their normalisation: durations as Go
 * strings (`10s`) or milliseconds, defaults from go-cs-bouncer and CrowdSec's remediation spec, and
 * a clear error naming the option and the fix. The forward-auth daemon's YAML maps onto these.
 */
import { VigilError } from '../lib/errors.ts';
import { parseDuration } from '../lib/duration.ts';
import type { Clock } from '../lib/clock.ts';
import type { Remediation } from './decision-cache.ts';
import { REAL_IP_HEADERS, type RealIpHeader } from './client-ip.ts';
import type { CaptchaOptions } from './captcha.ts';
import { defaultUnhealthyAfter } from './health.ts';

/** pino-compatible: `log.warn({ ip }, 'message')`. */
export interface BouncerLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** A duration: Go syntax (`10s`, `1h30m`) or milliseconds. */
export type DurationInput = string | number;

export interface BouncerOptions {
  /** The Local API's base URL, e.g. `http://127.0.0.1:8080/`. */
  apiUrl: string;
  /** The bouncer's API key (`vigil bouncers add NAME` / `cscli bouncers add NAME`). Never logged. */
  apiKey: string;
  /** `stream` (default): pull all decisions, then deltas. `live`: ask per unseen address. */
  mode?: 'stream' | 'live';
  /** Stream pull interval (live: health probe interval); default `10s`, as go-cs-bouncer. */
  updateFrequency?: DurationInput;
  /** `healthy` turns false after this long without a successful pull; default max(3 × updateFrequency, 30s). */
  unhealthyAfter?: DurationInput;
  /** Timeout of a stream pull; default `30s`. */
  streamTimeout?: DurationInput;
  /** Timeout of a live query; default `200ms` (remediation spec). */
  lapiTimeout?: DurationInput;
  /** Live mode: how long an answer is reused for an address; default `1s` (remediation spec). */
  cacheExpiration?: DurationInput;
  /** Live mode: most addresses remembered; default 50,000. */
  liveCacheSize?: number;
  /** Stream filters, sent as CrowdSec's query parameters. */
  scopes?: string[];
  origins?: string[];
  scenariosContaining?: string[];
  scenariosNotContaining?: string[];
  /** What a decision of another type than ban/captcha does; default `ban`. */
  fallbackRemediation?: Remediation;
  /** While the Local API cannot be reached (unhealthy), let requests through (true, default) or not. */
  failOpen?: boolean;
  /** The remediation when failing closed; default `ban`. */
  failClosedRemediation?: 'ban' | 'captcha';
  /** Proxies whose forwarding header is believed: addresses or CIDR ranges. Default none. */
  trustedProxies?: string[];
  /** The header trusted proxies put the client in; default `X-Forwarded-For`. */
  realIpHeader?: string;
  /** The captcha's options as the captcha takes them, but its lifetime as a duration (`1h`, the default). */
  captcha?: Pick<CaptchaOptions, 'provider' | 'difficulty' | 'signingKey' | 'signingKeyFile' | 'cookieName' | 'siteKey' | 'secretKey' | 'verifyUrl'> & {
    lifetime?: DurationInput;
  };
  /** Usage metrics push interval; default `30m`; `0` disables; at least `10m` otherwise (spec). */
  usageMetricsInterval?: DurationInput;
  /** The name in usage metrics; default `vigil-bouncer`. */
  name?: string;
  /** Default: warnings and errors on stderr, nothing else. */
  logger?: BouncerLogger;
  clock?: Clock;
  /** Start pulling at once (default true); false for tests that drive pull() themselves. */
  autoStart?: boolean;
  /** Called when `healthy` changes. */
  onHealthChange?: (healthy: boolean, summary: string) => void;
}

export interface NormalizedOptions {
  apiUrl: string;
  apiKey: string;
  mode: 'stream' | 'live';
  updateFrequencyMs: number;
  unhealthyAfterMs: number;
  streamTimeoutMs: number;
  lapiTimeoutMs: number;
  cacheExpirationMs: number;
  liveCacheSize: number;
  filters: { scopes?: string[]; origins?: string[]; scenariosContaining?: string[]; scenariosNotContaining?: string[] };
  fallbackRemediation: Remediation;
  failOpen: boolean;
  failClosedRemediation: 'ban' | 'captcha';
  trustedProxies: string[];
  realIpHeader: RealIpHeader;
  captchaLifetimeMs: number;
  usageMetricsIntervalMs: number;
  name: string;
}

export const MIN_USAGE_METRICS_INTERVAL_MS = 10 * 60_000;

function bad(option: string, fix: string): VigilError {
  return new VigilError('E_CONFIG', `${option}: ${fix}`);
}

/** A duration option in ms; `names` maps option names to how the caller spells them (YAML keys). */
export function durationMs(value: DurationInput | undefined, fallback: string, option: string, allowZero = false): number {
  if (value === undefined) return parseDuration(fallback, option, { allowZero });
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0))
      throw bad(option, `${value}: use a positive duration such as 10s (or milliseconds as a number)`);
    return value;
  }
  return parseDuration(value, option, { allowZero });
}

/** Validates and fills in defaults. `names` lets the daemon report YAML keys instead of option names. */
export function normalizeOptions(o: BouncerOptions, names: (option: string) => string = (x) => x): NormalizedOptions {
  if (typeof o.apiUrl !== 'string' || o.apiUrl === '') throw bad(names('apiUrl'), 'missing; give the Local API URL, e.g. http://127.0.0.1:8080/');
  let url: URL;
  try {
    url = new URL(o.apiUrl);
  } catch {
    throw bad(names('apiUrl'), `${JSON.stringify(o.apiUrl)} is not a URL; use e.g. http://127.0.0.1:8080/`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw bad(names('apiUrl'), `use an http:// or https:// URL, e.g. http://127.0.0.1:8080/`);
  if (url.search !== '' || url.hash !== '') throw bad(names('apiUrl'), 'give the base URL only (no ?query or #fragment), e.g. http://127.0.0.1:8080/');
  if (typeof o.apiKey !== 'string' || o.apiKey === '') {
    throw bad(names('apiKey'), "missing; register the bouncer with 'vigil bouncers add NAME' (or 'cscli bouncers add NAME') and paste the key");
  }
  if (!/^[\x21-\x7e]+$/.test(o.apiKey)) throw bad(names('apiKey'), 'must be printable ASCII without spaces (check for a stray quote or newline)');
  const mode = o.mode ?? 'stream';
  if (mode !== 'stream' && mode !== 'live') throw bad(names('mode'), `"${String(mode)}": use stream or live`);
  const updateFrequencyMs = durationMs(o.updateFrequency, '10s', names('updateFrequency'));
  const unhealthyAfterMs =
    o.unhealthyAfter === undefined ? defaultUnhealthyAfter(updateFrequencyMs) : durationMs(o.unhealthyAfter, '30s', names('unhealthyAfter'));
  if (unhealthyAfterMs < updateFrequencyMs) {
    throw bad(
      names('unhealthyAfter'),
      `must be at least ${names('updateFrequency')} (one missed pull is not an outage); leave it out for max(3 × ${names('updateFrequency')}, 30s)`,
    );
  }
  const remediations = ['ban', 'captcha', 'bypass'];
  const fallbackRemediation = o.fallbackRemediation ?? 'ban';
  if (!remediations.includes(fallbackRemediation)) throw bad(names('fallbackRemediation'), `"${fallbackRemediation}": use ban, captcha or bypass`);
  const failClosedRemediation = o.failClosedRemediation ?? 'ban';
  if (failClosedRemediation !== 'ban' && failClosedRemediation !== 'captcha')
    throw bad(names('failClosedRemediation'), `"${String(failClosedRemediation)}": use ban or captcha`);
  const header = (o.realIpHeader ?? 'X-Forwarded-For').toLowerCase();
  if (!(REAL_IP_HEADERS as readonly string[]).includes(header))
    throw bad(names('realIpHeader'), `"${o.realIpHeader}": use X-Forwarded-For, Forwarded or X-Real-IP`);
  const usageMetricsIntervalMs = durationMs(o.usageMetricsInterval, '30m', names('usageMetricsInterval'), true);
  if (usageMetricsIntervalMs !== 0 && usageMetricsIntervalMs < MIN_USAGE_METRICS_INTERVAL_MS) {
    throw bad(names('usageMetricsInterval'), 'at least 10m (CrowdSec asks bouncers not to push more often), or 0 to turn usage metrics off');
  }
  const liveCacheSize = o.liveCacheSize ?? 50_000;
  if (!Number.isInteger(liveCacheSize) || liveCacheSize < 1) throw bad(names('liveCacheSize'), 'use a whole number of addresses, e.g. 50000');
  return {
    apiUrl: o.apiUrl,
    apiKey: o.apiKey,
    mode,
    updateFrequencyMs,
    unhealthyAfterMs,
    streamTimeoutMs: durationMs(o.streamTimeout, '30s', names('streamTimeout')),
    lapiTimeoutMs: durationMs(o.lapiTimeout, '200ms', names('lapiTimeout')),
    cacheExpirationMs: durationMs(o.cacheExpiration, '1s', names('cacheExpiration')),
    liveCacheSize,
    filters: { scopes: o.scopes, origins: o.origins, scenariosContaining: o.scenariosContaining, scenariosNotContaining: o.scenariosNotContaining },
    fallbackRemediation,
    failOpen: o.failOpen ?? true,
    failClosedRemediation,
    trustedProxies: o.trustedProxies ?? [],
    realIpHeader: header as RealIpHeader,
    captchaLifetimeMs: durationMs(o.captcha?.lifetime, '1h', names('captcha.lifetime')),
    usageMetricsIntervalMs,
    name: o.name ?? 'vigil-bouncer',
  };
}

/** Warnings and errors to stderr, one line each; the library is quiet otherwise. */
export const stderrLogger: BouncerLogger = {
  debug() {},
  info() {},
  warn(_obj, msg) {
    process.stderr.write(`vigil-bouncer level=warning msg=${JSON.stringify(msg)}\n`);
  },
  error(_obj, msg) {
    process.stderr.write(`vigil-bouncer level=error msg=${JSON.stringify(msg)}\n`);
  },
};
