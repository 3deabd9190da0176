import { describe, expect, it } from 'vitest';
import { DEFAULT_RETENTION, expiredSentSince, FIXED_BOUNDS, planRetention, tablesDueForVacuum } from './plan.ts';

const NOW = Date.UTC(2026, 11, 1);
const DAY = 86_400_000;

describe('retention plan', () => {
  it('cuts each table at its window from the clock', () => {
    const c = planRetention(NOW, { maxAgeMs: 2 * DAY, maxItems: 10, historyMaxAgeMs: 40 * DAY });
    expect(c).toMatchObject({
      decisionsExpiredBy: NOW - 2 * DAY,
      alertsCreatedBy: NOW - 2 * DAY,
      alertsMaxItems: 10,
      resolvedIssuesBy: NOW - 40 * DAY,
      bouncerChangesBy: NOW - 40 * DAY,
      pullHoursBefore: NOW - FIXED_BOUNDS.pullHoursMs,
      endedSessionsBy: NOW,
    });
  });

  it('a startup stream sends expiries back to exactly where the purge cuts', () => {
    expect(expiredSentSince(NOW, DEFAULT_RETENTION)).toBe(planRetention(NOW, DEFAULT_RETENTION).decisionsExpiredBy);
  });

  it('a table is vacuumed once its deletions since the last vacuum reach the threshold, not before', () => {
    expect(tablesDueForVacuum({ decisions: 9_999, alerts: 0 }, 10_000)).toEqual([]);
    expect(tablesDueForVacuum({ decisions: 10_000, alerts: 40 }, 10_000)).toEqual(['decisions']);
    expect(tablesDueForVacuum({ decisions: 25_000, alerts: 12_000 }, 10_000)).toEqual(['decisions', 'alerts']);
  });
});
