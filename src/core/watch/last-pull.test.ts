import { describe, expect, it } from 'vitest';
import { lastSeenFrom } from './last-pull.ts';

describe('the last pull from exact times and counter rises', () => {
  it('an exact log or database time inside the rise window wins over the scrape time', () => {
    // The field case: last pull 16:00:52.650 in the log and the DB, scrape at 16:01:08.
    const pull = Date.UTC(2026, 11, 7, 16, 0, 52, 650);
    expect(lastSeenFrom(pull, { after: pull - 14_000, at: pull + 15_350 })).toBe(pull);
  });
  it('a rise the exact times do not cover (the log cannot name the bouncer) is dated by its scrape', () => {
    expect(lastSeenFrom(1000, { after: 5000, at: 35_000 })).toBe(35_000);
    expect(lastSeenFrom(null, { after: 5000, at: 35_000 })).toBe(35_000);
  });
  it('a log time floored to its second, just before the previous scrape, still covers the rise', () => {
    expect(lastSeenFrom(52_000, { after: 52_500, at: 82_500 })).toBe(52_000);
  });
  it('no rise: the exact time as it is', () => {
    expect(lastSeenFrom(1234, null)).toBe(1234);
    expect(lastSeenFrom(null, null)).toBeNull();
  });
});
