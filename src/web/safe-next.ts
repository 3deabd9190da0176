/** Where the browser goes after a login: only a page of ours. */

/** Longer than any page of ours needs; a longer `next` is someone else's. */
const MAX_NEXT = 2048;

const BASE = 'http://vigil.invalid';

/**
 * Only our own pages: a `next` from a link or the login form never sends the browser elsewhere, nor
 * puts anything odd in the Location header. Kept only when it is a plain path (and query) under /ui
 * that reads the same once a browser has resolved it: no dot segments (`/ui/../x`, `%2e%2e`), no
 * backslash, control character or space (escaped or not), no escape that is not UTF-8, no scheme or
 * host. Anything else is /ui/.
 */
export function safeNext(next: string | undefined): string {
  if (!next || next.length > MAX_NEXT || !/^\/ui(?:[/?][\x21-\x7e]*)?$/.test(next) || /[\\"<>`]/.test(next)) return '/ui/';
  let resolved: URL;
  try {
    // Escapes must be of UTF-8 text, and of no control character (`%ff`, `%0d%0a`).
    if (/[\x00-\x1f\x7f]/.test(decodeURIComponent(next))) return '/ui/';
    resolved = new URL(next, BASE);
  } catch {
    return '/ui/';
  }
  const same = resolved.origin === BASE && resolved.pathname + resolved.search + resolved.hash === next;
  return same && (resolved.pathname === '/ui' || resolved.pathname.startsWith('/ui/')) ? next : '/ui/';
}
