import { describe, expect, it } from 'vitest';
import { exactTime, humanDuration, relativeTime } from './human-time.ts';

const NOW = Date.UTC(2026, 10, 24, 12, 0, 0);

describe('format', () => {
  it('says how long ago, in the unit a person reads at a glance', () => {
    expect(relativeTime(NOW - 2000, NOW)).toBe('just now');
    expect(relativeTime(NOW - 42_000, NOW)).toBe('42 s ago');
    expect(relativeTime(NOW - 3 * 60_000 - 59_000, NOW)).toBe('3 min ago');
    expect(relativeTime(NOW - 5 * 3600_000, NOW)).toBe('5 h ago');
    expect(relativeTime(NOW - 47 * 3600_000, NOW)).toBe('47 h ago');
    expect(relativeTime(NOW - 3 * 86400_000, NOW)).toBe('3 d ago');
    expect(relativeTime(NOW + 4 * 3600_000, NOW)).toBe('in 4 h');
  });
  it('gives exact times in UTC and durations in two units at most', () => {
    expect(exactTime(NOW + 3_456)).toBe('2026-11-24 12:00:03 UTC');
    expect(humanDuration(0)).toBe('0 s');
    expect(humanDuration(45_000)).toBe('45 s');
    expect(humanDuration(3 * 3600_000 + 59 * 60_000 + 30_000)).toBe('3 h 59 min');
    expect(humanDuration(2 * 86400_000 + 3 * 3600_000 + 5_000)).toBe('2 d 3 h');
    expect(humanDuration(2 * 86400_000 + 5 * 60_000)).toBe('2 d');
  });
});
