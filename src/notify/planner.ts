import type { Clock } from '../lib/clock.ts';
import type { HealthIssue } from '../core/model/health-issue.ts';
import { announcedCause, chunk, planNotifications, type Announced, type ChannelPlan, type PlanChannel } from '../core/notify/plan.ts';
import { causeText } from '../core/health/causes.ts';
import type { IssueSnapshot } from '../core/notify/types.ts';
import { bouncersByName, issuesByIds, openIssuesIn, type NotifyStore, type NotifyTrx } from '../store/notify-store.ts';
import { snapshotIssue } from '../core/notify/snapshot.ts';
import type { RunbookSettings } from '../core/health/runbook-settings.ts';
import type { MessageContent, NotifyEvent } from '../core/notify/types.ts';
import { bySeverity } from '../core/notify/wording.ts';
import type { Silence } from '../core/notify/silences.ts';
import { holdsForPlanning } from './holds.ts';

/** Delivered messages, finished issue states and ended silences are kept this long (for `vigil notify queue`). */
const KEEP_MS = 30 * 24 * 3600_000;
const PRUNE_EVERY_MS = 3600_000;

/** Queues one event's messages for a channel and records what each issue's state became. */
interface Outbox {
  queue(
    channel: string,
    event: NotifyEvent,
    issues: HealthIssue[],
    record: (ids: number[], outboxId: number) => Promise<void>,
    snapshot?: (i: HealthIssue) => IssueSnapshot,
  ): Promise<void>;
  snap(i: HealthIssue): IssueSnapshot;
  count(): number;
}

/**
 * Turns what the store says (issues, what was queued, silences, acknowledgements) into outbox
 * messages, in one transaction per run. Runs after every evaluation and once at start: an issue
 * opened just before a crash is still open and not yet queued, so the next run queues it.
 */
export class Planner {
  #store: NotifyStore;
  #channels: PlanChannel[];
  #clock: Clock;
  #lapiUrl: () => string;
  #dashboardUrl: () => string | null;
  #runbook: RunbookSettings | undefined;
  #maintenance: Silence[];
  #running: Promise<number> | undefined;
  #again = false;
  #lastPrune = 0;

  constructor(opts: {
    store: NotifyStore;
    channels: PlanChannel[];
    clock: Clock;
    lapiUrl: () => string;
    /** The dashboard's own listener (`http://HOST:PORT`), null when it shares the Local API's. */
    dashboardUrl?: () => string | null;
    runbook?: RunbookSettings;
    /** vigil.yaml's maintenance windows, as recurring silences. */
    maintenance?: Silence[];
  }) {
    this.#store = opts.store;
    this.#channels = opts.channels;
    this.#clock = opts.clock;
    this.#lapiUrl = opts.lapiUrl;
    this.#dashboardUrl = opts.dashboardUrl ?? (() => null);
    this.#runbook = opts.runbook;
    this.#maintenance = opts.maintenance ?? [];
  }

