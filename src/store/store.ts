import crypto from 'node:crypto';
import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import { VigilError } from '../errors.ts';
import type { Alert, AlertWithDecisions, Bouncer, BouncerKind, Decision, RefusedRequest } from './types.ts';
import type { AlertsTable, BouncersTable, Database, DecisionsTable, RefusedRequestsTable } from './schema.ts';
import { openDatabase, parseStoreUrl, type OpenedDatabase } from './database.ts';
import type { Dialect } from './dialect.ts';

/** What a burst of authenticated requests changed about one bouncer (written in batches). */
export interface BouncerActivity {
  id: number;
  lastPullAt?: number;
  lastPullRev?: number;
  lastRequestAt?: number;
  ipAddress?: string;
  type?: string;
  version?: string;
}

export type NewDecision = Omit<Decision, 'id' | 'alertId' | 'deletedAt'>;
export type NewAlert = Omit<Alert, 'id'>;
export type NewRefusedRequest = Omit<RefusedRequest, 'id'>;

/** Keep the refused-request record bounded: enough to explain a silence, never a disk filler. */
export const REFUSED_REQUESTS_KEPT = 10_000;

// SQLite allows 32766 bound variables per statement and PostgreSQL 65535; 12 columns × 1000 rows fits both.
const INSERT_CHUNK = 1000;

export class Store {
  readonly db: Kysely<Database>;
  readonly dialect: Dialect;
  readonly description: string;

  constructor(opened: OpenedDatabase, description: string) {
    this.db = opened.db;
    this.dialect = opened.dialect;
    this.description = description;
  }

  static async open(url: string): Promise<Store> {
    const location = parseStoreUrl(url);
    const opened = await openDatabase(location);
    const description = location.dialect === 'sqlite' ? `sqlite:${location.target}` : redact(location.target);
    return new Store(opened, description);
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }

  // ---------------------------------------------------------------- bouncers

