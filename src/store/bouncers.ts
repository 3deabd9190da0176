import type { Insertable, Selectable } from 'kysely';
import type { Bouncer, BouncerKind } from '../core/model/records.ts';
import { VigilError } from '../lib/errors.ts';
import { nextTurn } from '../lib/turns.ts';
import type { BouncerActivity } from './dialects/store-dialect.ts';
import { idleBefore } from './prune-rule.ts';
import type { BouncersTable } from './schema.ts';
import { dbOf, dialectOf } from './store-db.ts';
import type { Store } from './store.ts';

// Bouncers (remediation components): registered with a key or a certificate, or created by the
// Local API for a shared key's other addresses; their activity is written in batches.

export type { BouncerActivity };

/** Rows per page of a full listing (listBouncers). */
const LIST_PAGE = 1000;

export async function createBouncer(store: Store, input: { name: string; apiKeyHash: string; now: number; authType?: 'api-key' | 'tls' }): Promise<Bouncer> {
  return await dbOf(store)
    .transaction()
    .execute(async (trx) => {
      const existing = await trx.selectFrom('bouncers').select('id').where('name', '=', input.name).executeTakeFirst();
      if (existing) {
        throw new VigilError('E_BOUNCER_EXISTS', `unable to create bouncer: bouncer ${input.name} already exists`);
      }
      // One key, one bouncer: a shared key authenticates as whichever row comes first, so the other
      // never shows a pull and its health is wrong. (Mirrored rows from vigil watch carry no key.)
      if (input.apiKeyHash !== '') {
        const sameKey = await trx.selectFrom('bouncers').select('name').where('api_key_hash', '=', input.apiKeyHash).executeTakeFirst();
        if (sameKey) {
          throw new VigilError(
            'E_KEY_IN_USE',
            `unable to create bouncer: this API key is already used by bouncer ${sameKey.name}; give ${input.name} its own key (omit --key for a random one)`,
          );
        }
      }
      const row = await trx
        .insertInto('bouncers')
        .values(newBouncerRow({ name: input.name, apiKeyHash: input.apiKeyHash, authType: input.authType ?? 'api-key', now: input.now }))
        .returningAll()
        .executeTakeFirstOrThrow();
      return toBouncer(row);
    });
}

/**
 * Every bouncer, oldest first, read in pages with a turn of the event loop between them: the
 * health engine reads them all every 10 s, and 10k rows in one query held a server's loop ~30 ms.
 */
export async function listBouncers(store: Store): Promise<Bouncer[]> {
  const db = dbOf(store);
  const out: Bouncer[] = [];
  for (let after = 0; ; ) {
    const rows = await db.selectFrom('bouncers').selectAll().where('id', '>', after).orderBy('id').limit(LIST_PAGE).execute();
    for (const r of rows) out.push(toBouncer(r));
    if (rows.length < LIST_PAGE) return out;
    after = Number(rows[rows.length - 1]!.id);
    await nextTurn();
  }
}

export async function getBouncer(store: Store, name: string): Promise<Bouncer | undefined> {
  const row = await dbOf(store).selectFrom('bouncers').selectAll().where('name', '=', name).executeTakeFirst();
  return row ? toBouncer(row) : undefined;
}

export async function findBouncerByKeyHash(store: Store, apiKeyHash: string): Promise<Bouncer | undefined> {
  return (await bouncersByKeyHash(store, apiKeyHash))[0];
}

/**
 * Every row of an API key, oldest first: the key's own row and the `NAME@IP` rows the Local API
 * created for its other addresses (key sharing, docs/reference/crowdsec-1.6-1.7.md §1).
 */
export async function bouncersByKeyHash(store: Store, apiKeyHash: string): Promise<Bouncer[]> {
  return (await dialectOf(store).bouncerRowsByKeyHash(apiKeyHash)).map(toBouncer);
}

/**
 * Gives a freshly added key's row (no address yet) its first address, unless someone claimed it
 * first (another request, another replica): written at once, not batched, because the next
 * request from that address is matched by it. Returns the row as it now is.
 */
