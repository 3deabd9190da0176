import { describe, expect, it } from 'vitest';
import { downtimeFrom, downtimeWithin, silenceSince } from './downtime.ts';
import { bouncerStatus, DEFAULT_RULES, evaluate } from './evaluate.ts';
import { machineStatus } from './evaluate-machines.ts';
import { settleStage } from './incident.ts';
import type { FleetSnapshot } from './types.ts';
import { bouncerBuilder, fleetSnapshot, machineBuilder } from '../../../test/support/health-inputs.ts';

const T0 = Date.UTC(2026, 10, 1, 0, 0, 0);
const S = 1000;
const MIN = 60_000;
const H = 3600_000;

const bouncer = bouncerBuilder(
  { name: 'custom', type: 'crowdsec-custom-bouncer', version: 'v0.0.15', ipAddress: '127.0.0.1', pullCadenceMs: 10 * S },
  { createdAt: T0 - H, lastPullAt: T0, lastRequestAt: T0 },
);
const machine = machineBuilder(
  { ipAddress: '127.0.0.1', version: 'v1.4.6', heartbeatCadenceMs: MIN },
  { createdAt: T0 - 72 * H, lastLoginAt: T0 - 30 * MIN, lastHeartbeatAt: T0, lastPushAt: T0 },
);
const fleet = fleetSnapshot;
const kinds = (s: FleetSnapshot, now: number) => evaluate(s, now, DEFAULT_RULES).map((f) => `${f.kind}:${f.subject}`);

describe('downtimeFrom: the time no Local API run was alive', () => {
  it("is the gap between a run's last mark and the next start; none after the last run", () => {
    expect(downtimeFrom([])).toEqual([]);
    expect(downtimeFrom([{ startedAt: T0, aliveUntil: T0 + H }])).toEqual([]);
    expect(
      downtimeFrom([
        { startedAt: T0 + 2 * H, aliveUntil: T0 + 3 * H },
        { startedAt: T0, aliveUntil: T0 + H },
      ]),
    ).toEqual([{ from: T0 + H, to: T0 + 2 * H }]);
  });

  it('with several replicas, only when none of them was alive', () => {
    const runs = [
      { startedAt: T0, aliveUntil: T0 + H }, // replica A
      { startedAt: T0 + 30 * MIN, aliveUntil: T0 + 2 * H }, // replica B covers A's restart
      { startedAt: T0 + H + 5 * MIN, aliveUntil: T0 + 4 * H }, // A again
      { startedAt: T0 + 5 * H, aliveUntil: null }, // both were down 4 h → 5 h
    ];
    expect(downtimeFrom(runs)).toEqual([{ from: T0 + 4 * H, to: T0 + 5 * H }]);
  });

  it('claims no downtime for a run from before the marks (its end is unknown)', () => {
    expect(
      downtimeFrom([
        { startedAt: T0, aliveUntil: null },
        { startedAt: T0 + H, aliveUntil: T0 + 2 * H },
      ]),
    ).toEqual([]);
  });

  it('subtracts only the overlap with [since, now]', () => {
    const d = [{ from: T0 + 10 * MIN, to: T0 + 20 * MIN }];
    expect(downtimeWithin(T0, T0 + 5 * MIN, d)).toBe(0);
    expect(downtimeWithin(T0, T0 + 15 * MIN, d)).toBe(5 * MIN);
    expect(downtimeWithin(T0 + 15 * MIN, T0 + H, d)).toBe(5 * MIN);
    expect(silenceSince(T0, T0 + H, d)).toBe(50 * MIN);
    expect(silenceSince(T0, T0 + H, undefined)).toBe(H);
  });
});

