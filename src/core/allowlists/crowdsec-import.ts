import { parseBool, parseCrowdsecTime, text } from '../model/crowdsec-bouncer.ts';
import { tryParseIpOrRange } from '../../lib/ip.ts';

/**
 * CrowdSec 1.6.6+'s allowlists as `vigil import crowdsec` copies them: each list with its items
 * still active at `now` (expired ones are dropped, as CrowdSec ignores them). Rows come from
 * `allow_lists`, `allow_list_items` and the edge table joining them; a CrowdSec without those
 * tables gives none. Pure: rows in, lists and the rows left out (with why) out.
 */
export interface ImportedAllowlist {
  name: string;
  description: string;
  fromConsole: boolean;
  allowlistId: string;
  createdAt: number;
  items: { value: string; comment: string; expiresAt: number | null; createdAt: number }[];
}

export function planAllowlistImport(
  rows: { allowlists?: Record<string, unknown>[]; allowlistItems?: Record<string, unknown>[]; allowlistLinks?: Record<string, unknown>[] },
  now: number,
): { allowlists: ImportedAllowlist[]; skipped: string[] } {
  const skipped: string[] = [];
  const byId = new Map<string, ImportedAllowlist>();
  const lists: ImportedAllowlist[] = [];
  for (const r of rows.allowlists ?? []) {
    const name = text(r.name);
    if (!name) {
      skipped.push('allowlist without a name');
      continue;
    }
    const list: ImportedAllowlist = {
      name,
      description: text(r.description),
      fromConsole: parseBool(r.from_console),
      allowlistId: text(r.allowlist_id),
      createdAt: parseCrowdsecTime(r.created_at) ?? now,
      items: [],
    };
    byId.set(text(r.id), list);
    lists.push(list);
  }
  const listOfItem = new Map<string, ImportedAllowlist>();
  for (const l of rows.allowlistLinks ?? []) {
    const list = byId.get(text(l.allow_list_id));
    if (list) listOfItem.set(text(l.allow_list_item_id), list);
  }
  let expired = 0;
  for (const r of rows.allowlistItems ?? []) {
    const value = text(r.value);
    const list = listOfItem.get(text(r.id));
    if (!list) continue;
    const expiresAt = parseCrowdsecTime(r.expires_at);
    if (expiresAt !== null && expiresAt < now) {
      expired++;
      continue;
    }
    if (tryParseIpOrRange(value) === null) {
      skipped.push(`allowlist ${list.name}: value "${value}" is neither an IP nor a range`);
      continue;
    }
    if (list.items.some((i) => i.value === value)) continue;
    list.items.push({ value, comment: text(r.comment), expiresAt, createdAt: parseCrowdsecTime(r.created_at) ?? now });
  }
  if (expired > 0) skipped.push(`${expired} expired allowlist value(s): nothing to allow`);
  return { allowlists: lists, skipped };
}
