/**
 * How a dashboard request looks from the browser's side when a reverse proxy (TLS in front, most
 * often) stands between: the scheme, the host the browser asked for, the client's address. The
 * X-Forwarded-* headers are read only from a trusted proxy (`admin_trusted_proxies`, loopback by
 * default); from any other peer they are ignored, so a client cannot choose what they say. Pure.
 */
import { VigilError } from '../lib/errors.ts';
import { resolveClientIp, type TrustedProxies } from '../remediation/client-ip.ts';
import { foldPeerAddress } from '../lib/ip.ts';

export interface RequestFacts {
  /** The TCP peer, IPv4-mapped IPv6 folded to IPv4 ('' when there is no socket: app.request). */
  peer: string;
  /** The connection itself is TLS (or the URL says https). */
  encrypted: boolean;
  header(name: string): string | undefined;
}

/** The first element of a comma-separated forwarding header: the proxy nearest the browser wrote it. */
function first(value: string | undefined): string | undefined {
  const v = value?.split(',')[0]?.trim();
  return v ? v : undefined;
}

/** The host (and port) the browser asked for. */
export function requestedHost(r: RequestFacts, trusted: TrustedProxies): string {
  const forwarded = trusted.hasText(r.peer) ? first(r.header('x-forwarded-host')) : undefined;
  return forwarded ?? r.header('host') ?? '';
}

/** Whether the browser reached us over HTTPS (then the cookie is Secure). */
export function servedOverHttps(r: RequestFacts, trusted: TrustedProxies): boolean {
  if (r.encrypted) return true;
  if (trusted.hasText(r.peer) && first(r.header('x-forwarded-proto'))?.toLowerCase() === 'https') return true;
  // A browser that says the request is same-origin and comes from an https page is talking https,
  // whatever a minimal proxy config left out. (Both headers are the browser's own: no page sets them.)
  return r.header('sec-fetch-site') === 'same-origin' && /^https:\/\//i.test(r.header('origin') ?? '');
}

/**
 * Whether a state change comes from our own pages. A browser's Sec-Fetch-Site is its own word and
 * survives any proxy rewriting the Host; without it (older browsers), the Origin's host must be the
 * one the browser asked for.
 */
export function fromOwnPages(r: RequestFacts, trusted: TrustedProxies): boolean {
  const origin = r.header('origin');
  if (!origin || origin === 'null') return false;
  const site = r.header('sec-fetch-site');
  if (site !== undefined) return site === 'same-origin';
  try {
    return new URL(origin).host === requestedHost(r, trusted);
  } catch {
    return false;
  }
}

/** The client's address: the peer, or behind trusted proxies the rightmost untrusted X-Forwarded-For hop. */
export function clientAddress(r: RequestFacts, trusted: TrustedProxies): string {
  const value = r.header('x-forwarded-for');
  const client = resolveClientIp(r.peer, 'x-forwarded-for', value, trusted);
  if (client === null) {
    throw new VigilError(
      'E_BAD_FORWARDED_FOR',
      `X-Forwarded-For ${JSON.stringify(value!.slice(0, 100))}: not a list of IP addresses; the proxy in front of the dashboard must send client addresses (nginx: proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for)`,
    );
  }
  return foldPeerAddress(client);
}