  async createBouncer(input: { name: string; apiKeyHash: string; now: number; authType?: 'api-key' | 'tls' }): Promise<Bouncer> {
    return await this.db.transaction().execute(async (trx) => {
      const existing = await trx.selectFrom('bouncers').select('id').where('name', '=', input.name).executeTakeFirst();
      if (existing) {
        throw new VigilError('E_BOUNCER_EXISTS', `unable to create bouncer: bouncer ${input.name} already exists`);
      }
      const row = await trx
        .insertInto('bouncers')
        .values({
          name: input.name,
          api_key_hash: input.apiKeyHash,
          revoked: 0,
          ip_address: '',
          type: '',
          version: '',
          auth_type: input.authType ?? 'api-key',
          created_at: input.now,
          updated_at: input.now,
          last_pull_at: null,
          last_pull_rev: null,
          last_request_at: null,
          kind_override: null,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return toBouncer(row);
    });
  }

  async listBouncers(): Promise<Bouncer[]> {
    const rows = await this.db.selectFrom('bouncers').selectAll().orderBy('id').execute();
    return rows.map(toBouncer);
  }

  async getBouncer(name: string): Promise<Bouncer | undefined> {
    const row = await this.db.selectFrom('bouncers').selectAll().where('name', '=', name).executeTakeFirst();
    return row ? toBouncer(row) : undefined;
  }

  async findBouncerByKeyHash(apiKeyHash: string): Promise<Bouncer | undefined> {
    const row = await this.db
      .selectFrom('bouncers')
      .selectAll()
      .where('api_key_hash', '=', apiKeyHash)
      .orderBy('id')
      .executeTakeFirst();
    return row ? toBouncer(row) : undefined;
  }

  /** Deletes every named bouncer or none: an unknown name fails the whole call. */
  async deleteBouncers(names: string[]): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      for (const name of names) {
        const res = await trx.deleteFrom('bouncers').where('name', '=', name).executeTakeFirst();
        if (Number(res.numDeletedRows) === 0) {
          throw new VigilError('E_NO_BOUNCER', `unable to delete bouncer '${name}': bouncer doesn't exist`);
        }
      }
    });
  }

  async setBouncerRevoked(name: string, revoked: boolean, now: number): Promise<void> {
    const res = await this.db
      .updateTable('bouncers')
      .set({ revoked: revoked ? 1 : 0, updated_at: now })
      .where('name', '=', name)
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) === 0) throw noBouncer(name);
  }

  async setBouncerKind(name: string, kind: BouncerKind | null, now: number): Promise<void> {
    const res = await this.db
      .updateTable('bouncers')
      .set({ kind_override: kind, updated_at: now })
      .where('name', '=', name)
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) === 0) throw noBouncer(name);
  }

  /** Bouncers idle since before `cutoff` (never-pulled ones count from registration), as cscli prune selects them. */
  async staleBouncers(cutoff: number): Promise<Bouncer[]> {
    const rows = await this.db
      .selectFrom('bouncers')
      .selectAll()
      .where((eb) =>
        eb.or([
          eb('last_pull_at', '<', cutoff),
          eb.and([eb('last_pull_at', 'is', null), eb('created_at', '<', cutoff)]),
        ]),
      )
      .orderBy('id')
      .execute();
    return rows.map(toBouncer);
  }

  async applyBouncerActivity(batch: BouncerActivity[], now: number): Promise<void> {
    if (batch.length === 0) return;
    await this.db.transaction().execute(async (trx) => {
      for (const a of batch) {
        // Another replica may have recorded a later pull already: times only move forward.
        const greatest = this.dialect === 'postgres' ? 'greatest' : 'max';
        const later = (col: 'last_pull_at' | 'last_request_at', v: number) =>
          sql<number>`${sql.raw(greatest)}(coalesce(${sql.ref(col)}, 0), ${v})`;
        const set: Record<string, unknown> = { updated_at: now };
        if (a.lastPullAt !== undefined) set.last_pull_at = later('last_pull_at', a.lastPullAt);
        if (a.lastPullRev !== undefined) set.last_pull_rev = sql<number>`${sql.raw(greatest)}(coalesce(last_pull_rev, 0), ${a.lastPullRev})`;
        if (a.lastRequestAt !== undefined) set.last_request_at = later('last_request_at', a.lastRequestAt);
        if (a.ipAddress !== undefined) set.ip_address = a.ipAddress;
        if (a.type !== undefined) set.type = a.type;
        if (a.version !== undefined) set.version = a.version;
        const q = trx.updateTable('bouncers').set(set as never).where('id', '=', a.id);
        await q.execute();
      }
    });
  }

  // ---------------------------------------------------------------- decisions

  /** One alert and its decisions in one transaction (an import of 100k rows included). */
  async addDecisions(
    alert: NewAlert,
    decisions: NewDecision[],
    onProgress?: (done: number) => void,
  ): Promise<{ alertId: number; decisionIds: number[] }> {
    return await this.db.transaction().execute(async (trx) => {
      const rev = await nextRev(trx);
      const a = await trx
        .insertInto('alerts')
        .values({
          created_at: alert.createdAt,
          scenario: alert.scenario,
          message: alert.message,
          machine_id: alert.machineId,
          source_scope: alert.sourceScope,
          source_value: alert.sourceValue,
          source_ip: alert.sourceIp,
          events_count: alert.eventsCount,
          leakspeed: alert.leakspeed,
          start_at: alert.startAt,
          stop_at: alert.stopAt,
          simulated: alert.simulated ? 1 : 0,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      const ids: number[] = [];
      for (let i = 0; i < decisions.length; i += INSERT_CHUNK) {
        const chunk = decisions.slice(i, i + INSERT_CHUNK).map((d) => ({
          alert_id: a.id,
          origin: d.origin,
          type: d.type,
          scope: d.scope,
          value: d.value,
          scenario: d.scenario,
          created_at: d.createdAt,
          until: d.until,
          deleted_at: null,
          simulated: d.simulated ? 1 : 0,
          rev,
        }));
        const rows = await trx.insertInto('decisions').values(chunk).returning('id').execute();
        for (const r of rows) ids.push(r.id);
        onProgress?.(ids.length);
      }
      return { alertId: a.id, decisionIds: ids };
    });
  }

  /**
   * Soft-deletes active decisions: `until` moves to now (as CrowdSec does), so stream bouncers
   * receive them under `deleted` with a negative duration. Returns the decisions deleted.
   */
  async softDeleteDecisions(ids: number[], now: number): Promise<number> {
    if (ids.length === 0) return 0;
    return await this.db.transaction().execute(async (trx) => {
      const rev = await nextRev(trx);
      let n = 0;
      for (let i = 0; i < ids.length; i += INSERT_CHUNK) {
        const res = await trx
          .updateTable('decisions')
          .set({ until: now, deleted_at: now, rev })
          .where('id', 'in', ids.slice(i, i + INSERT_CHUNK))
          .where('until', '>', now)
          .executeTakeFirst();
        n += Number(res.numUpdatedRows);
      }
      return n;
    });
  }

  async activeDecisions(now: number): Promise<Decision[]> {
    const rows = await this.db.selectFrom('decisions').selectAll().where('until', '>', now).orderBy('until').orderBy('id').execute();
    return rows.map(toDecision);
  }

  /** Decisions whose expiry is at or before now and still stored (stream startup's `deleted`). */
  async expiredDecisions(now: number, since?: number): Promise<Decision[]> {
    let q = this.db.selectFrom('decisions').selectAll().where('until', '<=', now);
    if (since !== undefined) q = q.where('until', '>=', since);
    const rows = await q.orderBy('until').orderBy('id').execute();
    return rows.map(toDecision);
  }

  async decisionsCreatedAfter(after: number, now: number): Promise<Decision[]> {
    const rows = await this.db
      .selectFrom('decisions')
      .selectAll()
      .where('created_at', '>', after)
      .where('until', '>', now)
      .orderBy('until')
      .orderBy('id')
      .execute();
    return rows.map(toDecision);
  }

  async decisionsRev(): Promise<number> {
    const row = await this.db.selectFrom('vigil_counters').select('value').where('name', '=', 'decisions_rev').executeTakeFirstOrThrow();
    return Number(row.value);
  }

  async decisionsChangedSince(rev: number): Promise<Decision[]> {
    const rows = await this.db.selectFrom('decisions').selectAll().where('rev', '>', rev).orderBy('id').execute();
    return rows.map(toDecision);
  }

  async alertsFor(alertIds: number[]): Promise<Map<number, Alert>> {
    const out = new Map<number, Alert>();
    for (let i = 0; i < alertIds.length; i += INSERT_CHUNK) {
      const rows = await this.db.selectFrom('alerts').selectAll().where('id', 'in', alertIds.slice(i, i + INSERT_CHUNK)).execute();
      for (const r of rows) out.set(r.id, toAlert(r));
    }
    return out;
  }

  /** Groups decisions under their alerts, newest alert first, as `cscli decisions list` shows them. */
  async withAlerts(decisions: Decision[]): Promise<AlertWithDecisions[]> {
    const alertIds = [...new Set(decisions.map((d) => d.alertId).filter((id): id is number => id !== null))];
    const alerts = await this.alertsFor(alertIds);
    const groups = new Map<number, AlertWithDecisions>();
    for (const d of decisions) {
      const alert = d.alertId !== null ? alerts.get(d.alertId) : undefined;
      if (!alert) continue;
      let g = groups.get(alert.id);
      if (!g) groups.set(alert.id, (g = { alert, decisions: [] }));
      g.decisions.push(d);
    }
    return [...groups.values()].sort((a, b) => b.alert.id - a.alert.id);
  }

  /** Forgets decisions expired before `cutoff` (CrowdSec's flush max_age), with their empty alerts. */
  async purgeExpiredDecisions(cutoff: number): Promise<number> {
    const res = await this.db.deleteFrom('decisions').where('until', '<', cutoff).executeTakeFirst();
    await this.db
      .deleteFrom('alerts')
      .where((eb) => eb.not(eb.exists(eb.selectFrom('decisions').select('id').whereRef('decisions.alert_id', '=', 'alerts.id'))))
      .execute();
    return Number(res.numDeletedRows);
  }

  // ---------------------------------------------------------------- refused requests

  async recordRefused(batch: NewRefusedRequest[]): Promise<void> {
    if (batch.length === 0) return;
    await this.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('refused_requests')
        .values(
          batch.map((r) => ({
            at: r.at,
            peer_ip: r.peerIp,
            user_agent: r.userAgent.slice(0, 256),
            method: r.method,
            path: r.path.slice(0, 256),
            reason: r.reason,
            key_fingerprint: r.keyFingerprint,
            bouncer_name: r.bouncerName,
          })),
        )
        .execute();
      const cut = await trx
        .selectFrom('refused_requests')
        .select('id')
        .orderBy('id', 'desc')
        .offset(REFUSED_REQUESTS_KEPT)
        .limit(1)
        .executeTakeFirst();
      if (cut) await trx.deleteFrom('refused_requests').where('id', '<=', cut.id).execute();
    });
  }

  async refusedRequests(opts: { since?: number; limit?: number } = {}): Promise<RefusedRequest[]> {
    let q = this.db.selectFrom('refused_requests').selectAll();
    if (opts.since !== undefined) q = q.where('at', '>=', opts.since);
    const rows = await q.orderBy('id', 'desc').limit(opts.limit ?? 100).execute();
    return rows.map(toRefused);
  }

  // ---------------------------------------------------------------- meta

  /** A random per-installation secret (shared by replicas through the store), created on first use. */
  async secret(name: string): Promise<Buffer> {
    const key = `secret:${name}`;
    const found = await this.db.selectFrom('vigil_meta').select('value').where('key', '=', key).executeTakeFirst();
    if (found) return Buffer.from(found.value, 'hex');
    const value = crypto.randomBytes(32).toString('hex');
    await this.db.insertInto('vigil_meta').values({ key, value }).onConflict((oc) => oc.column('key').doNothing()).execute();
    const row = await this.db.selectFrom('vigil_meta').select('value').where('key', '=', key).executeTakeFirstOrThrow();
    return Buffer.from(row.value, 'hex');
  }
}

