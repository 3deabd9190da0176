import { z } from 'zod';
import { TrustedProxies } from '../remediation/client-ip.ts';

/**
 * The Local API behind a load balancer or reverse proxy (`api.use_forwarded_for_headers`,
 * `api.trusted_proxies`: CrowdSec's `api.server` names; `api.proxy_protocol` for TCP balancers).
 * docs/operations.md § Behind a load balancer.
 */
export interface LapiProxyConfig {
  /** Believe X-Forwarded-For (else X-Real-IP) from a trusted proxy, as CrowdSec's gin ClientIP does. */
  useForwardedForHeaders: boolean;
  /** Read a PROXY protocol v1/v2 header at the start of a connection; believed from a trusted proxy. */
  proxyProtocol: boolean;
  /** Addresses or CIDR ranges whose word on the client address is believed. */
  trustedProxies: string[];
}

/**
 * Loopback only when not given: gin, under CrowdSec, trusts every peer when the list is unset, which
 * lets any client choose its address; a balancer elsewhere is named explicitly.
 */
export const DEFAULT_TRUSTED_PROXIES: readonly string[] = ['127.0.0.1', '::1'];

/** The keys, spread into `api:` (config/watcher-config.ts). */
export const lapiProxyKeys = {
  use_forwarded_for_headers: z.boolean().optional().meta({
    description:
      "Behind an HTTP load balancer or reverse proxy: take the client's address from `X-Forwarded-For` (else `X-Real-IP`) when the peer is in `trusted_proxies`, the first address from the right that is not itself a trusted proxy (CrowdSec's `api.server.use_forwarded_for_headers`). It then names `NAME@IP` rows, refused requests, `trusted_ips` and the registration limits. An untrusted peer's header is ignored.",
    default: 'false',
  }),
  proxy_protocol: z.boolean().optional().meta({
    description:
      "Behind a TCP load balancer (HAProxy `send-proxy`/`send-proxy-v2`, nginx `proxy_protocol on`): read the PROXY protocol header (v1 or v2) at the start of each connection; from a peer in `trusted_proxies` it names the client for everything, the connection limits included. A connection without one is served as is; an untrusted peer's header is dropped and its own address stands.",
    default: 'false',
  }),
  trusted_proxies: z
    .array(z.string())
    .optional()
    .meta({
      description: 'Addresses or CIDR ranges of the load balancers and proxies whose word on the client address is believed (both settings above).',
      default: `[${DEFAULT_TRUSTED_PROXIES.join(', ')}]`,
    }),
};

type ProxyKeys = { use_forwarded_for_headers?: boolean; proxy_protocol?: boolean; trusted_proxies?: string[] };

/** The proxy settings of `api:`; a bad `trusted_proxies` entry is refused at load, naming it. */
export function loadLapiProxy(api: ProxyKeys | undefined, usedFile: string | null): LapiProxyConfig {
  const trustedProxies = api?.trusted_proxies ?? [...DEFAULT_TRUSTED_PROXIES];
  new TrustedProxies(trustedProxies, usedFile ? `${usedFile}: api.trusted_proxies` : 'api.trusted_proxies');
  return { useForwardedForHeaders: api?.use_forwarded_for_headers ?? false, proxyProtocol: api?.proxy_protocol ?? false, trustedProxies };
}
