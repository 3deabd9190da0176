/**
 * The client's real address behind reverse proxies. A forwarding header is read only when the
 * TCP peer is a configured trusted proxy, and then from the right: each trusted hop is skipped and
 * the first untrusted address is the client. Anything to its left was written by the client itself
 * and is ignored, so an untrusted client cannot choose its address. Pure.
 *
 * One header is configured, never several: a proxy that sets X-Forwarded-For passes a client's own
 * `Forwarded` header through untouched, so reading both would let the client speak.
 */
import { VigilError } from '../lib/errors.ts';
import { compareWords, parseRange, type IpFamily } from '../lib/ip.ts';
import { parseAddressInto } from './decision-cache.ts';

export const REAL_IP_HEADERS = ['x-forwarded-for', 'forwarded', 'x-real-ip'] as const;
export type RealIpHeader = (typeof REAL_IP_HEADERS)[number];

/** A compiled list of trusted proxy addresses and ranges (`127.0.0.1`, `10.0.0.0/8`, `::1`). */
export class TrustedProxies {
  readonly #v4: { first: number; last: number }[] = [];
  readonly #v6: { first: readonly number[]; last: readonly number[] }[] = [];
  readonly #scratch = new Uint32Array(4);
  readonly size: number;

  constructor(list: readonly string[], field = 'trusted_proxies') {
    for (const [i, text] of list.entries()) {
      const t = text.trim();
      let r: ReturnType<typeof parseRange>;
      try {
        r = parseRange(t.includes('/') ? t : `${t}/${t.includes(':') ? 128 : 32}`);
      } catch {
        throw new VigilError('E_CONFIG', `${field}[${i}] ${JSON.stringify(text)}: not an IP address or CIDR range; use e.g. 127.0.0.1, 10.0.0.0/8 or ::1`);
      }
      if (r.family === 4) this.#v4.push({ first: r.first[0], last: r.last[0] });
      else this.#v6.push({ first: r.first, last: r.last });
    }
    this.size = list.length;
  }

  /** Whether an address (as words) is a trusted proxy. */
  has(family: IpFamily, words: ArrayLike<number>): boolean {
    if (family === 4) {
      const w = words[0];
      for (const r of this.#v4) if (w >= r.first && w <= r.last) return true;
      return false;
    }
    const ws = [words[0], words[1], words[2], words[3]];
    for (const r of this.#v6) if (compareWords(r.first, ws) <= 0 && compareWords(ws, r.last) <= 0) return true;
    return false;
  }

  // The last answer: behind a proxy, every request comes from the same few peers.
  #lastText: string | undefined;
  #lastAnswer = false;

  /** Whether an address text is a trusted proxy (false when it is not an address). */
  hasText(text: string): boolean {
    if (text === this.#lastText) return this.#lastAnswer;
    const family = parseAddressInto(text, this.#scratch);
    const answer = family !== 0 && this.has(family, this.#scratch);
    this.#lastText = text;
    this.#lastAnswer = answer;
    return answer;
  }
}

/**
 * The address inside one forwarding-header element: `192.0.2.1`, `192.0.2.1:8080`, `[2001:db8::1]`,
 * `[2001:db8::1]:443`, or (Forwarded) `for="[2001:db8::1]:443"`, `for=192.0.2.1`. Returns the bare
 * address text, possibly not an address at all (`unknown`, `_hidden`), which the caller refuses.
 */
export function addressOfElement(element: string): string {
  let s = element.trim();
  if (s.length >= 2 && s.startsWith('"') && s.endsWith('"')) s = s.slice(1, -1);
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    return close === -1 ? s : s.slice(1, close);
  }
  // IPv4 with a port: exactly one colon. (Bare IPv6 has at least two.)
  const colon = s.indexOf(':');
  if (colon !== -1 && colon === s.lastIndexOf(':') && s.includes('.')) return s.slice(0, colon);
  return s;
}

/** The `for=` parameter of one `Forwarded` element (RFC 7239), or '' when it has none. */
function forwardedFor(element: string): string {
  for (const pair of element.split(';')) {
    const eq = pair.indexOf('=');
    if (eq === -1) continue;
    if (pair.slice(0, eq).trim().toLowerCase() === 'for') return pair.slice(eq + 1);
  }
  return '';
}

/** Header values as node gives them: a repeated header is an array (or already joined with ", "). */
export type HeaderValue = string | readonly string[] | undefined;

/**
 * The client address for a request from `peer` carrying `value` in the configured header. Returns
 * the address text (as written; parse it to normalise), or null when the walk reaches an element
 * that is not an address: that request is refused rather than attributed to a guess.
 */
export function resolveClientIp(peer: string, header: RealIpHeader, value: HeaderValue, trusted: TrustedProxies): string | null {
  if (trusted.size === 0 || value === undefined || !trusted.hasText(peer)) return peer;
  const joined = typeof value === 'string' ? value : value.join(',');
  if (joined.trim() === '') return peer;
  // Walk the elements from the right, in place: every request behind a proxy comes through here.
  let client = peer;
  let end = joined.length;
  for (;;) {
    const comma = joined.lastIndexOf(',', end - 1);
    const element = joined.slice(comma + 1, end);
    const hop = addressOfElement(header === 'forwarded' ? forwardedFor(element) : element);
    const family = parseAddressInto(hop, probe);
    if (family === 0) return null;
    if (!trusted.has(family, probe)) return hop;
    client = hop;
    if (comma === -1) break;
    end = comma;
  }
  // Every hop was a trusted proxy: the leftmost one is where the request came from.
  return client;
}

/** Scratch words for the walk (single-threaded, and nothing in the walk re-enters it). */
const probe = new Uint32Array(4);