async function nextRev(trx: Transaction<Database>): Promise<number> {
  // The row lock taken by this UPDATE orders concurrent writers on PostgreSQL: a replica that
  // has seen rev N can never later miss a commit carrying a rev below N.
  const row = await trx
    .updateTable('vigil_counters')
    .set((eb) => ({ value: eb('value', '+', 1) }))
    .where('name', '=', 'decisions_rev')
    .returning('value')
    .executeTakeFirstOrThrow();
  return Number(row.value);
}

function noBouncer(name: string): VigilError {
  return new VigilError('E_NO_BOUNCER', `bouncer '${name}' doesn't exist (see: vigil bouncers list)`);
}

function redact(url: string): string {
  return url.replace(/(\/\/[^:/@]+:)[^@]*@/, '$1***@');
}

function toBouncer(r: Selectable<BouncersTable>): Bouncer {
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
  };
}

export function toDecision(r: Selectable<DecisionsTable>): Decision {
  return {
    id: Number(r.id),
    alertId: r.alert_id === null ? null : Number(r.alert_id),
    origin: r.origin,
    type: r.type,
    scope: r.scope,
    value: r.value,
    scenario: r.scenario,
    createdAt: Number(r.created_at),
    until: Number(r.until),
    deletedAt: r.deleted_at === null ? null : Number(r.deleted_at),
    simulated: Number(r.simulated) === 1,
  };
}

function toAlert(r: Selectable<AlertsTable>): Alert {
  return {
    id: Number(r.id),
    createdAt: Number(r.created_at),
    scenario: r.scenario,
    message: r.message,
    machineId: r.machine_id,
    sourceScope: r.source_scope,
    sourceValue: r.source_value,
    sourceIp: r.source_ip,
    eventsCount: Number(r.events_count),
    leakspeed: r.leakspeed,
    startAt: Number(r.start_at),
    stopAt: Number(r.stop_at),
    simulated: Number(r.simulated) === 1,
  };
}

function toRefused(r: Selectable<RefusedRequestsTable>): RefusedRequest {
  return {
    id: Number(r.id),
    at: Number(r.at),
    peerIp: r.peer_ip,
    userAgent: r.user_agent,
    method: r.method,
    path: r.path,
    reason: r.reason,
    keyFingerprint: r.key_fingerprint,
    bouncerName: r.bouncer_name,
  };
}
