import { dbOf } from './store-db.ts';
/**
 * Which process owns a store. `vigil serve` keeps bouncers with their keys; `vigil watch` keeps a
 * mirror of CrowdSec's bouncers (without keys) and deletes every row CrowdSec does not have. On one
 * store, watch would delete serve's bouncers (their keys then get 403) and serve would hand out a
 * fleet it cannot authenticate. So the first of them to open a store records itself in
 * `vigil_meta.store_role`, and the other one is refused before it writes anything.
 */
import { META_KEYS } from './meta-keys.ts';
import path from 'node:path';
import { VigilError } from '../lib/errors.ts';
import type { Store } from './store.ts';
import { getMeta } from './meta.ts';

export type StoreRole = 'serve' | 'watch';

export const STORE_ROLE_KEY = META_KEYS.storeRole;

/** The owner recorded in the store, else what its contents say (stores from before the record), else null (unused). */
export async function storeRole(store: Store): Promise<StoreRole | null> {
  const recorded = await getMeta(store, STORE_ROLE_KEY);
  if (recorded === 'serve' || recorded === 'watch') return recorded;
  return await inferRole(store);
}

export async function claimStoreRole(store: Store, role: StoreRole): Promise<void> {
  const recorded = await getMeta(store, STORE_ROLE_KEY);
  const owner = recorded === 'serve' || recorded === 'watch' ? recorded : await inferRole(store);
  if (owner !== null && owner !== role) throw storeRoleError(store.description, owner, role);
  if (recorded === undefined) {
    // Two processes starting at once: the first insert wins and the loser is refused like any other.
    await dbOf(store)
      .insertInto('vigil_meta')
      .values({ key: STORE_ROLE_KEY, value: role })
      .onConflict((oc) => oc.column('key').doNothing())
      .execute();
    const now = await getMeta(store, STORE_ROLE_KEY);
    if (now !== role) throw storeRoleError(store.description, now as StoreRole, role);
  }
}

/**
 * A store written before the role was recorded: a Local API start or a bouncer with a key is
 * serve's; a mirror (bouncers, none with a key) or CrowdSec's runbook settings is watch's.
 */
async function inferRole(store: Store): Promise<StoreRole | null> {
  const db = dbOf(store);
  const keyed = await db.selectFrom('bouncers').select('id').where('api_key_hash', '<>', '').limit(1).executeTakeFirst();
  const started = await db.selectFrom('lapi_starts').select('id').limit(1).executeTakeFirst();
  if (keyed || started) return 'serve';
  const mirrored = await db.selectFrom('bouncers').select('id').limit(1).executeTakeFirst();
  const runbook = await getMeta(store, META_KEYS.runbookSettings);
  if (mirrored || (runbook !== undefined && /"cli"\s*:\s*"cscli"/.test(runbook))) return 'watch';
  return null;
}

export function storeRoleError(description: string, owner: StoreRole, wanted: StoreRole): VigilError {
  const what = owner === 'serve' ? "vigil serve's (its bouncers and their keys)" : "vigil watch's (its mirror of CrowdSec's bouncers, without keys)";
  const harm = wanted === 'watch' ? "watch would delete serve's bouncers and their keys would get 403" : 'serve would not recognise any key of these bouncers';
  return new VigilError(
    'E_STORE_ROLE',
    `store ${description} is ${what}: ${harm}; give vigil ${wanted} a store of its own, e.g. --db ${otherStore(description, wanted)}`,
  );
}

function otherStore(description: string, wanted: StoreRole): string {
  const file = wanted === 'watch' ? 'watch.db' : 'vigil.db';
  if (description.startsWith('sqlite:')) {
    const current = description.slice('sqlite:'.length);
    const dir = path.dirname(current);
    const candidate = path.join(dir, file);
    return `sqlite:${candidate === path.resolve(current) ? path.join(dir, `${wanted}-${file}`) : candidate}`;
  }
  return `postgres://USER:PASSWORD@HOST:5432/${wanted === 'watch' ? 'vigil_watch' : 'vigil'}`;
}