export async function claimBouncerAddress(store: Store, id: number, ip: string, now: number): Promise<{ claimed: boolean; bouncer: Bouncer | undefined }> {
  // An address is bookkeeping: lost in a crash, the next pull claims it again (dialect: no WAL wait).
  const { claimed, row } = await dialectOf(store).claimBouncerAddress(id, ip, now);
  return { claimed, bouncer: row ? toBouncer(row) : undefined };
}

/**
 * Creates a row the Local API decided on (`NAME@IP` for a shared key, `CN@IP` for a client
 * certificate). The unique name decides a race between requests or replicas: the loser gets the
 * winner's row and `created: false`.
 */
export async function createAutoBouncer(
  store: Store,
  input: { name: string; apiKeyHash: string; ip: string; now: number; authType: 'api-key' | 'tls' },
): Promise<{ created: boolean; bouncer: Bouncer }> {
  const db = dbOf(store);
  const values = newBouncerRow({
    name: input.name,
    apiKeyHash: input.apiKeyHash,
    authType: input.authType,
    now: input.now,
    ipAddress: input.ip,
    autoCreated: true,
  });
  const inserted = await db
    .insertInto('bouncers')
    .values(values)
    .onConflict((oc) => oc.column('name').doNothing())
    .returningAll()
    .executeTakeFirst();
  if (inserted) return { created: true, bouncer: toBouncer(inserted) };
  const row = await db.selectFrom('bouncers').selectAll().where('name', '=', input.name).executeTakeFirstOrThrow();
  return { created: false, bouncer: toBouncer(row) };
}

/**
 * Gives a registered bouncer a new API key (`BOUNCER_KEY_<name>` changed). Its auto-created
 * `NAME@IP` rows of the old key follow it, so the old key opens nothing any more; a key another
 * bouncer uses is refused as `bouncers add` refuses it.
 */
export async function replaceBouncerKey(store: Store, name: string, apiKeyHash: string, now: number): Promise<void> {
  await dbOf(store)
    .transaction()
    .execute(async (trx) => {
      const row = await trx.selectFrom('bouncers').select(['id', 'api_key_hash']).where('name', '=', name).executeTakeFirst();
      if (!row) throw noBouncer(name);
      const sameKey = await trx
        .selectFrom('bouncers')
        .select('name')
        .where('api_key_hash', '=', apiKeyHash)
        .where('api_key_hash', '!=', row.api_key_hash)
        .executeTakeFirst();
      if (sameKey)
        throw new VigilError(
          'E_KEY_IN_USE',
          `unable to change the key of bouncer ${name}: this API key is already used by bouncer ${sameKey.name}; give ${name} its own key`,
        );
      await trx.updateTable('bouncers').set({ api_key_hash: apiKeyHash, updated_at: now }).where('id', '=', row.id).execute();
      if (row.api_key_hash === '') return;
      // By name prefix in code, not LIKE: SQLite and PostgreSQL escape LIKE patterns differently.
      const children = await trx
        .selectFrom('bouncers')
        .select(['id', 'name'])
        .where('api_key_hash', '=', row.api_key_hash)
        .where('auto_created', '=', 1)
        .execute();
      const ids = children.filter((c) => c.name.startsWith(`${name}@`)).map((c) => c.id);
      if (ids.length > 0) await trx.updateTable('bouncers').set({ api_key_hash: apiKeyHash, updated_at: now }).where('id', 'in', ids).execute();
    });
}

/** Deletes every named bouncer or none: an unknown name fails the whole call. */
export async function deleteBouncers(store: Store, names: string[]): Promise<void> {
  await dbOf(store)
    .transaction()
    .execute(async (trx) => {
      for (const name of names) {
        const row = await trx.deleteFrom('bouncers').where('name', '=', name).returning('id').executeTakeFirst();
        if (!row) {
          throw new VigilError('E_NO_BOUNCER', `unable to delete bouncer '${name}': bouncer doesn't exist`);
        }
        await trx.deleteFrom('bouncer_usage_metrics').where('bouncer_id', '=', row.id).execute();
        await trx.deleteFrom('bouncer_probes').where('bouncer_id', '=', row.id).execute();
      }
    });
}

