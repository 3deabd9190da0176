import type { Bouncer } from '../model/records.ts';

/**
 * Which row of a shared API key a request is, as CrowdSec 1.6.4+ decides it
 * (`authPlain` in cs pkg/apiserver/middlewares/v1/api_key.go@v1.7.8; docs/reference/crowdsec-1.6-1.7.md §1):
 * a HEAD only checks the key (any row, nothing updated); otherwise the row of (key, client IP), else
 * the key's only row while it has no address yet (claimed), else a new `BASE@IP` row.
 */
export type KeyRowChoice =
  | { use: Bouncer }
  | { claim: Bouncer }
  | { create: string }
  /** No row with that key (or only rows that are not API-key rows). */
  | { none: true };

/** The refusal of a new address once the key has `limits.max_instances_per_key` rows (issue 27). */
export const TOO_MANY_INSTANCES = 'too-many-instances';

/**
 * `limits.max_instances_per_key` by default: rows (addresses) one API key may have. A leaked key
 * from 7,177 addresses made 7,177 rows in 2 minutes; a fleet beyond a thousand nodes on one key
 * raises it (README, Security and limits).
 */
export const DEFAULT_MAX_INSTANCES_PER_KEY = 1_000;

/** `rows`: every row with the key's hash, oldest first. */
export function chooseKeyRow(rows: readonly Bouncer[], peer: string, method: string): KeyRowChoice {
  const keyRows = rows.filter((b) => b.authType === 'api-key');
  if (keyRows.length === 0) return { none: true };
  const mine = keyRows.find((b) => b.ipAddress === peer);
  if (method === 'HEAD') return { use: mine ?? keyRows[0]! };
  if (mine) return { use: mine };
  // CrowdSec looks at every row of the hash here (TLS rows carry random hashes, so they never share one).
  if (rows.length === 1 && rows[0]!.ipAddress === '') return { claim: rows[0]! };
  return { create: childName(rows[0]!.name, peer) };
}

/**
 * The name of a shared key's row for a new address: the base name (before the first `@`) and the
 * address. CrowdSec before 1.7.1 appended to the first row's whole name, so `a@ip1@ip2` chains
 * appeared (#3911); 1.7.1's `baseBouncerName` fixed that by cutting at the first `@`, as here.
 */
export function childName(firstName: string, peer: string): string {
  return `${nameBeforeFirstAt(firstName)}@${peer}`;
}

/** `a@ip1@ip2` → `a`, `ops@example.com` → `ops`: CrowdSec's cut, whatever follows the `@`. */
function nameBeforeFirstAt(name: string): string {
  const at = name.indexOf('@');
  return at < 0 ? name : name.slice(0, at);
}

/**
 * Whether the key is refused as revoked for this row: the row itself, or the key's own
 * (operator-made) row. Revoking a shared key's parent must not leave a door open through a
 * child created later from another address.
 */
export function keyRevoked(rows: readonly Bouncer[], row: Bouncer): boolean {
  return row.revoked || rows.some((b) => b.revoked && !b.autoCreated && b.authType === 'api-key');
}
