import { describe, expect, it } from 'vitest';
import { DEFAULT_RULES, evaluate } from './evaluate.ts';
import { FLEET_SILENT_AFTER_MS, FLEET_SILENT_MIN_BOUNCERS, FLEET_SILENT_MIN_SHARE, FLEET_SILENT_WINDOW_MS, fleetSilence } from './fleet-silence.ts';
import { issueRunbook } from './issue-view.ts';
import { causeText } from './causes.ts';
import type { BouncerHealthInput, FleetSnapshot } from './types.ts';
import { openIssue } from '../../../test/support/health-issues.ts';

/** Many bouncers silent at the same moment (fleet-silence.ts), alone and through the evaluator, across its exact boundaries. */
const T = Date.UTC(2026, 11, 7, 9, 0, 0);
const S = 1000;
/** A 10 s bouncer is shown late (statusLateMs) once silent for more than 30 s, and raises Integration Late after 60 s. */
const STATUS_LATE = 30 * S;

function bouncer(i: number, over: Partial<BouncerHealthInput> = {}): BouncerHealthInput {
  return {
    id: i + 1,
    name: `fw-${i}`,
    type: 'crowdsec-firewall-bouncer',
    version: 'v0.0.31',
    ipAddress: `10.0.0.${i + 1}`,
    kind: 'firewall',
    revoked: false,
    createdAt: T - 30 * 24 * 3600_000,
    lastPullAt: T,
    lastRequestAt: T,
    pullCadenceMs: 10 * S,
    lastUsageMetricsAt: null,
    ...over,
  };
}
const fleet = (n: number, over: (i: number) => Partial<BouncerHealthInput> = () => ({})) => Array.from({ length: n }, (_, i) => bouncer(i, over(i)));
const snap = (bouncers: BouncerHealthInput[], more: Partial<FleetSnapshot> = {}): FleetSnapshot => ({
  bouncers,
  refused: [],
  lapiStarts: [T - 24 * 3600_000],
  bouncerChanges: [],
  ...more,
});
const kinds = (s: FleetSnapshot, now: number) =>
  evaluate(s, now, DEFAULT_RULES)
    .map((f) => `${f.kind} ${f.subject}`)
    .sort();