export async function setBouncerRevoked(store: Store, name: string, revoked: boolean, now: number): Promise<void> {
  const res = await dbOf(store)
    .updateTable('bouncers')
    .set({ revoked: revoked ? 1 : 0, updated_at: now })
    .where('name', '=', name)
    .executeTakeFirst();
  if (Number(res.numUpdatedRows) === 0) throw noBouncer(name);
}

export async function setBouncerKind(store: Store, name: string, kind: BouncerKind | null, now: number): Promise<void> {
  const res = await dbOf(store).updateTable('bouncers').set({ kind_override: kind, updated_at: now }).where('name', '=', name).executeTakeFirst();
  if (Number(res.numUpdatedRows) === 0) throw noBouncer(name);
}

/** Bouncers idle since before `cutoff` (never-pulled ones count from registration), as cscli prune selects them. */
export async function staleBouncers(store: Store, cutoff: number): Promise<Bouncer[]> {
  const rows = await dbOf(store).selectFrom('bouncers').selectAll().where(idleBefore('last_pull_at', cutoff)).orderBy('id').execute();
  return rows.map(toBouncer);
}

/** A burst of activity (pulls, requests, addresses) in one transaction; times only move forward. */
export async function applyBouncerActivity(store: Store, batch: BouncerActivity[], now: number): Promise<void> {
  await dialectOf(store).applyBouncerActivity(batch, now);
}

/** The revision of what authenticates bouncers, moved by triggers on every change of it (migration 012). */
export async function bouncersRev(store: Store): Promise<number> {
  const value = await dialectOf(store).counter('bouncers_rev');
  if (value === undefined) throw missingCounter('bouncers_rev');
  return value;
}

export function missingCounter(name: string): VigilError {
  return new VigilError('E_DB_SCHEMA', `store: the ${name} counter is missing; the database was not migrated by this version`);
}

/** A bouncer row as it is first written: never pulled, no cadence, no override. */
export function newBouncerRow(b: {
  name: string;
  apiKeyHash: string;
  authType: 'api-key' | 'tls';
  now: number;
  ipAddress?: string;
  type?: string;
  version?: string;
  revoked?: boolean;
  autoCreated?: boolean;
}): Insertable<BouncersTable> {
  return {
    name: b.name,
    api_key_hash: b.apiKeyHash,
    revoked: b.revoked ? 1 : 0,
    ip_address: b.ipAddress ?? '',
    type: b.type ?? '',
    version: b.version ?? '',
    auth_type: b.authType,
    created_at: b.now,
    updated_at: b.now,
    last_pull_at: null,
    last_pull_rev: null,
    last_request_at: null,
    kind_override: null,
    pull_cadence_ms: null,
    auto_created: b.autoCreated ? 1 : 0,
  };
}

function noBouncer(name: string): VigilError {
  return new VigilError('E_NO_BOUNCER', `bouncer '${name}' doesn't exist (see: vigil bouncers list)`);
}

export function toBouncer(r: Selectable<BouncersTable>): Bouncer {
  return {
    id: Number(r.id),
    name: r.name,
    apiKeyHash: r.api_key_hash,
    revoked: Number(r.revoked) === 1,
    ipAddress: r.ip_address,
    type: r.type,
    version: r.version,
    authType: r.auth_type === 'tls' ? 'tls' : 'api-key',
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
    lastPullAt: r.last_pull_at === null ? null : Number(r.last_pull_at),
    lastPullRev: r.last_pull_rev === null ? null : Number(r.last_pull_rev),
    lastRequestAt: r.last_request_at === null ? null : Number(r.last_request_at),
    kindOverride: r.kind_override === 'firewall' || r.kind_override === 'remediation' ? r.kind_override : null,
    pullCadenceMs: r.pull_cadence_ms === null ? null : Number(r.pull_cadence_ms),
    autoCreated: Number(r.auto_created ?? 0) === 1,
  };
}
