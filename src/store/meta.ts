import crypto from 'node:crypto';
import { dbOf } from './store-db.ts';
import { VigilError } from '../lib/errors.ts';
import type { Store } from './store.ts';

// Vigil's own settings and secrets (`vigil_meta`; the keys are named in meta-keys.ts).

export async function getMeta(store: Store, key: string): Promise<string | undefined> {
  return (await dbOf(store).selectFrom('vigil_meta').select('value').where('key', '=', key).executeTakeFirst())?.value;
}

/** Writes a meta row unless one exists: replicas racing on a first value agree on the winner's. */
export async function setMetaIfAbsent(store: Store, key: string, value: string): Promise<void> {
  await dbOf(store)
    .insertInto('vigil_meta')
    .values({ key, value })
    .onConflict((oc) => oc.column('key').doNothing())
    .execute();
}

export async function setMeta(store: Store, key: string, value: string): Promise<void> {
  await dbOf(store)
    .insertInto('vigil_meta')
    .values({ key, value })
    .onConflict((oc) => oc.column('key').doUpdateSet({ value }))
    .execute();
}

/** A random per-installation secret (shared by replicas through the store), created on first use. */
export async function secret(store: Store, name: string): Promise<Buffer> {
  const key = `secret:${name}`;
  const found = await getMeta(store, key);
  if (found !== undefined) return Buffer.from(found, 'hex');
  await setMetaIfAbsent(store, key, crypto.randomBytes(32).toString('hex'));
  const value = await getMeta(store, key);
  if (value === undefined) throw new VigilError('E_DB_SCHEMA', `store: secret ${name} could not be read back after it was written; check the vigil_meta table`);
  return Buffer.from(value, 'hex');
}
