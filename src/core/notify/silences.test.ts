import { describe, expect, it } from 'vitest';
import type { HealthIssue } from '../model/health-issue.ts';
import { issueLabels, matchesIssue, silenceActive, silencing, type Silence } from './silences.ts';
import { planNotifications, type IssueNotifyState, type PlanInput } from './plan.ts';
import { openIssue } from '../../../test/support/health-issues.ts';

const T0 = Date.parse('2026-12-07T12:00:00Z');
const M = 60_000;
const H = 60 * M;

const issue = (id: number, over: Partial<HealthIssue> = {}): HealthIssue =>
  openIssue(T0, { id, kind: 'rc_integration_offline', criticality: 'high', subject: 'bouncer:edge-1', bouncerName: 'edge-1', summary: `issue ${id}`, ...over });

const silence = (over: Partial<Silence>): Silence => ({
  id: 1,
  issueId: null,
  bouncerName: null,
  kind: null,
  machineName: null,
  labels: null,
  reason: 'maintenance',
  createdBy: 'test',
  createdAt: T0 - H,
  startsAt: T0 - H,
  endsAt: T0 + 8 * H,
  removedAt: null,
  schedule: null,
  ...over,
});

describe('what a silence matches', () => {
  const edge = issue(1);
  const core = issue(2, { bouncerName: 'core-fw', subject: 'bouncer:core-fw', kind: 'integration_late' });
  const agent = issue(3, { bouncerName: null, subject: 'machine:agent-par-1', kind: 'lp_no_logs_read' });

  it('by bouncer glob, kind, machine glob, and all of them together', () => {
    expect(matchesIssue(silence({ bouncerName: 'edge-*' }), edge)).toBe(true);
    expect(matchesIssue(silence({ bouncerName: 'edge-*' }), core)).toBe(false);
    expect(matchesIssue(silence({ bouncerName: 'edge-*' }), agent)).toBe(false);
    expect(matchesIssue(silence({ kind: 'integration_late' }), core)).toBe(true);
    expect(matchesIssue(silence({ kind: 'integration_late' }), edge)).toBe(false);
    expect(matchesIssue(silence({ machineName: 'agent-*' }), agent)).toBe(true);
    expect(matchesIssue(silence({ machineName: 'agent-*' }), edge)).toBe(false);
    expect(matchesIssue(silence({ bouncerName: 'edge-*', kind: 'integration_late' }), edge)).toBe(false);
    expect(matchesIssue(silence({ bouncerName: '*', kind: 'integration_late' }), core)).toBe(true);
  });

  it('by label, with the bouncer type and kind from its bouncer', () => {
    const labels = issueLabels(core, { type: 'crowdsec-firewall-bouncer', kindOverride: null });
    expect(labels).toMatchObject({ kind: 'integration_late', bouncer: 'core-fw', bouncer_type: 'crowdsec-firewall-bouncer', bouncer_kind: 'firewall' });
    expect(matchesIssue(silence({ labels: { bouncer_type: 'crowdsec-firewall-*' } }), core, labels)).toBe(true);
    expect(matchesIssue(silence({ labels: { bouncer_kind: 'remediation' } }), core, labels)).toBe(false);
    // Without the bouncer, a bouncer label is unknown: no match (never silence by guess).
    expect(matchesIssue(silence({ labels: { bouncer_type: '*' } }), core)).toBe(false);
    expect(matchesIssue(silence({ labels: { criticality: 'high', machine: 'agent-par-?' } }), agent)).toBe(true);
  });

  it('a future start holds nothing before it; a recurring silence only inside its window', () => {
    const later = silence({ bouncerName: 'edge-*', startsAt: T0 + 2 * H, endsAt: T0 + 4 * H });
    expect(silenceActive(later, T0)).toBe(false);
    expect(silenceActive(later, T0 + 2 * H)).toBe(true);
    expect(silenceActive(later, T0 + 4 * H)).toBe(false);
    const nightly = silence({
      bouncerName: 'edge-*',
      endsAt: T0 + 30 * 24 * H,
      schedule: { at: '02:00', lastingMs: 30 * M, days: [], timeZone: 'Europe/Paris' },
    });
    expect(silencing(edge, [nightly], Date.parse('2026-12-08T01:10:00Z'))).toBe(nightly); // 02:10 Paris
    expect(silencing(edge, [nightly], Date.parse('2026-12-08T01:30:00Z'))).toBeUndefined(); // 02:30 Paris
  });
});

describe('planning across a maintenance window', () => {
  const ch = { name: 'ops', filter: { criticality: [], kinds: [], bouncers: [] }, remindEveryMs: 24 * H };
  /** The plan at `now` for channel `ch`, nothing announced or acknowledged unless `input` says so. */
  const planAt = (now: number, input: Partial<PlanInput>) =>
    planNotifications({ now, channels: [ch], openIssues: [], states: [], issuesById: new Map(), silences: [], acknowledged: new Set(), ...input });
  const nightly = silence({
    id: -1,
    bouncerName: 'edge-*',
    startsAt: 0,
    endsAt: Number.MAX_SAFE_INTEGER,
    schedule: { at: '02:00', lastingMs: 30 * M, days: [], timeZone: 'Europe/Paris' },
  });
  const inside = Date.parse('2026-12-08T01:05:00Z');
  const after = Date.parse('2026-12-08T01:30:00Z');

  it('holds the open of a matching issue during the window, sends it after if still open, and nothing for one resolved meanwhile', () => {
    const stillWrong = issue(1, { openedAt: inside });
    const other = issue(2, { bouncerName: 'core-fw', subject: 'bouncer:core-fw', openedAt: inside });
    const during = planAt(inside, { openIssues: [stillWrong, other], silences: [nightly] });
    expect(during[0]!.opened.map((i) => i.id)).toEqual([2]);
    const fixed = issue(3, { openedAt: inside, resolvedAt: inside + 10 * M });
    const afterwards = planAt(after, { openIssues: [stillWrong], issuesById: new Map([[3, fixed]]), silences: [nightly] });
    expect(afterwards[0]!.opened.map((i) => i.id)).toEqual([1]);
    expect(afterwards[0]!.resolved).toEqual([]);
  });

  it('holds reminders of an announced issue during the window, and still sends its resolve', () => {
    const announced: IssueNotifyState = {
      channel: 'ops',
      issueId: 1,
      openQueuedAt: inside - 24 * H,
      remindersQueued: 0,
      resolveQueued: false,
      announced: { criticality: 'high', cause: null },
    };
    const open = issue(1);
    expect(planAt(inside, { openIssues: [open], states: [announced], issuesById: new Map([[1, open]]), silences: [nightly] })).toEqual([]);
    expect(planAt(after, { openIssues: [open], states: [announced], issuesById: new Map([[1, open]]), silences: [nightly] })[0]!.reminders).toHaveLength(1);
    const resolved = issue(1, { resolvedAt: inside });
    expect(planAt(inside, { states: [announced], issuesById: new Map([[1, resolved]]), silences: [nightly] })[0]!.resolved).toHaveLength(1);
  });

  it('with labelsOf, a label silence holds by the bouncer type', () => {
    const fw = silence({ labels: { bouncer_type: 'crowdsec-firewall-bouncer' } });
    const open = issue(1);
    const labelsOf = (i: HealthIssue) => issueLabels(i, { type: 'crowdsec-firewall-bouncer', kindOverride: null });
    expect(planAt(T0, { openIssues: [open], silences: [fw], labelsOf })).toEqual([]);
    expect(planAt(T0, { openIssues: [open], silences: [fw] })).toHaveLength(1);
  });
});
