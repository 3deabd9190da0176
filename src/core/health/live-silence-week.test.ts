import { describe, expect, it } from 'vitest';
import { DEFAULT_RULES, evaluate } from './evaluate.ts';
import { learnRhythm, RHYTHM_EXPECTED, RHYTHM_EXPECTED_WITH_REPORT } from './live-rhythm.ts';
import type { BouncerHealthInput } from './types.ts';
import { bouncerBuilder, fleetSnapshot } from '../../../test/support/health-inputs.ts';

/**
 * A stopped live-mode bouncer judged over a whole week of its own traffic (issue 25 item 3): the
 * rhythm is learnt at each evaluation from a recorded history (as the store feeds it), the clock is
 * the evaluation's `now`. A busy site pages within minutes whatever the hour boundary; a quiet
 * night and a quiet weekend never page; one missed report pages sooner only with a silence that
 * began before the report was due.
 */
const M = 60_000;
const H = 60 * M;
const D = 24 * H;
const MONDAY = Date.UTC(2026, 11, 7); // 00:00 UTC, a Monday
const at = (day: number, hour: number, minute = 0) => MONDAY + day * D + hour * H + minute * M;

/** Live queries recorded per hour: weekdays busy 09:00–18:00, quieter evenings, quiet nights and weekends. */
function usualHour(hourStart: number, busy: number): number {
  const day = Math.floor((hourStart - MONDAY) / D);
  const dow = ((day % 7) + 7) % 7; // 0 = Monday
  const hour = Math.floor(((((hourStart - MONDAY) % D) + D) % D) / H);
  if (dow >= 5) return 8;
  if (hour >= 9 && hour < 18) return busy;
  return hour >= 18 && hour < 23 ? 12 : 2;
}

const bouncer = bouncerBuilder(
  { name: 'shop', type: 'crowdsec-nginx-bouncer', version: 'v1.0.6', ipAddress: '10.0.0.5' },
  { createdAt: MONDAY - 60 * D, lastPullAt: null, lastRequestAt: null },
);

/** The bouncer as the engine gives it at `now`: last seen at `lastAt`, its rhythm learnt from 4 usual weeks. */
function seen(now: number, lastAt: number, busy: number, over: Partial<BouncerHealthInput> = {}): BouncerHealthInput {
  const queryRhythm = learnRhythm((h) => usualHour(h, busy), MONDAY - 60 * D, MONDAY - 5 * 7 * D, now);
  return bouncer({ lastPullAt: lastAt, lastRequestAt: lastAt, queryRhythm, ...over });
}
const judge = (b: BouncerHealthInput, now: number) =>
  evaluate(fleetSnapshot({ bouncers: [b] }), now, DEFAULT_RULES).map((f) => `${f.kind}/${f.causes[0]?.cause}`);

/** Every evaluation (10 s apart) from `from` to `to` finds nothing. */
function silentThrough(from: number, to: number, make: (now: number) => BouncerHealthInput): void {
  for (let now = from; now <= to; now += 10_000) expect(judge(make(now), now), new Date(now).toISOString()).toEqual([]);
}

describe('a stopped live bouncer over its week', () => {
  it('a busy site (5 queries a minute) stopped 2 min before the hour pages 5 min after its last query, across the hour boundary', () => {
    const last = at(0, 10, 58);
    silentThrough(last + 10_000, last + 5 * M - 1, (now) => seen(now, last, 50));
    expect(judge(seen(last + 5 * M, last, 50), last + 5 * M)).toEqual(['integration_late/live_silent']);
  });

  /** Into a busy hour (5 a minute), the instant RHYTHM_EXPECTED queries are expected. */
  const intoBusy = Math.ceil((RHYTHM_EXPECTED / 5) * M);

  it('a quiet night never pages: stopped at 23:00, it pages minutes into the busy morning', () => {
    const last = at(1, 23);
    silentThrough(last + 10_000, at(2, 9) + intoBusy - 1, (now) => seen(now, last, 50));
    expect(judge(seen(at(2, 9) + intoBusy, last, 50), at(2, 9) + intoBusy)).toEqual(['integration_late/live_silent']);
  });

  it('a quiet weekend never pages: a Saturday with no query from 08:00 to 23:59 (8 recorded an hour is quiet)', () => {
    const last = at(5, 8);
    silentThrough(last + 10_000, at(5, 23, 59), (now) => seen(now, last, 50));
  });

  it('a weekend it stopped in pages on Monday morning, or at the 24 h rule if that comes first', () => {
    const last = at(6, 12);
    silentThrough(last + 10_000, at(7, 9) + intoBusy - 1, (now) => seen(now, last, 50));
    expect(judge(seen(at(7, 9) + intoBusy, last, 50), at(7, 9) + intoBusy)).toEqual(['integration_late/live_silent']);
  });

  it('the rhythm alone at 1 query a minute (30 recorded an hour) waits for RHYTHM_EXPECTED queries of silence', () => {
    const last = at(0, 10, 4);
    const page = last + RHYTHM_EXPECTED * M;
    silentThrough(last + 10_000, page - 1, (now) => seen(now, last, 30));
    expect(judge(seen(page, last, 30), page)).toEqual(['integration_late/live_silent']);
  });
});

describe('one missed usage report with an unlikely traffic silence', () => {
  const every15 = (lastReport: number) => ({ lastUsageMetricsAt: lastReport, usageReportPeriodMs: 15 * M });

  it('pages when the report due at 10:15 has not come by 10:16 and its traffic (1 a minute) is silent since 10:04', () => {
    const last = at(0, 10, 4);
    const due = at(0, 10, 15);
    const make = (now: number) => seen(now, last, 30, every15(at(0, 10)));
    silentThrough(last + 10_000, due + M, make);
    const [f] = evaluate(fleetSnapshot({ bouncers: [make(due + M + 1)] }), due + M + 1, DEFAULT_RULES);
    expect(`${f!.kind}/${f!.criticality}/${f!.causes[0]!.cause}/${f!.causes[0]!.confidence}`).toBe('integration_late/warning/live_silent/medium');
    expect(f!.summary).toContain('its usage-metrics report (every 15m0s) is overdue');
    expect(f!.causes[0]!.evidence.join('\n')).toMatch(/12 queries expected[\s\S]*report due 1m0s ago \(every 15m0s\) did not come/);
    expect(12).toBeGreaterThanOrEqual(RHYTHM_EXPECTED_WITH_REPORT);
    // Its report came: the same silence alone is not enough yet.
    expect(judge(seen(due + M + 1, last, 30, every15(due)), due + M + 1)).toEqual([]);
  });

  it('not when the silence began after the report was due (a report lost to a blip, then a quiet spell)', () => {
    const last = at(0, 10, 20);
    const make = (now: number) => seen(now, last, 30, every15(at(0, 10)));
    // One report missed (due 10:15) and 12 queries expected by 10:32: but the silence came after it.
    silentThrough(last + 10_000, last + RHYTHM_EXPECTED * M - 1, make);
  });

  it('not on a quiet night: one missed report at 02:15 with 2 queries an hour waits for the second (02:31)', () => {
    const last = at(1, 1, 59);
    const make = (now: number) => seen(now, last, 50, every15(at(1, 2)));
    silentThrough(last + 10_000, at(1, 2, 31), make);
    expect(judge(make(at(1, 2, 31) + 1), at(1, 2, 31) + 1)).toEqual(['integration_late/live_silent']);
  });
});
