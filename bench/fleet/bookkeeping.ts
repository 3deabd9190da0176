/**
 * The health engine's issue bookkeeping (src/health/engine.ts) and the notification planner's
 * (src/notify/planner.ts), kept in memory so 30 days of a 1,000-bouncer fleet run in seconds. The
 * decisions are the real ones: incidents by `incidentKey` (core/health/incident.ts), what each
 * channel is told by `planNotifications` (core/notify/plan.ts). What is mirrored is only their
 * storage: issues opened, moved to another stage, resolved; planner states recorded as the
 * NotifyStore records them. fleet.test.ts runs the same fleet through the real HealthEngine and
 * Planner over a SQLite store and gets the same messages.
 */
import { incidentKey } from '../../src/core/health/incident.ts';
import type { Finding } from '../../src/core/health/types.ts';
import type { HealthIssue } from '../../src/core/model/health-issue.ts';
import { announcedCause, planNotifications, type Announced, type IssueNotifyState, type PlanChannel } from '../../src/core/notify/plan.ts';

/** The engine's stored issue, kept here as a record the bookkeeping updates in place (the store's is read-only). */
type SimIssue = { -readonly [K in keyof HealthIssue]: HealthIssue[K] };

/** One issue as one message told a channel about it. */
export interface Told {
  at: number;
  channel: string;
  event: 'opened' | 'updated' | 'resolved' | 'reminder';
  subject: string;
  kind: string;
  criticality: string;
  cause: string | null;
}

/** The channels of the simulation: everything (reminders daily, the default), and a pager for Critical only. */
export const CHANNELS: PlanChannel[] = [
  { name: 'all', filter: { criticality: [], kinds: [], bouncers: [] }, remindEveryMs: 24 * 3600_000 },
  { name: 'critical', filter: { criticality: ['critical'], kinds: [], bouncers: [] }, remindEveryMs: 24 * 3600_000 },
];

export class Bookkeeping {
  #nextId = 1;
  /** Open issues by incident key. */
  readonly open = new Map<string, SimIssue>();
  /** Issues the planner still follows (open, or resolved with the resolve not yet queued). */
  #issues = new Map<number, SimIssue>();
  #states: IssueNotifyState[] = [];
  readonly told: Told[] = [];
  /** Called for each opened message, as it is planned (the simulation repairs a paged failure). */
  onTold: (t: Told) => void = () => {};

  /**
   * engine.ts #evaluate, for the subjects this evaluation covers (all of them when every bouncer was
   * evaluated): each finding refreshes its incident's open issue (moving it to the finding's stage)
   * or opens one; a covered open issue with no finding resolves.
   */
  apply(findings: readonly Finding[], covers: (subject: string) => boolean, now: number): void {
    const kept = new Set<number>();
    for (const f of findings) {
      const key = incidentKey(f.kind, f.subject);
      const existing = this.open.get(key);
      const evidence = { causes: f.causes, notes: f.notes };
      if (existing && !kept.has(existing.id)) {
        Object.assign(existing, { lastSeenAt: now, summary: f.summary, since: f.since, evidence, kind: f.kind, criticality: f.criticality });
        kept.add(existing.id);
        continue;
      }
      const issue: HealthIssue = {
        id: this.#nextId++,
        kind: f.kind,
        criticality: f.criticality,
        subject: f.subject,
        bouncerName: f.bouncerName,
        openedAt: now,
        lastSeenAt: now,
        resolvedAt: null,
        since: f.since,
        summary: f.summary,
        evidence,
      };
      this.open.set(key, issue);
      this.#issues.set(issue.id, issue);
      kept.add(issue.id);
    }
    for (const [key, i] of this.open) {
      if (kept.has(i.id) || !covers(i.subject)) continue;
      i.resolvedAt = now;
      this.open.delete(key);
    }
  }

  /** planner.ts #planOnce: what each channel is told now, recorded as the NotifyStore records it. */
  plan(now: number): void {
    if (this.open.size === 0 && this.#states.length === 0) return;
    const openIssues = [...this.open.values()].sort((a, b) => a.id - b.id);
    const plans = planNotifications({
      now,
      channels: CHANNELS,
      openIssues,
      states: this.#states,
      issuesById: this.#issues,
      silences: [],
      acknowledged: new Set(),
    });
    const told = (i: HealthIssue): Announced => ({ criticality: i.criticality, cause: announcedCause(i) });
    const stateOf = (channel: string, id: number) => this.#states.find((s) => s.channel === channel && s.issueId === id)!;
    for (const p of plans) {
      for (const i of p.opened) {
        this.#states.push({
          channel: p.channel,
          issueId: i.id,
          openQueuedAt: now,
          remindersQueued: 0,
          resolveQueued: false,
          announced: told(i),
          updateQueuedAt: null,
        });
        this.#tell(now, p.channel, 'opened', i);
      }
      for (const u of p.updates) {
        const s = stateOf(p.channel, u.issue.id);
        s.announced = { criticality: u.issue.criticality, cause: announcedCause(u.issue) };
        s.updateQueuedAt = now;
        this.#tell(now, p.channel, 'updated', u.issue);
      }
      for (const i of p.resolved) {
        stateOf(p.channel, i.id).resolveQueued = true;
        this.#tell(now, p.channel, 'resolved', i);
      }
      for (const r of p.reminders) {
        stateOf(p.channel, r.issue.id).remindersQueued = r.number;
        this.#tell(now, p.channel, 'reminder', r.issue);
      }
    }
    // The planner reads only states whose resolve is not queued; issues nobody follows are forgotten.
    this.#states = this.#states.filter((s) => !s.resolveQueued);
    const followed = new Set(this.#states.map((s) => s.issueId));
    for (const [id, i] of this.#issues) if (i.resolvedAt !== null && !followed.has(id)) this.#issues.delete(id);
  }

  #tell(at: number, channel: string, event: Told['event'], i: HealthIssue): void {
    const t: Told = { at, channel, event, subject: i.subject, kind: i.kind, criticality: i.criticality, cause: announcedCause(i) };
    this.told.push(t);
    this.onTold(t);
  }
}
