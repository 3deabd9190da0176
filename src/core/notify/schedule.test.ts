import { describe, expect, it } from 'vitest';
import { checkSchedule, nextWindow, windowAt, type Schedule } from './schedule.ts';
import { instantOf, wallClockAt } from './zoned-time.ts';
import { globToRegExp } from './glob.ts';

const M = 60_000;
const where = (k: string) => `maintenance[0].${k}`;
const nightly: Schedule = { at: '02:00', lastingMs: 30 * M, days: [], timeZone: 'Europe/Paris' };
const iso = (t: number | undefined) => (t === undefined ? undefined : new Date(t).toISOString());

describe('zoned wall clock', () => {
  it('reads Paris time in winter (+01:00) and summer (+02:00)', () => {
    expect(iso(wallClockAt(Date.parse('2026-01-15T01:00:00Z'), 'Europe/Paris'))).toBe('2026-01-15T02:00:00.000Z');
    expect(iso(wallClockAt(Date.parse('2026-07-15T00:00:00Z'), 'Europe/Paris'))).toBe('2026-07-15T02:00:00.000Z');
  });

  it('moves a time inside the spring gap forward by the gap, and takes the first of an autumn time that happens twice', () => {
    // 2026-03-29: Paris jumps from 02:00 to 03:00; 2026-10-25: from 03:00 back to 02:00.
    expect(iso(instantOf(Date.parse('2026-03-29T02:30:00Z'), 'Europe/Paris'))).toBe('2026-03-29T01:30:00.000Z'); // 03:30 CEST
    expect(iso(instantOf(Date.parse('2026-10-25T02:30:00Z'), 'Europe/Paris'))).toBe('2026-10-25T00:30:00.000Z'); // the first 02:30 (CEST)
    expect(iso(instantOf(Date.parse('2026-10-25T04:00:00Z'), 'Europe/Paris'))).toBe('2026-10-25T03:00:00.000Z'); // after: CET
  });
});

describe('recurring windows', () => {
  it('every night 02:00–02:30 Paris time: open inside, closed at its edges in UTC for winter and summer', () => {
    // Winter: 02:00 Paris = 01:00Z.
    expect(windowAt(nightly, Date.parse('2026-01-15T00:59:59Z'))).toBeNull();
    expect(iso(windowAt(nightly, Date.parse('2026-01-15T01:00:00Z'))?.start)).toBe('2026-01-15T01:00:00.000Z');
    expect(iso(windowAt(nightly, Date.parse('2026-01-15T01:29:59Z'))?.end)).toBe('2026-01-15T01:30:00.000Z');
    expect(windowAt(nightly, Date.parse('2026-01-15T01:30:00Z'))).toBeNull();
    // Summer: 02:00 Paris = 00:00Z.
    expect(windowAt(nightly, Date.parse('2026-07-15T00:10:00Z'))).not.toBeNull();
    expect(windowAt(nightly, Date.parse('2026-07-15T01:10:00Z'))).toBeNull();
  });

  it('on the spring-forward night (no 02:00 in Paris) the window opens at 03:00 CEST and still lasts 30 minutes', () => {
    const w = windowAt(nightly, Date.parse('2026-03-29T01:15:00Z'));
    expect(iso(w?.start)).toBe('2026-03-29T01:00:00.000Z');
    expect(iso(w?.end)).toBe('2026-03-29T01:30:00.000Z');
    expect(windowAt(nightly, Date.parse('2026-03-29T00:59:00Z'))).toBeNull();
  });

  it('on the fall-back night 02:00 happens twice: the window is the first one, once', () => {
    const late: Schedule = { ...nightly, at: '02:30' };
    expect(iso(windowAt(late, Date.parse('2026-10-25T00:45:00Z'))?.start)).toBe('2026-10-25T00:30:00.000Z');
    expect(windowAt(late, Date.parse('2026-10-25T01:45:00Z'))).toBeNull();
  });

  it('a window across midnight holds on both sides; named days open only on those days (Paris Sunday)', () => {
    const sunday: Schedule = { at: '23:00', lastingMs: 120 * M, days: ['sun'], timeZone: 'Europe/Paris' };
    // 2026-12-06 is a Sunday: 23:00 Paris = 22:00Z, until Monday 01:00 Paris = 00:00Z.
    expect(windowAt(sunday, Date.parse('2026-12-06T21:59:00Z'))).toBeNull();
    expect(windowAt(sunday, Date.parse('2026-12-06T22:00:00Z'))).not.toBeNull();
    expect(windowAt(sunday, Date.parse('2026-12-06T23:59:00Z'))).not.toBeNull();
    expect(windowAt(sunday, Date.parse('2026-12-07T00:00:00Z'))).toBeNull();
    expect(windowAt(sunday, Date.parse('2026-12-07T22:30:00Z'))).toBeNull(); // Monday
    expect(iso(nextWindow(sunday, Date.parse('2026-12-07T00:00:00Z')).start)).toBe('2026-12-13T22:00:00.000Z');
  });

  it('checks what an operator writes, naming the key', () => {
    expect(checkSchedule({ at: '02:00', lastingMs: 30 * M, days: ['Sunday', 'sat', 'sun'], timeZone: 'UTC' }, where).days).toEqual(['sun', 'sat']);
    expect(() => checkSchedule({ at: '2am', lastingMs: 30 * M, days: [], timeZone: 'UTC' }, where)).toThrow(/maintenance\[0\]\.at "2am": a 24-hour time HH:MM/);
    expect(() => checkSchedule({ at: '24:00', lastingMs: 30 * M, days: [], timeZone: 'UTC' }, where)).toThrow(/HH:MM/);
    expect(() => checkSchedule({ at: '02:00', lastingMs: 8 * 1440 * M, days: [], timeZone: 'UTC' }, where)).toThrow(/lasting: more than 0 and at most 7d/);
    expect(() => checkSchedule({ at: '02:00', lastingMs: 30 * M, days: ['sunnday'], timeZone: 'UTC' }, where)).toThrow(/days "sunnday": a weekday/);
    expect(() => checkSchedule({ at: '02:00', lastingMs: 30 * M, days: [], timeZone: 'Mars/Olympus' }, where)).toThrow(
      /timezone "Mars\/Olympus": an IANA time zone/,
    );
  });
});

describe('name globs', () => {
  it('* is any run, ? one character, the rest literal', () => {
    const edge = globToRegExp('edge-*');
    expect(['edge-1', 'edge-', 'edge-par-02'].every((n) => edge.test(n))).toBe(true);
    expect(edge.test('xedge-1')).toBe(false);
    const fw = globToRegExp('fw-?');
    expect(fw.test('fw-1')).toBe(true);
    expect(fw.test('fw-12')).toBe(false);
    expect(globToRegExp('a.b').test('axb')).toBe(false);
    expect(globToRegExp('a+(b)').test('a+(b)')).toBe(true);
  });
});
