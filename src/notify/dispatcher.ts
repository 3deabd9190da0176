import crypto from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../lib/clock.ts';
import { retryDelay } from '../core/notify/backoff.ts';
import { humanDuration } from '../lib/human-time.ts';
import type { NotifyStore, OutboxMessage } from '../store/notify-store.ts';
import { DeliveryError } from './channels/shared/delivery-error.ts';
import type { Sender } from './channels/shared/sender.ts';
import type { DeliverySettings } from '../core/notify/types.ts';

export interface DispatcherChannel {
  name: string;
  sender: Sender;
  /** Safe to log: masked URL or SMTP host. */
  target: string;
}

/**
 * Sends what the outbox holds. Each channel is its own queue, worked by its own loop, so a dead
 * receiver (timeouts, refused connections) delays only its own messages, never another channel
 * or the health evaluation. Every attempt is bounded by the timeout and held under a lease in the
 * store, so of several replicas exactly one sends a given message, and a replica killed
 * mid-send leaves a lease that runs out and another (or itself, restarted) sends the message
 * again with the same delivery id.
 */
export class Dispatcher {
  readonly owner: string;
  #store: NotifyStore;
  #channels: Map<string, DispatcherChannel>;
  #clock: Clock;
  #log: Logger;
  #settings: DeliverySettings;
  #random: () => number;
  #working = new Map<string, Promise<void>>();
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(opts: {
    store: NotifyStore;
    channels: DispatcherChannel[];
    clock: Clock;
    log: Logger;
    settings: DeliverySettings;
    random?: () => number;
    owner?: string;
  }) {
    this.#store = opts.store;
    this.#channels = new Map(opts.channels.map((c) => [c.name, c]));
    this.#clock = opts.clock;
    this.#log = opts.log;
    this.#settings = opts.settings;
    this.#random = opts.random ?? Math.random;
    this.owner = opts.owner ?? crypto.randomUUID();
  }

  /** Long enough for one bounded attempt plus its bookkeeping; a crashed sender's message waits this long. */
  get leaseMs(): number {
    return 2 * this.#settings.timeoutMs;
  }

  /** How long a message is retried after it was queued (`notifications.give_up_after`). */
  get giveUpAfterMs(): number {
    return this.#settings.giveUpAfterMs;
  }

  /** Polls every `everyMs` (messages queued by other replicas, retries coming due, expired leases). */
  start(everyMs: number): void {
    this.#stopped = false;
    this.#timer = setInterval(() => this.kick(), everyMs);
    this.#timer.unref();
    this.kick();
  }

  /** Stops polling and waits for attempts in flight (each bounded by the timeout). */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.idle();
  }

  /** Starts a worker for every channel that has none running; returns at once. */
  kick(): void {
    if (this.#stopped) return;
    for (const ch of this.#channels.values()) {
      if (this.#working.has(ch.name)) continue;
      const work = this.#work(ch)
        .catch((e) => this.#log.error({ err: e, channel: ch.name }, 'notification dispatch failed; will retry'))
        .finally(() => this.#working.delete(ch.name));
      this.#working.set(ch.name, work);
    }
  }

  /** Resolves when no worker is running. */
  async idle(): Promise<void> {
    while (this.#working.size > 0) await Promise.all([...this.#working.values()]);
  }

  /** Sends everything due now, channel by channel in parallel; for tests and `flush`. */
  async runDue(): Promise<void> {
    this.kick();
    await this.idle();
  }

  async #work(ch: DispatcherChannel): Promise<void> {
    while (!this.#stopped) {
      const m = await this.#store.claimHead(ch.name, this.owner, this.#clock.now(), this.leaseMs);
      if (!m) return;
      await this.#attempt(ch, m);
    }
  }

  async #attempt(ch: DispatcherChannel, m: OutboxMessage): Promise<void> {
    const ctx = { channel: ch.name, target: ch.target, delivery: m.deliveryId, event: m.event, attempt: m.attempts, issues: m.content.issues.map((i) => i.id) };
    let answer: string;
    try {
      answer = await ch.sender.send({ deliveryId: m.deliveryId, channel: m.channel, content: m.content });
    } catch (e) {
      const err = e instanceof DeliveryError ? e : new DeliveryError((e as Error)?.message ?? String(e), false);
      await this.#failedAttempt(ch, m, err, ctx);
      return;
    }
    if (!(await this.#store.markSent(m.id, this.owner, this.#clock.now(), answer))) {
      // Our lease ran out during the attempt and another sender took the message: the receiver may see it twice, with one delivery id.
      this.#log.warn(ctx, `notification delivered to ${ch.name} after its lease ran out; a duplicate with the same delivery id is possible`);
      return;
    }
    this.#log.info({ ...ctx, answer }, `notification delivered to ${ch.name}: ${answer}`);
  }

  /**
   * Retries with backoff until the window (`give_up_after`, from when the message was queued) has
   * passed, even when the receiver refuses outright: a 302 or a 404 is most often a receiver being
   * set up or moved, and the channel must get what it missed once fixed, in order (the message
   * holds the channel's queue meanwhile). The last retry falls on the window's end.
   */
  async #failedAttempt(ch: DispatcherChannel, m: OutboxMessage, err: DeliveryError, ctx: Record<string, unknown>): Promise<void> {
    const now = this.#clock.now();
    const giveUpAt = m.createdAt + this.#settings.giveUpAfterMs;
    if (now >= giveUpAt) {
      await this.#store.markFailed(m.id, this.owner, err.message);
      this.#log.error(
        { ...ctx, answer: err.message },
        `notification given up after ${m.attempts} attempts over ${humanDuration(now - m.createdAt)} to ${ch.name}: ${err.message}; once the receiver works, send it again with: vigil notify retry --channel ${ch.name}`,
      );
      return;
    }
    const delay = Math.min(retryDelay(m.attempts, this.#settings.retryInitialMs, this.#settings.retryMaxMs, this.#random), giveUpAt - now);
    await this.#store.markRetry(m.id, this.owner, now + delay, err.message);
    const why = err.permanent
      ? `refused by ${ch.name} (${err.message}): check the channel's URL or the receiver`
      : `not delivered to ${ch.name} (${err.message})`;
    // A refusal is the operator's to fix; a timeout or a 5xx mostly passes by itself.
    (err.permanent ? this.#log.error : this.#log.warn).call(
      this.#log,
      { ...ctx, answer: err.message, retryInMs: delay },
      `notification ${why}; retrying in ${Math.round(delay / 1000)}s, until ${new Date(giveUpAt).toISOString()}`,
    );
  }
}
