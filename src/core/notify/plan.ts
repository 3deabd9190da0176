import type { HealthIssue } from '../model/health-issue.ts';
import { CRITICALITIES } from '../health/types.ts';
import type { ChannelFilter } from './types.ts';
import { compileFilter } from './filter.ts';
import { silencing, type Silence } from './silences.ts';

/** What was already queued for one issue on one channel. */
export interface IssueNotifyState {
  channel: string;
  issueId: number;
  /** When its open was queued: reminders count from here. */
  openQueuedAt: number;
  remindersQueued: number;
  resolveQueued: boolean;
  /**
   * What this channel was last told of the issue: its criticality and top cause. Null for a state
   * from before updates existed: the planner adopts the issue as it is. Absent: treated as null.
   */
  announced?: Announced | null;
  /** When the last update that told a new likely cause was queued (the cause rate limit); null or absent: none yet. */
  updateQueuedAt?: number | null;
  /** Whether the issue's acknowledgement was queued (channels with sendsAcknowledgements); absent: no. */
  ackQueued?: boolean;
}

export interface Announced {
  criticality: string;
  cause: string | null;
}

/**
 * After an update that told a new likely cause, the next cause change waits until this long has
 * passed (a cause that flips back and forth as evidence comes and goes makes no storm: the first
 * change goes at once, the next waits, and then says only where it stands; a flip back to what
 * was told sends nothing). Only cause updates count: an escalation does not hold the cause change
 * that follows it. A change of criticality goes at once, up or down: a rise whenever the stage
 * rises; a fall only happens when the component's own traffic resumed (the engine keeps an open
 * issue at its graver stage otherwise: core/health/incident.ts), and then it is news.
 */
export const UPDATE_EVERY_MS = 5 * 60_000;

export interface PlanChannel {
  name: string;
  filter: ChannelFilter;
  remindEveryMs: number;
  /** Tell it when an announced issue is acknowledged (PagerDuty's acknowledge); other channels hear nothing. */
  sendsAcknowledgements?: boolean;
  /** Keep reminding after an acknowledgement (Alertmanager: an alert not re-sent ends there). */
  remindsWhileAcknowledged?: boolean;
}

export interface PlanInput {
  now: number;
  channels: PlanChannel[];
  /** Every issue open now. */
  openIssues: HealthIssue[];
  /** States whose resolve is not queued yet (every announced issue that was open at the last plan). */
  states: IssueNotifyState[];
  /** The current row of every issue those states name (open or resolved since). */
  issuesById: Map<number, HealthIssue>;
  /** Silences and maintenance windows (vigil.yaml), active or not: planning checks each at `now`. */
  silences: Silence[];
  acknowledged: Set<number>;
  /** An issue's labels with its bouncer's (for silences by label); absent: the issue's own. */
  labelsOf?: (issue: HealthIssue) => Record<string, string>;
}

export interface ChannelPlan {
  channel: string;
  opened: HealthIssue[];
  resolved: HealthIssue[];
  /** Issues due a reminder, with the reminder number (1 = first) that is now due. */
  reminders: Array<{ issue: HealthIssue; number: number }>;
  /** Announced open issues whose criticality rose or whose likely cause changed since, with what was announced. */
  updates: Array<{ issue: HealthIssue; from: Announced }>;
  /** Announced open issues acknowledged since (channels with sendsAcknowledgements only). */
  acknowledged: HealthIssue[];
  /** States with nothing announced on record (from before updates): record the issue as it is, send nothing. */
  adopted: HealthIssue[];
}

/** The likely cause a channel is told of: the top cause's kind, or null when there is none. */
export function announcedCause(issue: HealthIssue): string | null {
  return issue.evidence.causes[0]?.cause ?? null;
}

const rank = (c: string) => {
  const i = (CRITICALITIES as readonly string[]).indexOf(c);
  return i < 0 ? CRITICALITIES.length : i;
};

/** Whether `now` is less severe than `was`: an update then says the issue got better. */
export function isFall(was: string, now: string): boolean {
  return rank(now) > rank(was);
}

/**
 * What an update tells: the criticality moved (at once), or (not acknowledged) the likely cause
 * changed: at once for the first cause an issue gets and for the first change, then not within
 * UPDATE_EVERY_MS of the last cause update.
 */
