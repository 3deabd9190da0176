import { describe, expect, it } from 'vitest';
import { DEFAULT_RULES, evaluate } from './evaluate.ts';
import { learnRhythm, queriesPerMinute, RHYTHM_EXPECTED, rhythmSourceHours, type RhythmHour } from './live-rhythm.ts';
import type { BouncerHealthInput, FleetSnapshot } from './types.ts';
import { bouncerBuilder, fleetSnapshot } from '../../../test/support/health-inputs.ts';

/** A stopped live-mode bouncer (issue 25 item 3) through the real evaluator, across exact boundaries. */
const MONDAY_9 = Date.UTC(2026, 11, 7, 9, 0, 0); // a Monday
const M = 60_000;
const H = 3600_000;

const bouncer = bouncerBuilder(
  { name: 'shop', type: 'nodejs-cs-bouncer', version: 'v0.2.0', ipAddress: '10.0.0.5' },
  { createdAt: MONDAY_9 - 60 * 24 * H, lastPullAt: MONDAY_9 + 10 * M, lastRequestAt: MONDAY_9 + 10 * M },
);
/** The same expectation for the current hour and the five before it. */
function rhythm(fewest: number, weeks = 3, hourNow = MONDAY_9): RhythmHour[] {
  return Array.from({ length: 6 }, (_, j) => ({ hourStart: hourNow - j * H, fewest, weeks }));
}
const fleet = (bouncers: BouncerHealthInput[], over: Partial<FleetSnapshot> = {}) => fleetSnapshot({ bouncers, ...over });
const at = (f: ReturnType<typeof evaluate>) => f.map((x) => `${x.kind}/${x.criticality}/${x.causes[0]?.cause}`);

describe('live rhythm: queries expected at this hour of the week', () => {
  it('reads the once-a-minute recording as a rate: c recorded in an hour is c / (60 - c) a minute', () => {
    expect(queriesPerMinute(30)).toBe(1);
    expect(queriesPerMinute(50)).toBe(5);
    expect(queriesPerMinute(60)).toBe(29); // capped: an hour of 60 says "at least every minute"
    expect(RHYTHM_EXPECTED).toBe(18);
  });

  it('learns the fewest per hour of the week over the weeks it existed and was recorded (what the store and a simulation feed in)', () => {
    const W = 7 * 24 * H;
    const now = MONDAY_9 + 20 * M;
    expect(rhythmSourceHours(now)).toHaveLength(24);
    expect(rhythmSourceHours(now)).toContain(MONDAY_9 - 4 * W);
    const recorded = new Map([
      [MONDAY_9 - W, 50],
      [MONDAY_9 - 2 * W, 41],
      [MONDAY_9 - 3 * W, 55],
    ]);
    const r = learnRhythm((h) => recorded.get(h) ?? 0, MONDAY_9 - 100 * W, MONDAY_9 - 3 * W, now);
    expect(r[0]).toEqual({ hourStart: MONDAY_9, fewest: 41, weeks: 3 });
    // 08:00 three weeks ago came before its first recorded hour: 2 weeks, none recorded.
    expect(r[1]).toEqual({ hourStart: MONDAY_9 - H, fewest: 0, weeks: 2 });
    expect(learnRhythm(() => 60, MONDAY_9 - 100 * W, null, now).every((h) => h.weeks === 0)).toBe(true);
  });

  it('at steady traffic (5 a minute) raises Integration Late after exactly 5 min of silence (the floor)', () => {
    const b = bouncer({ queryRhythm: rhythm(50) });
    expect(evaluate(fleet([b]), MONDAY_9 + 15 * M - 1, DEFAULT_RULES)).toEqual([]);
    const [f] = evaluate(fleet([b]), MONDAY_9 + 15 * M, DEFAULT_RULES);
    expect(at([f!])).toEqual(['integration_late/warning/live_silent']);
    expect(f!.since).toBe(MONDAY_9 + 10 * M);
    expect(f!.causes[0]!.confidence).toBe('medium');
    expect(f!.causes[0]!.evidence[0]).toMatch(
      /no live query for 5m0s .* about 5\.0 a minute at this hour: 25 queries expected, so a running bouncer would be this silent with probability about 1e-11/,
    );
  });

  it('at 1 a minute needs 18 min: the expected count must reach 18', () => {
    const b = bouncer({ queryRhythm: rhythm(30) });
    expect(evaluate(fleet([b]), MONDAY_9 + 28 * M - 1, DEFAULT_RULES)).toEqual([]);
    expect(at(evaluate(fleet([b]), MONDAY_9 + 28 * M, DEFAULT_RULES))).toEqual(['integration_late/warning/live_silent']);
  });

  it('never on a quiet hour (fewer than 20 recorded in one of the weeks), nor with one week learnt', () => {
    const quiet = bouncer({ queryRhythm: rhythm(19) });
    expect(evaluate(fleet([quiet]), MONDAY_9 + 5 * H, DEFAULT_RULES)).toEqual([]);
    const young = bouncer({ queryRhythm: rhythm(55, 1) });
    expect(evaluate(fleet([young]), MONDAY_9 + 5 * H, DEFAULT_RULES)).toEqual([]);
  });

  it('a silence that began in a quiet night counts only the busy hours: raised 5 min into the morning', () => {
    const morning = MONDAY_9;
    const r: RhythmHour[] = [
      { hourStart: morning, fewest: 50, weeks: 4 },
      ...Array.from({ length: 5 }, (_, j) => ({ hourStart: morning - (j + 1) * H, fewest: 2, weeks: 4 })),
    ];
    const b = bouncer({ lastPullAt: morning - 5 * H, lastRequestAt: morning - 5 * H, queryRhythm: r });
    expect(evaluate(fleet([b]), morning + 3 * M, DEFAULT_RULES)).toEqual([]);
    expect(at(evaluate(fleet([b]), morning + 4 * M, DEFAULT_RULES))).toEqual(['integration_late/warning/live_silent']);
  });

  it('counts from the Local API start when it restarted during the silence (nothing could be heard while it was down)', () => {
    const b = bouncer({ queryRhythm: rhythm(50) });
    const s = fleet([b], { lapiStarts: [MONDAY_9 + 20 * M] });
    expect(evaluate(s, MONDAY_9 + 25 * M - 1, DEFAULT_RULES)).toEqual([]);
    expect(at(evaluate(s, MONDAY_9 + 25 * M, DEFAULT_RULES))).toEqual(['integration_late/warning/live_silent']);
  });

  it('is healthy again at its next query', () => {
    const b = bouncer({ queryRhythm: rhythm(50), lastRequestAt: MONDAY_9 + 30 * M });
    expect(evaluate(fleet([b]), MONDAY_9 + 31 * M, DEFAULT_RULES)).toEqual([]);
  });
});

