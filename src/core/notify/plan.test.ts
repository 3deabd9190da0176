import { describe, expect, it } from 'vitest';
import type { HealthIssue } from '../model/health-issue.ts';
import { planNotifications, UPDATE_EVERY_MS, type IssueNotifyState, type PlanChannel, type PlanInput } from './plan.ts';
import type { Silence } from './silences.ts';
import type { CauseKind } from '../health/causes.ts';
import { openIssue } from '../../../test/support/health-issues.ts';

const T0 = Date.UTC(2026, 10, 6);
const H = 3600_000;

function issue(id: number, over: Partial<HealthIssue> = {}): HealthIssue {
  const name = over.bouncerName === undefined ? `b${id}` : over.bouncerName;
  const subject = name ? `bouncer:${name}` : 'fleet';
  return openIssue(T0, { id, kind: 'rc_integration_offline', subject, bouncerName: name, since: T0 - 24 * H, summary: `issue ${id}`, ...over });
}

const all = (name = 'ops', remindEveryMs = 24 * H): PlanChannel => ({ name, filter: { criticality: [], kinds: [], bouncers: [] }, remindEveryMs });
const state = (issueId: number, over: Partial<IssueNotifyState> = {}): IssueNotifyState => ({
  channel: 'ops',
  issueId,
  openQueuedAt: T0,
  remindersQueued: 0,
  resolveQueued: false,
  announced: { criticality: 'critical', cause: null },
  updateQueuedAt: null,
  ...over,
});
const silence = (over: Partial<Silence>): Silence => ({
  id: 1,
  issueId: null,
  bouncerName: null,
  reason: 'maintenance',
  createdBy: 'test',
  createdAt: T0 - H,
  endsAt: T0 + 8 * H,
  removedAt: null,
  kind: null,
  machineName: null,
  labels: null,
  schedule: null,
  ...over,
  startsAt: over.startsAt ?? over.createdAt ?? T0 - H,
});

function plan(over: Partial<PlanInput>) {
  const openIssues = over.openIssues ?? [];
  const issuesById = over.issuesById ?? new Map(openIssues.map((i) => [i.id, i]));
  return planNotifications({ now: T0, channels: [all()], openIssues, states: [], issuesById, silences: [], acknowledged: new Set(), ...over });
}
const ids = (list: HealthIssue[]) => list.map((i) => i.id);

