import { dbOf, dialectOf } from './store-db.ts';
/**
 * Keeps `vigil watch`'s own store in step with what CrowdSec holds: one row per CrowdSec bouncer in
 * the store's `bouncers` table, so everything that reads bouncers from a store (the health columns
 * of `vigil bouncers list`/`inspect`, the admin API, the Prometheus gauges, the runbooks of
 * `vigil issues show`) shows the watched fleet unchanged.
 *
 * Mirrored rows carry no key (`api_key_hash` is empty, which no key's SHA-512 can equal), so even a
 * `vigil serve` pointed at this store by mistake would authenticate none of them. An operator's
 * `vigil bouncers set NAME --kind` survives syncs. IP, type and version changes are recorded as the
 * Local API records them, so an issue notes a change just before a silence.
 */
import type { Store } from './store.ts';
import type { Bouncer, BouncerChange } from '../core/model/records.ts';
import { deleteBouncers, toBouncer } from './bouncers.ts';
import type { CrowdsecBouncer } from '../core/model/crowdsec-bouncer.ts';
import { recordBouncerChanges } from './bouncer-changes.ts';
import { recordUsageMetrics, usageMetricsReceivedAt } from './usage-metrics.ts';

export interface MirrorResult {
  /** The mirrored rows after the sync, by CrowdSec name. */
  byName: Map<string, Bouncer>;
  added: string[];
  removed: string[];
  changes: BouncerChange[];
}

/** Rows per INSERT or UPDATE statement: 500 × 14 values stays far below both databases' parameter limits. */
const CHUNK = 500;

export async function syncMirror(store: Store, bouncers: CrowdsecBouncer[], usageMetricsAt: Map<string, number>, now: number): Promise<MirrorResult> {
  const db = dbOf(store);
  const existing = new Map((await db.selectFrom('bouncers').selectAll().execute()).map((r) => [r.name, toBouncer(r)]));
  const reported = await usageMetricsReceivedAt(store);
  const { seen, changes, byName, inserts, updates } = planMirror(existing, bouncers, now);
  const added: string[] = [];

  await db.transaction().execute(async (trx) => {
    for (let i = 0; i < inserts.length; i += CHUNK) {
      const rows = await trx
        .insertInto('bouncers')
        .values(
          inserts
            .slice(i, i + CHUNK)
            .map((v) => ({ ...v, api_key_hash: '', updated_at: now, last_pull_rev: null, last_request_at: null, kind_override: null, pull_cadence_ms: null })),
        )
        .returningAll()
        .execute();
      for (const r of rows) byName.set(r.name, toBouncer(r));
    }
    await dialectOf(store).updateBouncerRows(trx, updates, now);
  });
  added.push(...inserts.map((v) => v.name));

  const removed = [...existing.keys()].filter((name) => !seen.has(name));
  if (removed.length > 0) await deleteBouncers(store, removed);
  await recordBouncerChanges(store, changes);
  for (const [name, at] of usageMetricsAt) {
    const b = byName.get(name);
    if (b && reported.get(b.id) !== at)
      await recordUsageMetrics(store, b.id, at, {
        source: 'crowdsec',
        note: "reported to CrowdSec's Local API (POST /v1/usage-metrics); Vigil reads only its time",
      });
  }
  return { byName, added, removed, changes };
}

type MirrorValues = { revoked: number; ip_address: string; type: string; version: string; auth_type: string; created_at: number; last_pull_at: number | null };

/** What a sync changes: rows to insert and update, the changes to record, and the rows as they will be. */
function planMirror(existing: Map<string, Bouncer>, bouncers: CrowdsecBouncer[], now: number) {
  const seen = new Set<string>();
  const changes: BouncerChange[] = [];
  const byName = new Map<string, Bouncer>();

  const inserts: Array<MirrorValues & { name: string }> = [];
  const updates: Array<MirrorValues & { id: number }> = [];
  for (const cs of bouncers) {
    if (seen.has(cs.name)) continue; // names are unique in CrowdSec; be safe anyway
    seen.add(cs.name);
    const old = existing.get(cs.name);
    // CrowdSec 1.4 moves created_at with every update of the row (each pull): the registration is the earliest one seen.
    const createdAt = old && old.createdAt > 0 && cs.createdAt > 0 ? Math.min(old.createdAt, cs.createdAt) : cs.createdAt;
    const values: MirrorValues = {
      revoked: cs.revoked ? 1 : 0,
      ip_address: cs.ipAddress,
      type: cs.type,
      version: cs.version,
      auth_type: cs.authType === 'tls' ? 'tls' : 'api-key',
      created_at: createdAt,
      last_pull_at: cs.lastPullAt,
    };
    if (!old) {
      inserts.push({ name: cs.name, ...values });
      continue;
    }
    // Only what the Local API itself would record as a change: a value replacing another one.
    const note = (field: BouncerChange['field'], before: string, after: string) => {
      if (before !== '' && after !== '' && before !== after) changes.push({ bouncerId: old.id, at: now, field, oldValue: before, newValue: after });
    };
    note('ip', old.ipAddress, cs.ipAddress);
    note('type', old.type, cs.type);
    note('version', old.version, cs.version);
    const same =
      old.revoked === cs.revoked &&
      old.ipAddress === cs.ipAddress &&
      old.type === cs.type &&
      old.version === cs.version &&
      old.authType === values.auth_type &&
      old.createdAt === createdAt &&
      old.lastPullAt === cs.lastPullAt;
    if (!same) updates.push({ id: old.id, ...values });
    byName.set(cs.name, {
      ...old,
      revoked: cs.revoked,
      ipAddress: cs.ipAddress,
      type: cs.type,
      version: cs.version,
      authType: values.auth_type as Bouncer['authType'],
      createdAt,
      lastPullAt: cs.lastPullAt,
      updatedAt: same ? old.updatedAt : now,
    });
  }
  return { seen, changes, byName, inserts, updates };
}

/**
 * Moves a mirrored bouncer's registration back to `at` when something older proves it existed (its
 * first request in CrowdSec's access log): 1.4's created_at only says when the row last changed.
 */
export async function lowerMirrorCreatedAt(store: Store, rows: Array<{ id: number; at: number }>): Promise<void> {
  if (rows.length === 0) return;
  const db = dbOf(store);
  await db.transaction().execute(async (trx) => {
    for (const r of rows) await trx.updateTable('bouncers').set({ created_at: r.at }).where('id', '=', r.id).where('created_at', '>', r.at).execute();
  });
}