describe('live bouncer usage-metrics reports', () => {
  const reporting = (over: Partial<BouncerHealthInput> = {}) =>
    bouncer({ lastPullAt: MONDAY_9 - H, lastRequestAt: MONDAY_9 - H, lastUsageMetricsAt: MONDAY_9, usageReportPeriodMs: 15 * M, ...over });

  it('late after two reports missed in a row: 2 × 15 min + 1 min of silence', () => {
    expect(evaluate(fleet([reporting()]), MONDAY_9 + 31 * M, DEFAULT_RULES)).toEqual([]);
    const [f] = evaluate(fleet([reporting()]), MONDAY_9 + 31 * M + 1, DEFAULT_RULES);
    expect(at([f!])).toEqual(['integration_late/warning/live_silent']);
    expect(f!.causes[0]!.evidence[0]).toContain('its usage-metrics reports (every 15m0s) stopped: none for 31m0s, 2 missed in a row');
  });

  it('a quiet site whose bouncer never had a visitor to look up (no pull yet) is judged by its reports too', () => {
    const quiet = reporting({ lastPullAt: null, lastRequestAt: null });
    expect(evaluate(fleet([quiet]), MONDAY_9 + 31 * M, DEFAULT_RULES)).toEqual([]);
    expect(at(evaluate(fleet([quiet]), MONDAY_9 + 31 * M + 1, DEFAULT_RULES))).toEqual(['integration_late/warning/live_silent']);
  });

  it('Critical when the rhythm agrees', () => {
    const b = reporting({ lastRequestAt: MONDAY_9, queryRhythm: rhythm(50, 3, MONDAY_9 + H) });
    const [f] = evaluate(fleet([b]), MONDAY_9 + 32 * M, DEFAULT_RULES);
    expect(at([f!])).toEqual(['rc_integration_offline/critical/live_silent']);
    expect(f!.causes[0]!.confidence).toBe('high');
  });

  it('ignores periods that are no cadence (under a minute) and suggests a canary when it has neither signal', () => {
    expect(evaluate(fleet([reporting({ usageReportPeriodMs: 30_000 })]), MONDAY_9 + 5 * H, DEFAULT_RULES)).toEqual([]);
    const [f] = evaluate(fleet([bouncer({ lastPullAt: MONDAY_9 - 25 * H, lastRequestAt: MONDAY_9 - 25 * H })]), MONDAY_9, DEFAULT_RULES);
    expect(f!.kind).toBe('rc_integration_offline');
    expect(f!.notes.join('\n')).toContain('a canary proves it blocks');
    const [g] = evaluate(fleet([reporting({ lastUsageMetricsAt: MONDAY_9 - 25 * H })]), MONDAY_9, DEFAULT_RULES);
    expect(g!.notes.join('\n')).not.toContain('canary');
  });

  it('leaves stream bouncers to their pull cadence', () => {
    const stream = reporting({ pullCadenceMs: 10_000, lastPullAt: MONDAY_9 + 40 * M, lastRequestAt: MONDAY_9 + 40 * M });
    expect(evaluate(fleet([stream]), MONDAY_9 + 40 * M + 30_000, DEFAULT_RULES)).toEqual([]);
  });
});
