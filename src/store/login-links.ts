import { dbOf } from './store-db.ts';
import { META_KEYS } from './meta-keys.ts';
import type { Store } from './store.ts';

// One-time dashboard login links (web/login-link.ts), as `vigil_meta` rows: `login_link:SHA256` → expiry (epoch ms).
const PREFIX = META_KEYS.loginLinkPrefix;

/** Stores a link's hash until `expiresAt`, and forgets the links expired by `now` (so unused ones never pile up). */
export async function storeLoginLink(store: Store, tokenSha256: string, expiresAt: number, now: number): Promise<void> {
  const db = dbOf(store);
  const rows = await db.selectFrom('vigil_meta').select(['key', 'value']).where('key', 'like', `${PREFIX}%`).execute();
  const expired = rows.filter((r) => !(Number(r.value) > now)).map((r) => r.key);
  if (expired.length > 0) await db.deleteFrom('vigil_meta').where('key', 'in', expired).execute();
  await db
    .insertInto('vigil_meta')
    .values({ key: `${PREFIX}${tokenSha256}`, value: String(expiresAt) })
    .execute();
}

/**
 * Takes a link: true once, for the first caller before its expiry. One DELETE … RETURNING, so of
 * two replicas (or two clicks) racing for the same link exactly one gets the row.
 */
export async function takeLoginLink(store: Store, tokenSha256: string, now: number): Promise<boolean> {
  const row = await dbOf(store).deleteFrom('vigil_meta').where('key', '=', `${PREFIX}${tokenSha256}`).returning('value').executeTakeFirst();
  return row !== undefined && Number(row.value) > now;
}
