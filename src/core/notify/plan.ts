import type { HealthIssue } from '../model/health-issue.ts';
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
}

export interface PlanChannel {
  name: string;
  filter: ChannelFilter;
  remindEveryMs: number;
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
  silences: Silence[];
  acknowledged: Set<number>;
}

export interface ChannelPlan {
  channel: string;
  opened: HealthIssue[];
  resolved: HealthIssue[];
  /** Issues due a reminder, with the reminder number (1 = first) that is now due. */
  reminders: Array<{ issue: HealthIssue; number: number }>;
}

/**
 * Decides what each channel is told now, from durable facts only (the issues as stored and what
 * was queued before), so running it again, after a crash, or on another replica, plans nothing
 * twice and forgets nothing:
 *
 * - an open issue the channel's filter takes, not announced yet and not silenced → opened;
 * - an announced issue that is now resolved → resolved (whatever the filter or silences say now:
 *   a sent open always gets its resolve, the gap Alertmanager users complain about, #226);
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
    const plan: ChannelPlan = { channel: ch.name, opened: [], resolved: [], reminders: [] };
    for (const issue of input.openIssues) {
      if (states.has(issue.id)) continue;
      if (!wants(issue) || silencing(issue, input.silences, now)) continue;
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
      // Reminders follow the channel's filter as it is now (a narrowed channel stops reminding); resolves do not.
      if (ch.remindEveryMs <= 0 || !wants(issue) || input.acknowledged.has(issue.id) || silencing(issue, input.silences, now)) continue;
      const due = Math.floor((now - s.openQueuedAt) / ch.remindEveryMs);
      if (due > s.remindersQueued) plan.reminders.push({ issue, number: due });
    }
    const byId = (a: HealthIssue, b: HealthIssue) => a.id - b.id;
    plan.opened.sort(byId);
    plan.resolved.sort(byId);
    plan.reminders.sort((a, b) => byId(a.issue, b.issue));
    if (plan.opened.length + plan.resolved.length + plan.reminders.length > 0) plans.push(plan);
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
