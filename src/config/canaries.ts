import { z } from 'zod';
import { parseDuration } from '../lib/duration.ts';
import { VigilError } from '../lib/errors.ts';
import { intervalContains, parseIp, parseRange } from '../lib/ip.ts';

/**
 * `canaries:` in vigil.yaml (docs/canaries.md): sites whose enforcement Vigil proves on a schedule
 * by running the `vigil verify` flow unattended, as a documentation address.
 */
const duration = z.string().meta({ format: 'duration' });

export const CANARY_VIAS = ['x-forwarded-for', 'source'] as const;
export type CanaryVia = (typeof CANARY_VIAS)[number];

/** RFC 5737 (TEST-NET-1/2/3) and RFC 3849: addresses no real client has, so a canary ban harms nobody. */
export const DOCUMENTATION_RANGES = ['192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/24', '2001:db8::/32'] as const;
export const DEFAULT_CANARY_ADDRESS = '192.0.2.1';
export const DEFAULT_CANARY_EVERY = '5m';
export const DEFAULT_CANARY_ORIGIN = 'vigil-canary';
/**
 * The longest wait for a canary's pull, and the longest life of its test decision: bouncers enforce
 * the decision for all of it if the run never removes it (a kill -9 during the wait), so it must stay
 * short whatever `timeout:` or the bouncer's cadence say. A bouncer that needs more than 5 min to pull
 * is itself the finding (its `wait` step fails).
 */
export const CANARY_MAX_TIMEOUT_MS = 5 * 60_000;
export const CANARY_MAX_DECISION_MS = 10 * 60_000;

export const canariesFileSchema = z.array(
  z
    .object({
      name: z.string().min(1).max(100).optional().meta({ description: 'Shown in issues and on the dashboard.', default: '`BOUNCER URL`' }),
      url: z.string().meta({ description: 'A URL the bouncer protects (http:// or https://).' }),
      bouncer: z.string().min(1).meta({ description: 'The bouncer that protects it, as named in `vigil bouncers list`: its pull is waited for.' }),
      expect: z
        .enum(['ban', 'captcha'])
        .optional()
        .meta({ description: 'The remediation: `ban` expects 403, `captcha` the challenge page (as `vigil verify --type`).', default: 'ban' }),
      every: duration.optional().meta({ description: 'How often the canary runs.', default: DEFAULT_CANARY_EVERY }),
      address: z.string().optional().meta({
        description: 'The test address: in 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24 or 2001:db8::/32 (documentation ranges).',
        default: DEFAULT_CANARY_ADDRESS,
      }),
      via: z.enum(CANARY_VIAS).optional().meta({
        description:
          'How the address reaches the site: `x-forwarded-for` (a header the site trusts from Vigil) or `source` (the connection is made from that address: loopback targets only, the address assigned to `lo`).',
        default: 'x-forwarded-for',
      }),
      timeout: duration.optional().meta({
        description: "Give up waiting for the bouncer's pull after this long; at most 5m (the test decision lives a little longer, never over 10 min).",
        default: "3 × the bouncer's pull cadence, at least 30s, at most `every` and 5m",
      }),
      origin: z
        .string()
        .min(1)
        .optional()
        .meta({ description: "The test decision's origin; a bouncer with an `origins` filter must list it (or use `cscli`).", default: DEFAULT_CANARY_ORIGIN }),
    })
    .strict(),
);

export interface CanaryConfig {
  name: string;
  url: string;
  bouncer: string;
  expect: 'ban' | 'captcha';
  everyMs: number;
  address: string;
  via: CanaryVia;
  /** null: from the bouncer's cadence at each run. */
  timeoutMs: number | null;
  origin: string;
}

export function isDocumentationAddress(ip: string): boolean {
  const a = parseIp(ip);
  return DOCUMENTATION_RANGES.some((r) => intervalContains(parseRange(r), a));
}

const isLoopbackHost = (host: string) => host === 'localhost' || /^127\./.test(host) || host === '[::1]' || host === '::1';

export function loadCanaries(list: z.infer<typeof canariesFileSchema> | undefined, usedFile: string | null): CanaryConfig[] {
  if (!list) return [];
  const seen = new Set<string>();
  return list.map((c, i) => {
    const where = (key: string) => `${usedFile ?? 'config'}: canaries.${i}.${key}`;
    let u: URL;
    try {
      u = new URL(c.url);
    } catch {
      throw new VigilError('E_CONFIG', `${where('url')} "${c.url}": not a URL; use the http:// or https:// address of a page the bouncer protects`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new VigilError('E_CONFIG', `${where('url')} "${c.url}": use an http:// or https:// URL`);
    const address = c.address ?? DEFAULT_CANARY_ADDRESS;
    let documentation: boolean;
    try {
      documentation = isDocumentationAddress(address);
    } catch {
      throw new VigilError('E_CONFIG', `${where('address')} "${address}": not an IP address; use one in ${DOCUMENTATION_RANGES.join(', ')}, e.g. 192.0.2.1`);
    }
    if (!documentation)
      throw new VigilError(
        'E_CONFIG',
        `${where('address')} "${address}": outside the documentation ranges; a canary decision must never block a real client: use one in ${DOCUMENTATION_RANGES.join(', ')}, e.g. 192.0.2.1`,
      );
    const via = c.via ?? 'x-forwarded-for';
    if (via === 'source' && !isLoopbackHost(u.hostname))
      throw new VigilError(
        'E_CONFIG',
        `${where('via')} source: only for a loopback URL (127.0.0.1, ::1, localhost), ${u.hostname} is not; use via: x-forwarded-for with a proxy that trusts Vigil`,
      );
    const everyMs = parseDuration(c.every ?? DEFAULT_CANARY_EVERY, where('every'));
    if (everyMs < 1000) throw new VigilError('E_CONFIG', `${where('every')} "${c.every}": at least 1s, e.g. 5m`);
    const timeoutMs = c.timeout === undefined ? null : parseDuration(c.timeout, where('timeout'));
    if (timeoutMs !== null && timeoutMs <= 0) throw new VigilError('E_CONFIG', `${where('timeout')} "${c.timeout}": must be more than 0, e.g. 30s`);
    if (timeoutMs !== null && timeoutMs > CANARY_MAX_TIMEOUT_MS)
      throw new VigilError(
        'E_CONFIG',
        `${where('timeout')} "${c.timeout}": at most 5m, because bouncers enforce the canary's test decision until it expires if Vigil dies during the wait; use timeout: 5m or less, or leave it out (3 × the bouncer's pull cadence)`,
      );
    const name = c.name ?? `${c.bouncer} ${c.url}`;
    if (seen.has(name)) throw new VigilError('E_CONFIG', `${where('name')} "${name}": two canaries with this name; give each its own name`);
    seen.add(name);
    return { name, url: c.url, bouncer: c.bouncer, expect: c.expect ?? 'ban', everyMs, address, via, timeoutMs, origin: c.origin ?? DEFAULT_CANARY_ORIGIN };
  });
}