describe("evaluate: Vigil's own downtime is not a bouncer's silence", () => {
  // A 10 s bouncer (late after 2 min, offline after 10 min). Its last pull at T0; Vigil down from T0 + 5 s
  // (its last mark) to T0 + 15 min, longer than the offline threshold.
  const down = [{ from: T0 + 5 * S, to: T0 + 15 * MIN }];
  const back = T0 + 15 * MIN;

  it('raises nothing while the silence outside the downtime stays under the late threshold (exact boundary)', () => {
    const s = fleet({ bouncers: [bouncer()], downtime: down });
    // Silence counted: 5 s before + time since the start. Late opens after 2 min counted.
    expect(kinds(s, back + 115 * S)).toEqual([]);
    expect(bouncerStatus(bouncer(), back + 55 * S, DEFAULT_RULES, down)).toBe('late'); // shown late after 30 s counted
    expect(bouncerStatus(bouncer(), back + 25 * S, DEFAULT_RULES, down)).toBe('healthy');
    expect(kinds(s, back + 116 * S)).toEqual(['integration_late:bouncer:custom']);
    // Without the downtime, the same bouncer is judged offline at once.
    expect(kinds(fleet({ bouncers: [bouncer()] }), back)).toEqual(['rc_integration_offline:bouncer:custom']);
  });

  it('a bouncer that pulls within its cadence after the start raises nothing at any time', () => {
    const b = bouncer({ lastPullAt: back + 9 * S, lastRequestAt: back + 9 * S });
    for (const now of [back + 9 * S, back + 30 * S, back + 60 * S]) expect(kinds(fleet({ bouncers: [b], downtime: down }), now)).toEqual([]);
  });

  it('a bouncer silent before the outage and still silent after is raised: its silence before and after counts', () => {
    // Last pull 50 s before Vigil went down: 50 s before + 70 s after = 2 min; late opens past it.
    const b = bouncer({ lastPullAt: T0 - 45 * S, lastRequestAt: T0 - 45 * S });
    const s = fleet({ bouncers: [b], downtime: down });
    expect(kinds(s, back + 70 * S)).toEqual([]);
    expect(kinds(s, back + 71 * S)).toEqual(['integration_late:bouncer:custom']);
    // Offline after 10 min counted (not wall time).
    expect(kinds(s, back + 10 * MIN - 50 * S)).toEqual(['integration_late:bouncer:custom']);
    expect(kinds(s, back + 10 * MIN - 49 * S)).toEqual(['rc_integration_offline:bouncer:custom']);
    expect(evaluate(s, back + 71 * S, DEFAULT_RULES)[0]!.since).toBe(T0 - 45 * S);
  });

  it('the 24 h rule counts without the downtime too', () => {
    const b = bouncer({ pullCadenceMs: null, lastPullAt: T0, lastRequestAt: T0 });
    const d = [{ from: T0 + H, to: T0 + 3 * H }];
    expect(kinds(fleet({ bouncers: [b], downtime: d }), T0 + 26 * H)).toEqual([]);
    expect(kinds(fleet({ bouncers: [b], downtime: d }), T0 + 26 * H + 1)).toEqual(['rc_integration_offline:bouncer:custom', 'se_no_active_rc:fleet']);
  });

  it('machines: heartbeat rules (LP Late, LP Offline) count without the downtime', () => {
    // Beats every 60 s: LP Late after 2.5 beats counted (150 s), offline after 30 min counted.
    const m = machine();
    const s = fleet({ bouncers: [bouncer({ lastPullAt: back + 40 * MIN })], machines: [m], downtime: down });
    const lp = (now: number) => kinds(s, now).filter((k) => k.includes('machine'));
    expect(lp(back + 150 * S - 5 * S)).toEqual([]);
    expect(lp(back + 150 * S - 4 * S)).toEqual(['lp_late:machine:agent1']);
    expect(machineStatus(m, back + 2 * MIN, DEFAULT_RULES, down)).toBe('healthy');
    expect(machineStatus(m, back + 2 * MIN, DEFAULT_RULES)).toBe('late'); // 17 min by the wall clock
    expect(lp(back + 30 * MIN - 4 * S)).toEqual(['lp_offline:machine:agent1']);
  });
});

describe("a fall in stage needs the component's own traffic", () => {
  const down: never[] = [];
  it('offline, then a key check (not a pull, not a report): the finding says late but not by its own traffic', () => {
    const probed = bouncer({ lastPullAt: T0, lastRequestAt: T0 + 11 * MIN });
    const [f] = evaluate(fleet({ bouncers: [probed], downtime: down }), T0 + 11 * MIN + 5 * S, DEFAULT_RULES);
    expect(f).toMatchObject({ kind: 'integration_late', ownTraffic: false });
    expect(settleStage({ kind: 'rc_integration_offline', criticality: 'critical' }, f!)).toEqual({ kind: 'rc_integration_offline', criticality: 'critical' });
  });

  it('offline, then a usage report of its own: late, and the issue falls', () => {
    const reporting = bouncer({ lastPullAt: T0, lastRequestAt: T0, lastUsageMetricsAt: T0 + 11 * MIN });
    const [f] = evaluate(fleet({ bouncers: [reporting] }), T0 + 11 * MIN + 5 * S, DEFAULT_RULES);
    expect(f!.kind).toBe('integration_late');
    expect(f!.ownTraffic).toBeUndefined();
    expect(settleStage({ kind: 'rc_integration_offline', criticality: 'critical' }, f!)).toEqual({ kind: 'integration_late', criticality: 'warning' });
  });

  it('a rise is taken whatever the traffic', () => {
    expect(
      settleStage({ kind: 'integration_late', criticality: 'warning' }, { kind: 'rc_integration_offline', criticality: 'critical', ownTraffic: false }),
    ).toEqual({
      kind: 'rc_integration_offline',
      criticality: 'critical',
    });
  });

  it("machines: a login (cscli with the agent's credentials) after the silence began keeps it offline", () => {
    const m = machine({ lastHeartbeatAt: T0, lastPushAt: T0, lastLoginAt: T0 + 31 * MIN });
    const f = evaluate(fleet({ bouncers: [bouncer({ lastPullAt: T0 + 40 * MIN })], machines: [m] }), T0 + 38 * MIN, DEFAULT_RULES).find((x) =>
      x.subject.startsWith('machine:'),
    );
    // Not life at all (evaluate-machines.ts machineLastSeen): no fall to LP Late, nothing to hold back.
    expect(f).toMatchObject({ kind: 'lp_offline' });
  });
});
