import { dbOf, dialectOf } from './store-db.ts';
import crypto from 'node:crypto';
import type { Kysely, Selectable, Transaction } from 'kysely';
import type { Store } from './store.ts';
import type { Database, NotifyTables } from './schema.ts';
import type { StoreDialect } from './dialects/store-dialect.ts';
import { VigilError } from '../lib/errors.ts';
import type { Announced, IssueNotifyState } from '../core/notify/plan.ts';
import { matchesSomething, type Acknowledgement, type Silence } from '../core/notify/silences.ts';
import type { Schedule } from '../core/notify/schedule.ts';
import type { MessageContent, NotifyEvent } from '../core/notify/types.ts';
import { readInChunks } from './in-chunks.ts';

/** Migration 004's tables, as Kysely sees them (kept here, beside the only code that uses them). */

export type NotifyDb = Kysely<Database>;
export type NotifyTrx = Transaction<Database>;
type OutboxRow = Selectable<NotifyTables['notify_outbox']>;

export type OutboxStatus = 'pending' | 'sent' | 'failed';

export interface OutboxMessage {
  id: number;
  deliveryId: string;
  channel: string;
  event: NotifyEvent;
  content: MessageContent;
  createdAt: number;
  status: OutboxStatus;
  attempts: number;
  nextAttemptAt: number;
  leaseOwner: string | null;
  leaseUntil: number | null;
  lastError: string | null;
  answer: string | null;
  sentAt: number | null;
}

function toOutbox(r: OutboxRow): OutboxMessage {
  return {
    id: Number(r.id),
    deliveryId: r.delivery_id,
    channel: r.channel,
    event: r.event as NotifyEvent,
    content: JSON.parse(r.content) as MessageContent,
    createdAt: Number(r.created_at),
    status: r.status as OutboxStatus,
    attempts: Number(r.attempts),
    nextAttemptAt: Number(r.next_attempt_at),
    leaseOwner: r.lease_owner,
    leaseUntil: r.lease_until === null ? null : Number(r.lease_until),
    lastError: r.last_error,
    answer: r.answer,
    sentAt: r.sent_at === null ? null : Number(r.sent_at),
  };
}

function toSilence(r: Selectable<NotifyTables['notify_silences']>): Silence {
  return {
    id: Number(r.id),
    issueId: r.issue_id === null ? null : Number(r.issue_id),
    bouncerName: r.bouncer_name,
    reason: r.reason,
    createdBy: r.created_by,
    createdAt: Number(r.created_at),
    startsAt: Number(r.starts_at ?? r.created_at),
    endsAt: Number(r.ends_at),
    removedAt: r.removed_at === null ? null : Number(r.removed_at),
    kind: r.issue_kind,
    machineName: r.machine_name,
    labels: r.labels === null ? null : (JSON.parse(r.labels) as Record<string, string>),
    schedule: r.schedule === null ? null : (JSON.parse(r.schedule) as Schedule),
  };
}

function toAck(r: Selectable<NotifyTables['notify_acks']>): Acknowledgement {
  return { issueId: Number(r.issue_id), reason: r.reason, createdBy: r.created_by, createdAt: Number(r.created_at) };
}

// Arbitrary constant naming "the notification planner" among PostgreSQL advisory locks.
const PLANNER_LOCK = 0x76_69_67_6e; // 'vign'
// A receiver's answer or an error, as kept in the outbox: enough to diagnose, never a disk filler.
const TEXT_KEPT = 500;

/** The notification tables (outbox, states, silences, acknowledgements), through the store's own Kysely instance. */
export class NotifyStore {
  readonly db: NotifyDb;
  readonly #dialect: StoreDialect;

  constructor(store: Store) {
    this.db = dbOf(store);
    this.#dialect = dialectOf(store);
  }

  /**
   * Runs `fn` in one transaction that no other replica's planner runs alongside (an advisory
   * lock on PostgreSQL; SQLite already has one writer). What it reads and what it queues are then
   * one consistent step: two replicas never queue the same open twice.
   */
  async planning<T>(fn: (trx: NotifyTrx) => Promise<T>): Promise<T> {
    return await this.db.transaction().execute(async (trx) => {
      await this.#dialect.lockForTransaction(trx, PLANNER_LOCK);
      return await fn(trx);
    });
  }