describe('fleet-wide silence', () => {
  it('holds the bouncers once they are shown late together, and raises the fleet issue only past FLEET_SILENT_AFTER_MS', () => {
    const all = fleet(10);
    expect(fleetSilence(all, T + STATUS_LATE, DEFAULT_RULES)).toBeNull();
    const held = fleetSilence(all, T + STATUS_LATE + 1, DEFAULT_RULES);
    expect([...held!.held].sort()).toEqual(all.map((b) => b.name).sort());
    expect(held!.finding).toBeNull();
    expect(fleetSilence(all, T + FLEET_SILENT_AFTER_MS, DEFAULT_RULES)!.finding).toBeNull();
    const raised = fleetSilence(all, T + FLEET_SILENT_AFTER_MS + 1, DEFAULT_RULES)!.finding!;
    expect(raised).toMatchObject({ kind: 'fleet_silent', criticality: 'critical', subject: 'fleet', bouncerName: null, since: T });
    expect(raised.causes[0]!.cause).toBe('fleet_network');
    expect(raised.summary).toContain('10 of 10 steady bouncers');
  });

  it(`needs ${FLEET_SILENT_MIN_BOUNCERS} bouncers and ${FLEET_SILENT_MIN_SHARE * 100} % of the steady ones`, () => {
    const now = T + STATUS_LATE + 1;
    expect(fleetSilence(fleet(FLEET_SILENT_MIN_BOUNCERS - 1), now, DEFAULT_RULES)).toBeNull();
    expect(fleetSilence(fleet(FLEET_SILENT_MIN_BOUNCERS), now, DEFAULT_RULES)?.held.size).toBe(FLEET_SILENT_MIN_BOUNCERS);
    // 1,000 steady bouncers: 10 are needed; the others pulled just now.
    const silentFirst = (k: number) => fleet(1000, (i) => (i < k ? {} : { lastPullAt: now, lastRequestAt: now }));
    expect(fleetSilence(silentFirst(9), now, DEFAULT_RULES)).toBeNull();
    expect(fleetSilence(silentFirst(10), now, DEFAULT_RULES)?.held.size).toBe(10);
    // Live-mode bouncers (no cadence) and revoked ones are not steady: they count for nothing.
    const others = [...fleet(5), ...fleet(60, (i) => ({ name: `live-${i}`, pullCadenceMs: null, lastPullAt: now })), bouncer(99, { revoked: true })];
    expect(fleetSilence(others, now, DEFAULT_RULES)?.held.size).toBe(5);
  });

  it(`takes "the same moment" as last pulls within ${FLEET_SILENT_WINDOW_MS / 1000} s of each other`, () => {
    const now = T + 10 * 60 * S;
    const spread = (w: number) => fleet(5, (i) => ({ lastPullAt: T + (i * w) / 4, lastRequestAt: T + (i * w) / 4 }));
    expect(fleetSilence(spread(FLEET_SILENT_WINDOW_MS), now, DEFAULT_RULES)?.held.size).toBe(5);
    expect(fleetSilence(spread(FLEET_SILENT_WINDOW_MS + 4), now, DEFAULT_RULES)).toBeNull();
  });

  it("does not count Vigil's own downtime as anyone's silence", () => {
    const all = fleet(10);
    expect(fleetSilence(all, T + STATUS_LATE + 1, DEFAULT_RULES, [{ from: T + 5 * S, to: T + 6 * S }])).toBeNull();
    expect(fleetSilence(all, T + STATUS_LATE + S + 1, DEFAULT_RULES, [{ from: T + 5 * S, to: T + 6 * S }])?.held.size).toBe(10);
  });

  it('through the evaluator: one fleet issue instead of N, a bouncer silent on its own still raised, fail-open never held', () => {
    const alone = bouncer(50, { name: 'alone', lastPullAt: T - 10 * 60 * S, lastRequestAt: T - 10 * 60 * S });
    const refusedFrom = bouncer(51, { name: 'wrong-key', ipAddress: '10.0.9.9' });
    const s = snap([...fleet(10), alone, refusedFrom], {
      refusedSummaries: [
        {
          peerIp: '10.0.9.9',
          userAgent: 'crowdsec-firewall-bouncer/v0.0.31',
          reason: 'unknown',
          keyFingerprint: '00ff00ff00ff00ff',
          severalKeys: false,
          bouncerName: '',
          method: 'GET',
          path: '/v1/decisions/stream',
          firstAt: T + 10 * S,
          lastAt: T + 60 * S,
          count: 12,
        },
      ],
    });
    // Past Integration Late (60 s) for all: held, but 'alone' (silent since long before) and the refused one are raised.
    expect(kinds(s, T + 70 * S)).toEqual(['fw_integration_offline bouncer:alone', 'fw_integration_offline bouncer:wrong-key']);
    expect(kinds(s, T + FLEET_SILENT_AFTER_MS + 1)).toEqual([
      'fleet_silent fleet',
      'fw_integration_offline bouncer:alone',
      'fw_integration_offline bouncer:wrong-key',
    ]);
    // Eight came back: the two still silent are no fleet any more, each is raised on its own.
    const now = T + 3 * 60 * S;
    const back = snap(fleet(10, (i) => (i < 8 ? { lastPullAt: now - S, lastRequestAt: now - S } : {})));
    expect(kinds(back, now)).toEqual(['integration_late bouncer:fw-8', 'integration_late bouncer:fw-9']);
  });

  it('names its cause and has a runbook that looks between the bouncers and the Local API', () => {
    expect(causeText('fleet_network')).toContain('network or Local API host');
    const finding = fleetSilence(fleet(10), T + FLEET_SILENT_AFTER_MS + 1, DEFAULT_RULES)!.finding!;
    const { kind, criticality, subject, since, summary, causes, notes } = finding;
    const issue = openIssue(T, { kind, criticality, subject, since, summary, evidence: { causes, notes } });
    const r = issueRunbook(issue, undefined, 'http://10.0.0.1:8080/', 'host')!;
    expect(r.title).toContain('Fleet Silent');
    expect(r.sections.map((x) => x.title)).toEqual(['Diagnose', 'Resolve', 'Verify']);
    expect(r.sections[0]!.steps.flatMap((x) => x.commands).join('\n')).toContain("curl -sS -m 5 -o /dev/null -w '%{http_code}\\n' http://10.0.0.1:8080/health");
  });
});

describe('a bouncer that closed its own connection (its process exited: server/connection-watch.ts)', () => {
  const one = (over: Partial<BouncerHealthInput>) => snap([bouncer(0, over)]);
  const late = (s: FleetSnapshot, now: number) => evaluate(s, now, DEFAULT_RULES).filter((f) => f.kind === 'integration_late');

  it('is raised after 75 s of silence, not the 2 min that ride out a network blip', () => {
    const closed = one({ connectionClosedAt: T + 2 * S });
    expect(late(closed, T + 75 * S)).toEqual([]);
    const [f] = late(closed, T + 75 * S + 1);
    expect(f!.notes.at(-1)).toBe(
      'it closed its connection to the Local API at 2026-12-07T09:00:02Z, after its last pull, and has not reconnected: its process stopped or was killed (a network cut closes nothing)',
    );
    // Silent with its connection open (a blip, a frozen host): the 2 min floor.
    expect(late(one({}), T + 120 * S)).toEqual([]);
    expect(late(one({}), T + 120 * S + 1)).toHaveLength(1);
  });

  it('a close before its last pull (it reconnected and pulled since) changes nothing', () => {
    expect(late(one({ connectionClosedAt: T - S }), T + 75 * S + 1)).toEqual([]);
    expect(late(one({ connectionClosedAt: T - S }), T + 120 * S + 1)).toHaveLength(1);
  });
});
