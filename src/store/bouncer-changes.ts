import type { BouncerChange } from '../core/model/records.ts';
import { bookkeepingTransaction, dbOf } from './store-db.ts';
import type { Store } from './store.ts';

// Changes of a bouncer's address, type or version (migration 002): an issue notes a change just before a silence.

export async function recordBouncerChanges(store: Store, changes: BouncerChange[]): Promise<void> {
  if (changes.length === 0) return;
  await bookkeepingTransaction(store, async (trx) => {
    await trx
      .insertInto('bouncer_changes')
      .values(
        changes.map((c) => ({ bouncer_id: c.bouncerId, at: c.at, field: c.field, old_value: c.oldValue.slice(0, 256), new_value: c.newValue.slice(0, 256) })),
      )
      .execute();
  });
}

export async function bouncerChanges(store: Store, since: number): Promise<BouncerChange[]> {
  const rows = await dbOf(store).selectFrom('bouncer_changes').selectAll().where('at', '>=', since).orderBy('at').execute();
  return rows.map((r) => ({
    bouncerId: Number(r.bouncer_id),
    at: Number(r.at),
    field: r.field as BouncerChange['field'],
    oldValue: r.old_value,
    newValue: r.new_value,
  }));
}
