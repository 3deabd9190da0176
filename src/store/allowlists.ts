import type { Selectable } from 'kysely';
import { AllowlistMatcher, decisionsCoveredBy, type Allowlist, type AllowlistItem } from '../core/allowlists/allowlists.ts';
import { VigilError } from '../lib/errors.ts';
import { activeDecisions, softDeleteDecisions } from './decisions.ts';
import { isUniqueViolationError } from './dialects/store-dialect.ts';
import type { AllowlistItemsTable, AllowlistsTable } from './schema.ts';
import { dbOf } from './store-db.ts';
import type { Store } from './store.ts';

// Centralized allowlists (migration 017), as CrowdSec's pkg/database/allowlists.go: lists, their
// items, the check ("is this value allowlisted, and by what?") and the expiry of the active
// decisions an allowlist covers (docs/reference/crowdsec-1.6-1.7.md §3).

export interface NewAllowlistItem {
  value: string;
  comment: string;
  /** Epoch ms, or null: never expires. */
  expiresAt: number | null;
}

export async function createAllowlist(
  store: Store,
  input: { name: string; description: string; now: number; fromConsole?: boolean; allowlistId?: string },
): Promise<Allowlist> {
  try {
    const row = await dbOf(store)
      .insertInto('allowlists')
      .values({
        name: input.name,
        description: input.description,
        allowlist_id: input.allowlistId ?? '',
        from_console: input.fromConsole ? 1 : 0,
        created_at: input.now,
        updated_at: input.now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toAllowlist(row);
  } catch (e) {
    // The unique index decides, so two creators of one name cannot both succeed. CrowdSec's words.
    if (isUniqueViolationError(e)) throw new VigilError('E_ALLOWLIST_EXISTS', `allowlist '${input.name}' already exists`);
    throw e;
  }
}

export async function getAllowlist(store: Store, name: string): Promise<Allowlist | undefined> {
  const row = await dbOf(store).selectFrom('allowlists').selectAll().where('name', '=', name).executeTakeFirst();
  return row ? toAllowlist(row) : undefined;
}

/** The list, or CrowdSec's error (`allowlist 'x' not found`). */
export async function requireAllowlist(store: Store, name: string): Promise<Allowlist> {
  const list = await getAllowlist(store, name);
  if (!list) throw new VigilError('E_NO_ALLOWLIST', `allowlist '${name}' not found`);
  return list;
}

/** Every list, in creation (id) order, as CrowdSec lists them. */
export async function listAllowlists(store: Store): Promise<Allowlist[]> {
  const rows = await dbOf(store).selectFrom('allowlists').selectAll().orderBy('id').execute();
  return rows.map(toAllowlist);
}

/** The items of the given lists (all of them, expired included), in insertion order. */
export async function allowlistItems(store: Store, listIds: readonly number[]): Promise<AllowlistItem[]> {
  if (listIds.length === 0) return [];
  const rows = await dbOf(store)
    .selectFrom('allowlist_items')
    .selectAll()
    .where('allowlist', 'in', [...listIds])
    .orderBy('id')
    .execute();
  return rows.map(toItem);
}

/** Deletes a list and its items in one transaction; false when there was none of that name. */
export async function deleteAllowlist(store: Store, name: string): Promise<boolean> {
  return await dbOf(store)
    .transaction()
    .execute(async (trx) => {
      const list = await trx.selectFrom('allowlists').select('id').where('name', '=', name).executeTakeFirst();
      if (!list) return false;
      await trx.deleteFrom('allowlist_items').where('allowlist', '=', list.id).execute();
      await trx.deleteFrom('allowlists').where('id', '=', list.id).execute();
      return true;
    });
}

/**
 * Adds items to a list (the caller has left out values it already holds and checked the others)
 * and moves its `updated_at`, in one transaction. Returns how many were added.
 */
export async function addAllowlistItems(store: Store, list: Allowlist, items: readonly NewAllowlistItem[], now: number): Promise<number> {
  if (items.length === 0) return 0;
  return await dbOf(store)
    .transaction()
    .execute(async (trx) => {
      for (let i = 0; i < items.length; i += 500) {
        await trx
          .insertInto('allowlist_items')
          .values(
            items.slice(i, i + 500).map((item) => ({
              allowlist: list.id,
              value: item.value,
              comment: item.comment,
              expires_at: item.expiresAt,
              created_at: now,
              updated_at: now,
            })),
          )
          .execute();
      }
      await trx.updateTable('allowlists').set({ updated_at: now }).where('id', '=', list.id).execute();
      return items.length;
    });
}

/** Removes the items of a list whose value is one of `values`; returns how many went. */
export async function removeAllowlistItems(store: Store, list: Allowlist, values: readonly string[], now: number): Promise<number> {
  if (values.length === 0) return 0;
  return await dbOf(store)
    .transaction()
    .execute(async (trx) => {
      const res = await trx
        .deleteFrom('allowlist_items')
        .where('allowlist', '=', list.id)
        .where('value', 'in', [...values])
        .executeTakeFirst();
      const n = Number(res.numDeletedRows);
      if (n > 0) await trx.updateTable('allowlists').set({ updated_at: now }).where('id', '=', list.id).execute();
      return n;
    });
}

/** Every item active at `now`, with its list's name (the matcher's input). */
export async function activeAllowlistEntries(store: Store, now: number): Promise<{ listName: string; item: AllowlistItem }[]> {
  const rows = await dbOf(store)
    .selectFrom('allowlist_items')
    .innerJoin('allowlists', 'allowlists.id', 'allowlist_items.allowlist')
    .selectAll('allowlist_items')
    .select('allowlists.name as list_name')
    .where((eb) => eb.or([eb('allowlist_items.expires_at', 'is', null), eb('allowlist_items.expires_at', '>=', now)]))
    .orderBy('allowlist_items.id')
    .execute();
  return rows.map((r) => ({ listName: r.list_name, item: toItem(r) }));
}

/** Every active item, compiled: one query, then each check only compares. */
export async function allowlistMatcher(store: Store, now: number): Promise<AllowlistMatcher> {
  return new AllowlistMatcher(await activeAllowlistEntries(store, now), now);
}

/**
 * Why `value` (an IP or a range) is allowlisted at `at`: one reason per matching item
 * (`192.168.0.0/16 from office (vpn)`), sorted by list name; empty when it is not. Throws
 * E_BAD_IP / E_BAD_RANGE (CrowdSec's words) for a value that is neither. For the health engine's
 * *Blocking Known Safe IP* and anything else that asks "is this address known safe?".
 */
export async function allowlistMatches(store: Store, value: string, at: number): Promise<string[]> {
  return (await allowlistMatcher(store, at)).reasonsFor(value);
}

/**
 * Expires every active Ip/Range decision an active item covers (CrowdSec's
 * ApplyAllowlistsToExistingDecisions): `until` moves to now, so stream bouncers receive them in
 * `deleted`. Returns how many were expired.
 */
export async function expireAllowlistedDecisions(store: Store, now: number): Promise<number> {
  const matcher = await allowlistMatcher(store, now);
  if (matcher.size === 0) return 0;
  const ids = decisionsCoveredBy(matcher, await activeDecisions(store, now), now);
  return await softDeleteDecisions(store, ids, now);
}

function toAllowlist(r: Selectable<AllowlistsTable>): Allowlist {
  return {
    id: Number(r.id),
    name: r.name,
    description: r.description,
    allowlistId: r.allowlist_id,
    fromConsole: Number(r.from_console) === 1,
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

function toItem(r: Selectable<AllowlistItemsTable>): AllowlistItem {
  return {
    id: Number(r.id),
    allowlistId: Number(r.allowlist),
    value: r.value,
    comment: r.comment,
    expiresAt: r.expires_at === null ? null : Number(r.expires_at),
    createdAt: Number(r.created_at),
  };
}

/**
 * `vigil import crowdsec`'s allowlists, in one transaction: a list Vigil lacks is created as it
 * was (description, Console flag, creation time); a list it has keeps its own details and gains
 * only the values it does not hold. Returns the lists touched and the values added.
 */
export async function insertImportedAllowlists(
  store: Store,
  lists: readonly {
    name: string;
    description: string;
    fromConsole: boolean;
    allowlistId: string;
    createdAt: number;
    items: readonly { value: string; comment: string; expiresAt: number | null; createdAt: number }[];
  }[],
  now: number,
): Promise<{ allowlists: string[]; items: number }> {
  if (lists.length === 0) return { allowlists: [], items: 0 };
  return await dbOf(store)
    .transaction()
    .execute(async (trx) => {
      const out = { allowlists: [] as string[], items: 0 };
      for (const l of lists) {
        let row = await trx.selectFrom('allowlists').select('id').where('name', '=', l.name).executeTakeFirst();
        if (!row) {
          row = await trx
            .insertInto('allowlists')
            .values({
              name: l.name,
              description: l.description,
              allowlist_id: l.allowlistId,
              from_console: l.fromConsole ? 1 : 0,
              created_at: l.createdAt,
              updated_at: now,
            })
            .returning('id')
            .executeTakeFirstOrThrow();
        }
        const listId = Number(row.id);
        const held = new Set((await trx.selectFrom('allowlist_items').select('value').where('allowlist', '=', listId).execute()).map((r) => r.value));
        const fresh = l.items.filter((i) => !held.has(i.value));
        for (let i = 0; i < fresh.length; i += 500) {
          await trx
            .insertInto('allowlist_items')
            .values(
              fresh.slice(i, i + 500).map((item) => ({
                allowlist: listId,
                value: item.value,
                comment: item.comment,
                expires_at: item.expiresAt,
                created_at: item.createdAt,
                updated_at: now,
              })),
            )
            .execute();
        }
        if (fresh.length > 0) await trx.updateTable('allowlists').set({ updated_at: now }).where('id', '=', listId).execute();
        out.allowlists.push(l.name);
        out.items += fresh.length;
      }
      return out;
    });
}
