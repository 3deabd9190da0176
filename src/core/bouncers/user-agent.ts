/**
 * A bouncer's type and version as CrowdSec 1.4.6 derives them from the User-Agent on every
 * authenticated request (wire protocol §2 "How bouncer fields change", §7.8): split on `/`;
 * exactly two parts → type/version, anything else → the whole header as type and `N/A` as version.
 */
export interface ParsedUserAgent {
  type: string;
  version: string;
  /** False when CrowdSec would log `bad user agent '…'` (no slash, several slashes, empty). */
  wellFormed: boolean;
}

/** Pure; `ua` is the request's first User-Agent value (Go's Request.UserAgent()), '' or undefined when absent. */
export function parseUserAgent(ua: string | undefined): ParsedUserAgent {
  const text = ua ?? '';
  const parts = text.split('/');
  if (parts.length === 2) return { type: parts[0], version: parts[1], wellFormed: true };
  // Kept exactly as CrowdSec does, `a/b/c` and `Mozilla/5.0 (X11) foo/1` included: do not "improve".
  return { type: text, version: 'N/A', wellFormed: false };
}