function updateDue(issue: HealthIssue, s: IssueNotifyState, now: number, acknowledged: boolean): boolean {
  const was = s.announced!;
  if (issue.criticality !== was.criticality) return true;
  const cause = announcedCause(issue);
  if (cause === null || cause === was.cause || acknowledged) return false;
  if (was.cause === null) return true;
  return s.updateQueuedAt == null || now - s.updateQueuedAt >= UPDATE_EVERY_MS;
}

/**
 * Decides what each channel is told now, from durable facts only (the issues as stored and what
 * was queued before), so running it again, after a crash, or on another replica, plans nothing
 * twice and forgets nothing:
 *
 * - an open issue the channel's filter takes, not announced yet and not silenced → opened;
 * - an announced issue that is now resolved → resolved (whatever the filter or silences say now:
 *   a sent open always gets its resolve, the gap Alertmanager users complain about, #226);
 * - an announced open issue the filter still takes and not silenced whose criticality differs from
 *   what the channel was told (a rise; a fall, which the engine allows only when the component's
 *   own traffic resumed), or (not acknowledged) whose likely cause changed (the first at once,
 *   later ones not within UPDATE_EVERY_MS of the last cause update) → updated (it stands for a
 *   reminder due at the same time);
 * - an announced open issue the filter still takes, neither silenced nor acknowledged, whose next reminder time
 *   (open queued + n × remind_every) has passed → reminder n. After downtime only the latest
 *   reminder is sent, not every missed one.
 *
 * A silenced issue's open is held back (as Alertmanager does); if the silence ends while the
 * issue is still open, the open goes out then. One resolved while silenced and never announced
 * sends nothing.
 */
export function planNotifications(input: PlanInput): ChannelPlan[] {
  const { now } = input;
  const byChannel = new Map<string, Map<number, IssueNotifyState>>();
  for (const s of input.states) {
    let m = byChannel.get(s.channel);
    if (!m) byChannel.set(s.channel, (m = new Map()));
    m.set(s.issueId, s);
  }
  const plans: ChannelPlan[] = [];
  for (const ch of input.channels) {
    const wants = compileFilter(ch.filter);
    const states = byChannel.get(ch.name) ?? new Map<number, IssueNotifyState>();
    const plan: ChannelPlan = { channel: ch.name, opened: [], resolved: [], reminders: [], updates: [], adopted: [], acknowledged: [] };
    for (const issue of input.openIssues) {
      if (states.has(issue.id)) continue;
      if (!wants(issue) || silencing(issue, input.silences, now, input.labelsOf)) continue;
      plan.opened.push(issue);
    }
    for (const s of states.values()) {
      if (s.resolveQueued) continue;
      const issue = input.issuesById.get(s.issueId);
      if (!issue) continue;
      if (issue.resolvedAt !== null) {
        plan.resolved.push(issue);
        continue;
      }
      // Not a page but a state change of something the channel was told: neither filter nor silence holds it.
      if (ch.sendsAcknowledgements && input.acknowledged.has(issue.id) && !s.ackQueued && s.announced) plan.acknowledged.push(issue);
      // Updates and reminders follow the channel's filter as it is now (a narrowed channel stops reminding); resolves do not.
      if (!wants(issue) || silencing(issue, input.silences, now, input.labelsOf)) continue;
      if (!s.announced) plan.adopted.push(issue);
      else if (updateDue(issue, s, now, input.acknowledged.has(issue.id))) {
        plan.updates.push({ issue, from: s.announced });
        continue;
      }
      if (ch.remindEveryMs <= 0 || (input.acknowledged.has(issue.id) && !ch.remindsWhileAcknowledged)) continue;
      const due = Math.floor((now - s.openQueuedAt) / ch.remindEveryMs);
      if (due > s.remindersQueued) plan.reminders.push({ issue, number: due });
    }
    const byId = (a: HealthIssue, b: HealthIssue) => a.id - b.id;
    plan.opened.sort(byId);
    plan.resolved.sort(byId);
    plan.reminders.sort((a, b) => byId(a.issue, b.issue));
    plan.updates.sort((a, b) => byId(a.issue, b.issue));
    plan.acknowledged.sort(byId);
    if (plan.opened.length + plan.resolved.length + plan.reminders.length + plan.updates.length + plan.adopted.length + plan.acknowledged.length > 0)
      plans.push(plan);
  }
  return plans;
}

/** Large groups go out in parts of this many issues: a mass outage must not make one unbounded message. */
export const MAX_ISSUES_PER_MESSAGE = 25;

export function chunk<T>(items: T[], size = MAX_ISSUES_PER_MESSAGE): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