  /**
   * Plans now; calls made while a run is in progress make one more run after it (so nothing that
   * changed meanwhile waits for the next evaluation). Resolves with the messages queued.
   */
  run(): Promise<number> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = (async () => {
      let queued = 0;
      do {
        this.#again = false;
        queued += await this.#planOnce();
      } while (this.#again);
      return queued;
    })().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  /** Resolves when no run is in progress. */
  async idle(): Promise<void> {
    await this.#running?.catch(() => {});
  }

  async #planOnce(): Promise<number> {
    if (this.#channels.length === 0) return 0;
    const now = this.#clock.now();
    const queued = await this.#store.planning(async (trx) => {
      const plans = await this.#plansIn(trx, now);
      if (plans.length === 0) return 0;
      const outbox = await this.#outbox(trx, now, plans);
      for (const p of plans) await this.#queuePlan(trx, now, p, outbox);
      return outbox.count();
    });
    if (now - this.#lastPrune >= PRUNE_EVERY_MS) {
      this.#lastPrune = now;
      await this.#store.prune(now - KEEP_MS);
    }
    return queued;
  }

  /** What each channel should be told now, read from one snapshot of the store. */
  async #plansIn(trx: NotifyTrx, now: number): Promise<ChannelPlan[]> {
    const openIssues = await openIssuesIn(trx);
    const states = await this.#store.unresolvedStates(
      trx,
      this.#channels.map((c) => c.name),
    );
    const issuesById = new Map(openIssues.map((i) => [i.id, i]));
    const missing = [...new Set(states.map((s) => s.issueId).filter((id) => !issuesById.has(id)))];
    for (const i of await issuesByIds(trx, missing)) issuesById.set(i.id, i);
    const announcedOpen = [...new Set(states.map((s) => s.issueId))].filter((id) => issuesById.get(id)?.resolvedAt === null);
    return planNotifications({
      now,
      channels: this.#channels,
      openIssues,
      states,
      issuesById,
      ...(await holdsForPlanning(this.#store, trx, now, this.#maintenance, openIssues)),
      acknowledged: new Set((await this.#store.acknowledgements(announcedOpen, trx)).keys()),
    });
  }

  /** Messages go to the outbox in parts (chunk); each issue is snapshotted once, with its bouncer. */
  async #outbox(trx: NotifyTrx, now: number, plans: ChannelPlan[]): Promise<Outbox> {
    const names = new Set<string>();
    for (const p of plans)
      for (const i of [...p.opened, ...p.resolved, ...p.acknowledged, ...p.reminders.map((r) => r.issue), ...p.updates.map((u) => u.issue)])
        if (i.bouncerName) names.add(i.bouncerName);
    const bouncers = await bouncersByName(trx, [...names]);
    const lapiUrl = this.#lapiUrl();
    const dashboardUrl = this.#dashboardUrl();
    const snapshots = new Map<number, ReturnType<typeof snapshotIssue>>();
    const snap = (i: HealthIssue) => {
      let s = snapshots.get(i.id);
      if (!s) snapshots.set(i.id, (s = snapshotIssue(i, i.bouncerName ? bouncers.get(i.bouncerName) : undefined)));
      return s;
    };
    let n = 0;
    const queue = async (
      channel: string,
      event: NotifyEvent,
      issues: HealthIssue[],
      record: (ids: number[], outboxId: number) => Promise<void>,
      snapshot: (i: HealthIssue) => IssueSnapshot = snap,
    ) => {
      const ordered = issues.map(snapshot).sort(bySeverity);
      const parts = chunk(ordered);
      for (const [index, part] of parts.entries()) {
        const content: MessageContent = {
          event,
          createdAt: now,
          lapiUrl,
          ...(dashboardUrl ? { dashboardUrl } : {}),
          runbookSettings: this.#runbook,
          issues: part,
          part: { index: index + 1, of: parts.length },
        };
        const { id } = await this.#store.enqueue(trx, { channel, content, now });
        await record(
          part.map((i) => i.id),
          id,
        );
        n++;
      }
    };
    return { queue, snap, count: () => n };
  }

  /** One channel's plan: adopted, opened, updated, resolved and reminded issues, each on record. */
  async #queuePlan(trx: NotifyTrx, now: number, p: ChannelPlan, { queue, snap }: Outbox): Promise<void> {
    const told = (i: HealthIssue): Announced => ({ criticality: i.criticality, cause: announcedCause(i) });
    for (const i of p.adopted) await this.#store.recordAnnounced(trx, p.channel, i.id, told(i), null);
    const announced = new Map(p.opened.map((i) => [i.id, told(i)]));
    await queue(p.channel, 'opened', p.opened, (ids, outboxId) => this.#store.recordOpened(trx, p.channel, ids, outboxId, now, announced));
    // Updates: each issue with what this channel was told before; what it is told now goes on record
    // (the cause rate limit counts only updates that told a new cause: plan.ts).
    const from = new Map(p.updates.map((u) => [u.issue.id, u.from]));
    await queue(
      p.channel,
      'updated',
      p.updates.map((u) => u.issue),
      async (ids) => {
        for (const id of ids) {
          const issue = p.updates.find((u) => u.issue.id === id)!.issue;
          const was = from.get(id)!;
          const cause = announcedCause(issue);
          await this.#store.recordAnnounced(trx, p.channel, id, { criticality: issue.criticality, cause }, cause !== was.cause ? now : null);
        }
      },
      (i) => {
        const was = from.get(i.id)!;
        return { ...snap(i), previous: { criticality: was.criticality, cause: was.cause, causeText: was.cause === null ? null : causeText(was.cause) } };
      },
    );
    await queue(p.channel, 'resolved', p.resolved, (ids, outboxId) => this.#store.recordResolved(trx, p.channel, ids, outboxId, now));
    await queue(p.channel, 'acknowledged', p.acknowledged, (ids) => this.#store.recordAcknowledged(trx, p.channel, ids, now));
    const due = new Map(p.reminders.map((r) => [r.issue.id, r.number]));
    await queue(
      p.channel,
      'reminder',
      p.reminders.map((r) => r.issue),
      async (ids) => {
        for (const id of ids) await this.#store.recordReminder(trx, p.channel, id, due.get(id)!);
      },
    );
  }
}