describe('planNotifications', () => {
  it('groups every unannounced open issue into one "opened" per channel, and nothing twice', () => {
    const open = [issue(3), issue(1), issue(2)];
    const [p] = plan({ openIssues: open, channels: [all('ops'), all('mail')] }).filter((x) => x.channel === 'ops');
    expect(ids(p!.opened)).toEqual([1, 2, 3]);
    expect(plan({ openIssues: open, channels: [all('ops'), all('mail')] }).map((x) => x.channel)).toEqual(['ops', 'mail']);
    // Once queued (a state exists), the same issues plan nothing.
    expect(plan({ openIssues: open, states: [state(1), state(2), state(3)] })).toEqual([]);
  });

  it('applies each channel filter: criticality, kind, bouncer glob (fleet issues excluded by a bouncer filter)', () => {
    const open = [
      issue(1, { criticality: 'warning', kind: 'integration_late', bouncerName: 'web-1' }),
      issue(2, { bouncerName: 'web-2' }),
      issue(3, { bouncerName: 'fw', kind: 'fw_integration_offline' }),
      issue(4, { bouncerName: null, kind: 'se_no_active_rc' }),
    ];
    const ch = (name: string, filter: Partial<PlanChannel['filter']>): PlanChannel => ({
      ...all(name),
      filter: { criticality: [], kinds: [], bouncers: [], ...filter },
    });
    const plans = plan({
      openIssues: open,
      channels: [ch('critical', { criticality: ['critical'] }), ch('fw', { kinds: ['fw_integration_offline'] }), ch('web', { bouncers: ['web-*'] })],
    });
    expect(Object.fromEntries(plans.map((p) => [p.channel, ids(p.opened)]))).toEqual({ critical: [2, 3, 4], fw: [3], web: [1, 2] });
  });

  it('holds back the open of a silenced issue (by id or by bouncer) and sends it when the silence ends', () => {
    const open = [issue(1), issue(2), issue(3)];
    const silences = [silence({ id: 1, issueId: 1 }), silence({ id: 2, bouncerName: 'b2' })];
    expect(ids(plan({ openIssues: open, silences })[0]!.opened)).toEqual([3]);
    // Ended (time passed) or removed: the still-open issues go out.
    expect(ids(plan({ openIssues: open, silences, now: T0 + 9 * H })[0]!.opened)).toEqual([1, 2, 3]);
    const removed = silences.map((s) => ({ ...s, removedAt: T0 }));
    expect(ids(plan({ openIssues: open, silences: removed })[0]!.opened)).toEqual([1, 2, 3]);
    // A silence that starts later does not apply yet.
    expect(ids(plan({ openIssues: open, silences: [silence({ issueId: 1, createdAt: T0 + H })] })[0]!.opened)).toEqual([1, 2, 3]);
  });

  it('sends the resolve of every announced issue, even when silenced or filtered out since', () => {
    const resolved = issue(1, { resolvedAt: T0 + H, criticality: 'warning' });
    const p = plan({
      now: T0 + H,
      issuesById: new Map([[1, resolved]]),
      states: [state(1)],
      silences: [silence({ issueId: 1, createdAt: T0, endsAt: T0 + 10 * H })],
      channels: [{ ...all(), filter: { criticality: ['critical'], kinds: [], bouncers: [] } }],
    });
    expect(ids(p[0]!.resolved)).toEqual([1]);
    // Its resolve queued: nothing more.
    expect(plan({ now: T0 + H, issuesById: new Map([[1, resolved]]), states: [state(1, { resolveQueued: true })] })).toEqual([]);
  });

  it('sends nothing for an issue that resolved while silenced and never announced', () => {
    expect(plan({ issuesById: new Map([[1, issue(1, { resolvedAt: T0 })]]), openIssues: [] })).toEqual([]);
  });

  it('reminds every remind_every after the open was queued, only the latest after downtime, none when acknowledged or silenced', () => {
    const open = [issue(1), issue(2)];
    const at = (now: number, over: Partial<PlanInput> = {}) => plan({ now, openIssues: open, states: [state(1), state(2, { remindersQueued: 1 })], ...over });
    expect(at(T0 + 24 * H - 1)).toEqual([]);
    expect(at(T0 + 24 * H)[0]!.reminders.map((r) => [r.issue.id, r.number])).toEqual([[1, 1]]);
    expect(at(T0 + 75 * H)[0]!.reminders.map((r) => [r.issue.id, r.number])).toEqual([
      [1, 3],
      [2, 3],
    ]);
    expect(at(T0 + 48 * H, { acknowledged: new Set([1]) })[0]!.reminders.map((r) => r.issue.id)).toEqual([2]);
    // Alertmanager ends an alert not re-sent: its channel keeps re-sending an acknowledged issue.
    const keeps: PlanChannel = { ...all(), remindsWhileAcknowledged: true };
    expect(at(T0 + 48 * H, { acknowledged: new Set([1]), channels: [keeps] })[0]!.reminders.map((r) => r.issue.id)).toEqual([1, 2]);
    expect(at(T0 + 48 * H, { silences: [silence({ bouncerName: 'b2', endsAt: T0 + 100 * H })] })[0]!.reminders.map((r) => r.issue.id)).toEqual([1]);
    // remind_every 0: never.
    expect(at(T0 + 75 * H, { channels: [all('ops', 0)] })).toEqual([]);
    // A channel narrowed since the open stops reminding about what it no longer takes.
    const narrowed: PlanChannel = { ...all(), filter: { criticality: [], kinds: [], bouncers: ['b2'] } };
    expect(at(T0 + 48 * H, { channels: [narrowed] })[0]!.reminders.map((r) => r.issue.id)).toEqual([2]);
  });

  it('keeps channels apart: one channel having announced an issue says nothing about another', () => {
    const p = plan({ openIssues: [issue(1)], states: [state(1, { channel: 'ops' })], channels: [all('ops'), all('mail')] });
    expect(p.map((x) => [x.channel, ids(x.opened)])).toEqual([['mail', [1]]]);
  });

  describe('updates', () => {
    const cause = (c: CauseKind) => ({ causes: [{ cause: c, confidence: 'high' as const, evidence: [] }], notes: [] });
    const late = (c: CauseKind = 'stopped_or_network', over: Partial<HealthIssue> = {}) =>
      issue(1, { kind: 'integration_late', criticality: 'warning', evidence: cause(c), ...over });
    const told = (c: string | null = 'stopped_or_network', criticality = 'warning') => ({ criticality, cause: c });
    const updates = (p: ReturnType<typeof plan>) => p.flatMap((x) => x.updates.map((u) => [x.channel, u.issue.id, u.from.criticality, u.from.cause]));

    it('nothing while the issue is as announced', () => {
      expect(plan({ openIssues: [late()], states: [state(1, { announced: told() })] })).toEqual([]);
    });

    it('a rise in criticality goes at once, to every channel, even acknowledged and right after another update', () => {
      const offline = late('stopped_or_network', { kind: 'rc_integration_offline', criticality: 'critical' });
      const states = [state(1, { announced: told(), updateQueuedAt: T0 - 1 }), state(1, { channel: 'mail', announced: told() })];
      const p = plan({ openIssues: [offline], states, channels: [all('ops'), all('mail')], acknowledged: new Set([1]) });
      expect(updates(p)).toEqual([
        ['ops', 1, 'warning', 'stopped_or_network'],
        ['mail', 1, 'warning', 'stopped_or_network'],
      ]);
    });

    it('a fall goes at once too, even acknowledged and within the cause window: the engine lowers a stage only when the component itself is heard again', () => {
      const states = [state(1, { announced: told('stopped_or_network', 'critical'), updateQueuedAt: T0 - 1 })];
      expect(updates(plan({ openIssues: [late()], states, acknowledged: new Set([1]) }))).toEqual([['ops', 1, 'critical', 'stopped_or_network']]);
      // Told as it is now: nothing more.
      expect(plan({ now: T0 + 10_000, openIssues: [late()], states: [state(1, { announced: told('stopped_or_network', 'warning') })] })).toEqual([]);
    });

    it('a cause change goes at once the first time, then at most once per UPDATE_EVERY_MS, never when acknowledged', () => {
      const auth = late('authentication');
      expect(updates(plan({ openIssues: [auth], states: [state(1, { announced: told() })] }))).toEqual([['ops', 1, 'warning', 'stopped_or_network']]);
      // It flipped back since the update that said "authentication": held until the window has passed.
      const back = late('stopped_or_network');
      const atMs = (ms: number) => plan({ now: T0 + ms, openIssues: [back], states: [state(1, { announced: told('authentication'), updateQueuedAt: T0 })] });
      expect(atMs(UPDATE_EVERY_MS - 1)).toEqual([]);
      expect(updates(atMs(UPDATE_EVERY_MS))).toEqual([['ops', 1, 'warning', 'authentication']]);
      expect(plan({ openIssues: [auth], states: [state(1, { announced: told() })], acknowledged: new Set([1]) })).toEqual([]);
      // The first cause an issue gets (it opened with none) goes at once, whatever the window says.
      const firstCause = plan({ now: T0 + 1000, openIssues: [auth], states: [state(1, { announced: told(null), updateQueuedAt: T0 })] });
      expect(updates(firstCause)).toEqual([['ops', 1, 'warning', null]]);
      // An escalation does not hold the cause change after it: only a cause update stamps the window.
      const escalatedOnly = late('authentication', { kind: 'rc_integration_offline', criticality: 'critical' });
      expect(
        updates(plan({ openIssues: [escalatedOnly], states: [state(1, { announced: told('stopped_or_network', 'critical'), updateQueuedAt: null })] })),
      ).toEqual([['ops', 1, 'critical', 'stopped_or_network']]);
      // An issue that lost its causes says nothing.
      expect(plan({ openIssues: [late('unknown', { evidence: { causes: [], notes: [] } })], states: [state(1, { announced: told() })] })).toEqual([]);
    });

    it('none while silenced or filtered out; an update stands for the reminder due with it', () => {
      const offline = late('authentication', { kind: 'rc_integration_offline', criticality: 'critical' });
      const states = [state(1, { announced: told() })];
      expect(plan({ openIssues: [offline], states, silences: [silence({ issueId: 1 })] })).toEqual([]);
      const warningsOnly: PlanChannel = { ...all(), filter: { criticality: ['warning'], kinds: [], bouncers: [] } };
      expect(plan({ openIssues: [offline], states, channels: [warningsOnly] })).toEqual([]);
      const [p] = plan({ now: T0 + 24 * H, openIssues: [offline], states });
      expect([p!.updates.length, p!.reminders.length]).toEqual([1, 0]);
    });

    it('a state from before updates is adopted as it is, without a message, and still reminds', () => {
      const [p] = plan({ now: T0 + 24 * H, openIssues: [late('authentication')], states: [state(1, { announced: null })] });
      expect(ids(p!.adopted)).toEqual([1]);
      expect(p!.updates).toEqual([]);
      expect(p!.reminders.map((r) => r.issue.id)).toEqual([1]);
    });
  });
});

describe('acknowledgements, for channels that announce them', () => {
  const pager: PlanChannel = { ...all('pager'), sendsAcknowledgements: true };
  const open = issue(1);
  const told = (channel: string, over: Partial<IssueNotifyState> = {}) => state(1, { channel, ...over });

  it('tells a PagerDuty-like channel once that an announced issue was acknowledged; other channels hear nothing', () => {
    const input = { openIssues: [open], issuesById: new Map([[1, open]]), acknowledged: new Set([1]) };
    const plans = plan({ ...input, channels: [pager, all('ops')], states: [told('pager'), told('ops')] });
    expect(plans.map((p) => [p.channel, p.acknowledged.map((i) => i.id)])).toEqual([['pager', [1]]]);
    expect(plan({ ...input, channels: [pager], states: [told('pager', { ackQueued: true })] })).toEqual([]);
    // Not announced yet (held by a silence): nothing to acknowledge there.
    expect(plan({ ...input, channels: [pager], states: [], silences: [silence({ issueId: 1 })] })).toEqual([]);
  });
});
