import { z } from 'zod';
import { DEFAULT_PROFILES, type Profile } from '../core/alerts/profiles.ts';
import { parseDuration } from '../lib/duration.ts';
import { VigilError } from '../lib/errors.ts';
import { TrustedProxies } from '../remediation/client-ip.ts';
import { lapiProxyKeys } from './lapi-proxy.ts';

/**
 * The watcher side's keys of vigil.yaml: `api:` (registration, who may delete alerts) and
 * `profiles:` (how an agent's alerts become decisions). docs/local-api.md, "Watchers".
 */
const duration = z.string().meta({ format: 'duration' });

/**
 * Pending (unvalidated) registrations by default (issue 27: 308 registrations from 24 addresses in
 * 22 s made 308 machines). Five per address lets a few agents behind one NAT register; a hundred in
 * all is more than anyone validates by hand.
 */
export const DEFAULT_REGISTRATION = { maxPendingPerAddress: 5, maxPending: 100, pendingExpireAfterMs: 24 * 3600_000 };

export const apiFileSchema = z
  .object({
    auto_registration: z
      .object({
        enabled: z
          .boolean()
          .optional()
          .meta({ description: 'Let machines register already validated with `registration_token` (`cscli lapi register --token`).', default: 'false' }),
        token: z.string().optional().meta({ description: 'The registration token: at least 32 characters; keep the file private.' }),
        allowed_ranges: z
          .array(z.string())
          .optional()
          .meta({ description: 'Addresses or CIDR ranges a machine may auto-register from.', default: '[] (none)' }),
      })
      .strict()
      .optional()
      .meta({ description: "CrowdSec 1.6.3+'s auto-registration of machines." }),
    disable_remote_registration: z
      .boolean()
      .optional()
      .meta({ description: 'Refuse `POST /v1/watchers` from anywhere but 127.0.0.1 and ::1 (403).', default: 'false' }),
    registration: z
      .object({
        max_pending_per_address: z
          .number()
          .int()
          .min(1)
          .optional()
          .meta({
            description: 'Unvalidated machines one address may have registered; past it `POST /v1/watchers` answers 429.',
            default: String(DEFAULT_REGISTRATION.maxPendingPerAddress),
          }),
        max_pending: z
          .number()
          .int()
          .min(1)
          .optional()
          .meta({ description: 'Unvalidated machines in all; past it `POST /v1/watchers` answers 429.', default: String(DEFAULT_REGISTRATION.maxPending) }),
        pending_expire_after: duration
          .optional()
          .meta({ description: 'An unvalidated machine older than this is deleted at the next registration (it never logged in).', default: '24h' }),
      })
      .strict()
      .optional()
      .meta({ description: 'Bounds on machines that registered themselves and wait for validation (README, Security and limits).' }),
    trusted_ips: z.array(z.string()).optional().meta({
      description:
        'Addresses or CIDR ranges, besides 127.0.0.1 and ::1 (as in CrowdSec: not the rest of 127/8), allowed to delete alerts (`DELETE /v1/alerts`).',
      default: '[] (127.0.0.1 and ::1 only)',
    }),
    ...lapiProxyKeys,
  })
  .strict();

const profileSchema = z
  .object({
    name: z.string().min(1),
    filters: z
      .object({
        scopes: z.array(z.string()).optional(),
        remediation: z.boolean().optional(),
        scenarios: z.array(z.string()).optional(),
        origins: z.array(z.string()).optional(),
      })
      .strict()
      .optional(),
    decisions: z.array(z.object({ type: z.string().min(1), duration, scope: z.enum(['Ip', 'Range']).optional() }).strict()).min(1),
    on_success: z.enum(['break', 'continue']).optional(),
  })
  .strict();

export const profilesFileSchema = z.array(profileSchema);

export interface WatcherApiConfig {
  autoRegistration: { enabled: boolean; token: string; allowedRanges: string[] };
  registration: typeof DEFAULT_REGISTRATION;
  disableRemoteRegistration: boolean;
  trustedIps: string[];
  profiles: Profile[];
}

export const MIN_REGISTRATION_TOKEN = 32;

export function loadWatcherApiConfig(
  api: z.infer<typeof apiFileSchema> | undefined,
  profiles: z.infer<typeof profilesFileSchema> | undefined,
  file: string | null,
): WatcherApiConfig {
  const at = (key: string) => (file ? `${file}: ${key}` : key);
  const ar = api?.auto_registration ?? {};
  const enabled = ar.enabled ?? false;
  const token = ar.token ?? '';
  if (enabled && token.length < MIN_REGISTRATION_TOKEN) {
    throw new VigilError(
      'E_CONFIG',
      `${at('api.auto_registration.token')}: ${token.length} characters; use at least ${MIN_REGISTRATION_TOKEN} (e.g. the output of openssl rand -hex 32)`,
    );
  }
  const allowedRanges = ar.allowed_ranges ?? [];
  // Compiled here only to refuse a bad entry at load, naming it.
  new TrustedProxies(allowedRanges, at('api.auto_registration.allowed_ranges'));
  const trustedIps = api?.trusted_ips ?? [];
  new TrustedProxies(trustedIps, at('api.trusted_ips'));
  const loaded: Profile[] = (profiles ?? []).map((p, i) => {
    for (const [j, d] of p.decisions.entries()) {
      const ms = parseDuration(d.duration, at(`profiles[${i}].decisions[${j}].duration`));
      if (ms <= 0) throw new VigilError('E_CONFIG', `${at(`profiles[${i}].decisions[${j}].duration`)}: must be positive, e.g. 4h`);
      if (!/^[a-z][a-z0-9_-]{0,31}$/i.test(d.type)) {
        throw new VigilError('E_CONFIG', `${at(`profiles[${i}].decisions[${j}].type`)} "${d.type}": use ban, captcha or another remediation name`);
      }
    }
    return {
      name: p.name,
      filters: { ...p.filters },
      decisions: p.decisions.map((d) => ({ type: d.type, duration: d.duration, scope: d.scope })),
      onSuccess: p.on_success ?? 'continue',
    };
  });
  const reg = api?.registration ?? {};
  const expire =
    reg.pending_expire_after === undefined
      ? DEFAULT_REGISTRATION.pendingExpireAfterMs
      : parseDuration(reg.pending_expire_after, at('api.registration.pending_expire_after'));
  if (expire <= 0) throw new VigilError('E_CONFIG', `${at('api.registration.pending_expire_after')}: must be positive, e.g. 24h`);
  return {
    autoRegistration: { enabled, token, allowedRanges },
    registration: {
      maxPendingPerAddress: reg.max_pending_per_address ?? DEFAULT_REGISTRATION.maxPendingPerAddress,
      maxPending: reg.max_pending ?? DEFAULT_REGISTRATION.maxPending,
      pendingExpireAfterMs: expire,
    },
    disableRemoteRegistration: api?.disable_remote_registration ?? false,
    trustedIps,
    profiles: profiles === undefined ? [...DEFAULT_PROFILES] : loaded,
  };
}
