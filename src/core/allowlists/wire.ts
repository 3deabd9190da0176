import { itemActive, type Allowlist, type AllowlistItem } from './allowlists.ts';

/**
 * The allowlist objects of CrowdSec's Local API (models.GetAllowlistResponse, AllowlistItem,
 * CheckAllowlistResponse, BulkCheckAllowlistResponse at v1.7.8), key for key. Go's `omitempty`
 * leaves out an empty description, a false console_managed, an empty allowlist_id, and on a check
 * a false `allowlisted` and an empty `reason` (so "not allowlisted" is `{}`). Times are
 * strfmt.DateTime: RFC 3339 to the millisecond, UTC; an item without expiry has Go's zero time.
 */

/** strfmt.DateTime's MarshalJSON / String(): `2006-01-02T15:04:05.000Z`. */
export function strfmtDateTime(ms: number | null): string {
  if (ms === null) return GO_ZERO_TIME;
  return new Date(ms).toISOString();
}

/** Go's zero time.Time as strfmt prints it (CrowdSec's `expiration` of an item that never expires). */
export const GO_ZERO_TIME = '0001-01-01T00:00:00.000Z';

export interface AllowlistItemJson {
  created_at: string;
  description?: string;
  expiration: string;
  value?: string;
}

export interface AllowlistJson {
  allowlist_id?: string;
  console_managed?: true;
  created_at: string;
  description?: string;
  items: AllowlistItemJson[];
  name?: string;
  updated_at: string;
}

export function allowlistItemJson(item: AllowlistItem): AllowlistItemJson {
  const out = { created_at: strfmtDateTime(item.createdAt) } as AllowlistItemJson;
  if (item.comment !== '') out.description = item.comment;
  out.expiration = strfmtDateTime(item.expiresAt);
  if (item.value !== '') out.value = item.value;
  return out;
}

/**
 * One list as `GET /v1/allowlists[/{name}]` answers it. `items` is `[]` without `with_content`;
 * with it, the items still active at `now` (expired ones are skipped, as CrowdSec skips them).
 */
export function allowlistJson(list: Allowlist, items: readonly AllowlistItem[] | null, now: number): AllowlistJson {
  // Built key by key in Go's field order (the generated model's, alphabetical).
  const ordered = {} as AllowlistJson;
  if (list.allowlistId !== '') ordered.allowlist_id = list.allowlistId;
  if (list.fromConsole) ordered.console_managed = true;
  ordered.created_at = strfmtDateTime(list.createdAt);
  if (list.description !== '') ordered.description = list.description;
  ordered.items = items === null ? [] : items.filter((i) => itemActive(i, now)).map(allowlistItemJson);
  if (list.name !== '') ordered.name = list.name;
  ordered.updated_at = strfmtDateTime(list.updatedAt);
  return ordered;
}

/** `GET /v1/allowlists/check/{v}`: `{"allowlisted":true,"reason":"…"}`, or `{}` when not. */
export function checkJson(reasons: readonly string[]): { allowlisted?: true; reason?: string } {
  if (reasons.length === 0) return {};
  const reason = reasons.join(', ');
  return reason === '' ? { allowlisted: true } : { allowlisted: true, reason };
}

/** `POST /v1/allowlists/check`: only the targets some list covers, each with its reasons. */
export function bulkCheckJson(results: readonly { target: string; reasons: readonly string[] }[]): {
  results: { allowlists: string[]; target: string }[];
} {
  return { results: results.filter((r) => r.reasons.length > 0).map((r) => ({ allowlists: [...r.reasons], target: r.target })) };
}