  // ---------------------------------------------------------------- planner state

  /** Every issue announced on one of `channels` whose resolve is not queued yet. */
  async unresolvedStates(trx: NotifyTrx, channels: string[]): Promise<IssueNotifyState[]> {
    if (channels.length === 0) return [];
    const rows = await trx.selectFrom('notify_issue_state').selectAll().where('resolve_queued_at', 'is', null).where('channel', 'in', channels).execute();
    return rows.map((r) => ({
      channel: r.channel,
      issueId: Number(r.issue_id),
      openQueuedAt: Number(r.open_queued_at),
      remindersQueued: Number(r.reminders_queued),
      resolveQueued: false,
      announced: r.announced_criticality === null ? null : { criticality: r.announced_criticality, cause: r.announced_cause },
      updateQueuedAt: r.update_queued_at === null ? null : Number(r.update_queued_at),
      ackQueued: r.ack_queued_at !== null,
    }));
  }

  async enqueue(trx: NotifyTrx, m: { channel: string; content: MessageContent; now: number }): Promise<{ id: number; deliveryId: string }> {
    const deliveryId = crypto.randomUUID();
    const row = await trx
      .insertInto('notify_outbox')
      .values({
        delivery_id: deliveryId,
        channel: m.channel,
        event: m.content.event,
        content: JSON.stringify(m.content),
        created_at: m.now,
        status: 'pending',
        attempts: 0,
        next_attempt_at: m.now,
        lease_owner: null,
        lease_until: null,
        last_error: null,
        answer: null,
        sent_at: null,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return { id: Number(row.id), deliveryId };
  }

  /** `announced`: what the open told of each issue (criticality, top cause), for later updates. */
  async recordOpened(trx: NotifyTrx, channel: string, issueIds: number[], outboxId: number, now: number, announced?: Map<number, Announced>): Promise<void> {
    if (issueIds.length === 0) return;
    await trx
      .insertInto('notify_issue_state')
      .values(
        issueIds.map((id) => ({
          channel,
          issue_id: id,
          open_outbox_id: outboxId,
          open_queued_at: now,
          reminders_queued: 0,
          resolve_outbox_id: null,
          resolve_queued_at: null,
          announced_criticality: announced?.get(id)?.criticality ?? null,
          announced_cause: announced?.get(id)?.cause ?? null,
          update_queued_at: null,
        })),
      )
      .execute();
  }

  /** Records what the channel now knows of an issue; `queuedAt` null when nothing was sent (adopted). */
  async recordAnnounced(trx: NotifyTrx, channel: string, issueId: number, announced: Announced, queuedAt: number | null): Promise<void> {
    await trx
      .updateTable('notify_issue_state')
      .set({
        announced_criticality: announced.criticality,
        announced_cause: announced.cause,
        ...(queuedAt === null ? {} : { update_queued_at: queuedAt }),
      })
      .where('channel', '=', channel)
      .where('issue_id', '=', issueId)
      .execute();
  }

  async recordResolved(trx: NotifyTrx, channel: string, issueIds: number[], outboxId: number, now: number): Promise<void> {
    if (issueIds.length === 0) return;
    await trx
      .updateTable('notify_issue_state')
      .set({ resolve_outbox_id: outboxId, resolve_queued_at: now })
      .where('channel', '=', channel)
      .where('issue_id', 'in', issueIds)
      .execute();
  }

  async recordAcknowledged(trx: NotifyTrx, channel: string, issueIds: number[], now: number): Promise<void> {
    if (issueIds.length === 0) return;
    await trx.updateTable('notify_issue_state').set({ ack_queued_at: now }).where('channel', '=', channel).where('issue_id', 'in', issueIds).execute();
  }

  async recordReminder(trx: NotifyTrx, channel: string, issueId: number, number: number): Promise<void> {
    await trx.updateTable('notify_issue_state').set({ reminders_queued: number }).where('channel', '=', channel).where('issue_id', '=', issueId).execute();
  }

  /** Forgets delivered messages and finished issue states older than `before`. */
  async prune(before: number): Promise<void> {
    await this.db.deleteFrom('notify_outbox').where('status', '!=', 'pending').where('created_at', '<', before).execute();
    await this.db.deleteFrom('notify_issue_state').where('resolve_queued_at', '<', before).execute();
    await this.db.deleteFrom('notify_silences').where('ends_at', '<', before).execute();
  }

  // ---------------------------------------------------------------- outbox delivery

  /**
   * Takes the oldest pending message of `channel` for `owner` if it is due and nobody holds it:
   * one conditional UPDATE, so of several replicas racing for it exactly one gets a row back
   * (PostgreSQL re-checks the lease condition on the row it waited for). Per-channel FIFO: a
   * message that must wait (backoff) holds back the ones behind it, so a resolve never overtakes
   * its open.
   */
  async claimHead(channel: string, owner: string, now: number, leaseMs: number): Promise<OutboxMessage | undefined> {
    const row = await this.db
      .updateTable('notify_outbox')
      .set((eb) => ({ lease_owner: owner, lease_until: now + leaseMs, attempts: eb('attempts', '+', 1) }))
      .where('id', '=', (eb) =>
        eb.selectFrom('notify_outbox').select('id').where('channel', '=', channel).where('status', '=', 'pending').orderBy('id').limit(1),
      )
      .where('status', '=', 'pending')
      .where('next_attempt_at', '<=', now)
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', now)]))
      .returningAll()
      .executeTakeFirst();
    return row ? toOutbox(row) : undefined;
  }

  /** Records the outcome only if `owner` still holds the message (its lease was not taken over). */
  async markSent(id: number, owner: string, now: number, answer: string): Promise<boolean> {
    return this.#finish(id, owner, { status: 'sent', sent_at: now, answer: answer.slice(0, TEXT_KEPT), last_error: null });
  }

  async markRetry(id: number, owner: string, nextAttemptAt: number, error: string): Promise<boolean> {
    return this.#finish(id, owner, { next_attempt_at: nextAttemptAt, last_error: error.slice(0, TEXT_KEPT) });
  }

  async markFailed(id: number, owner: string, error: string): Promise<boolean> {
    return this.#finish(id, owner, { status: 'failed', last_error: error.slice(0, TEXT_KEPT) });
  }

  /**
   * Puts `failed` messages back in their channel's queue (`vigil notify retry`), the same rows: the
   * same delivery ids, and their place by id, so they go before anything queued after them. The
   * retry window starts again at `now` (created_at is when the message was last queued).
   */
  async requeueFailed(opts: { channel?: string; id?: number; now: number }): Promise<OutboxMessage[]> {
    let q = this.db
      .updateTable('notify_outbox')
      .set({ status: 'pending', next_attempt_at: opts.now, created_at: opts.now, lease_owner: null, lease_until: null })
      .where('status', '=', 'failed');
    if (opts.channel !== undefined) q = q.where('channel', '=', opts.channel);
    if (opts.id !== undefined) q = q.where('id', '=', opts.id);
    const rows = await q.returningAll().execute();
    return rows.map(toOutbox).sort((a, b) => a.id - b.id);
  }

  async #finish(id: number, owner: string, set: Partial<OutboxRow>): Promise<boolean> {
    const res = await this.db
      .updateTable('notify_outbox')
      .set({ ...set, lease_owner: null, lease_until: null })
      .where('id', '=', id)
      .where('lease_owner', '=', owner)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  async outbox(opts: { status?: OutboxStatus; channel?: string; limit?: number } = {}): Promise<OutboxMessage[]> {
    let q = this.db.selectFrom('notify_outbox').selectAll();
    if (opts.status) q = q.where('status', '=', opts.status);
    if (opts.channel) q = q.where('channel', '=', opts.channel);
    const rows = await q
      .orderBy('id')
      .limit(opts.limit ?? 1000)
      .execute();
    return rows.map(toOutbox);
  }

  /** Channels with messages still to send (a channel removed from the configuration keeps its queue). */
  async pendingByChannel(): Promise<Map<string, number>> {
    const rows = await this.db
      .selectFrom('notify_outbox')
      .select(['channel', (eb) => eb.fn.countAll<number>().as('n')])
      .where('status', '=', 'pending')
      .groupBy('channel')
      .execute();
    return new Map(rows.map((r) => [r.channel, Number(r.n)]));
  }

  // ---------------------------------------------------------------- silences and acknowledgements

  async createSilence(s: Omit<Silence, 'id' | 'removedAt'>): Promise<Silence> {
    if (!matchesSomething(s)) throw new Error('a silence names what it matches: an issue, a bouncer, a kind, a machine or labels');
    const row = await this.db
      .insertInto('notify_silences')
      .values({
        issue_id: s.issueId,
        bouncer_name: s.bouncerName,
        reason: s.reason,
        created_by: s.createdBy,
        created_at: s.createdAt,
        ends_at: s.endsAt,
        removed_at: null,
        starts_at: s.startsAt,
        issue_kind: s.kind,
        machine_name: s.machineName,
        labels: s.labels === null ? null : JSON.stringify(s.labels),
        schedule: s.schedule === null ? null : JSON.stringify(s.schedule),
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toSilence(row);
  }

  /**
   * Silences not ended nor removed, including those that start later or hold only inside a recurring
   * window (check each with silenceActive); with `includeEnded`, every one. Newest first.
   */
  async silences(now: number, opts: { includeEnded?: boolean } = {}, trx?: NotifyTrx): Promise<Silence[]> {
    let q = (trx ?? this.db).selectFrom('notify_silences').selectAll();
    if (!opts.includeEnded) q = q.where('removed_at', 'is', null).where('ends_at', '>', now);
    const rows = await q.orderBy('id', 'desc').execute();
    return rows.map(toSilence);
  }

  async silence(id: number): Promise<Silence | undefined> {
    const row = await this.db.selectFrom('notify_silences').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toSilence(row) : undefined;
  }

  /** Ends a silence now. Refused when it does not exist or already ended. */
  async removeSilence(id: number, now: number): Promise<Silence> {
    const res = await this.db
      .updateTable('notify_silences')
      .set({ removed_at: now })
      .where('id', '=', id)
      .where('removed_at', 'is', null)
      .where('ends_at', '>', now)
      .executeTakeFirst();
    const s = await this.silence(id);
    if (!s) throw new VigilError('E_NO_SILENCE', `silence ${id} doesn't exist (see: vigil issues silences --all)`);
    if (Number(res.numUpdatedRows) === 0)
      throw new VigilError('E_SILENCE_ENDED', `silence ${id} already ended at ${new Date(s.removedAt ?? s.endsAt).toISOString()}`);
    return s;
  }

  /** Acknowledges an issue; acknowledging it again keeps the first acknowledgement. */
  async acknowledge(a: Acknowledgement): Promise<{ ack: Acknowledgement; created: boolean }> {
    const res = await this.db
      .insertInto('notify_acks')
      .values({ issue_id: a.issueId, reason: a.reason, created_by: a.createdBy, created_at: a.createdAt })
      .onConflict((oc) => oc.column('issue_id').doNothing())
      .executeTakeFirst();
    const row = await this.db.selectFrom('notify_acks').selectAll().where('issue_id', '=', a.issueId).executeTakeFirstOrThrow();
    return { ack: toAck(row), created: Number(res.numInsertedOrUpdatedRows ?? 0n) === 1 };
  }

  async acknowledgements(issueIds: number[], trx?: NotifyTrx): Promise<Map<number, Acknowledgement>> {
    const rows = await readInChunks(issueIds, (chunk) => (trx ?? this.db).selectFrom('notify_acks').selectAll().where('issue_id', 'in', chunk).execute());
    return new Map(rows.map((r) => [Number(r.issue_id), toAck(r)]));
  }
}

// The planner's reads live in notify-reads.ts; re-exported for the planner.
export { bouncersByName, issuesByIds, openIssuesIn } from './notify-reads.ts';
