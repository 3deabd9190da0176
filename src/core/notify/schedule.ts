import { VigilError } from '../../lib/errors.ts';
import { instantOf, isTimeZone, wallClockAt } from './zoned-time.ts';

/**
 * A recurring maintenance window: every day (or on the days named) at a wall-clock time in a time
 * zone, for a while. "Every night 02:00–02:30 Paris time" is `{ at: '02:00', lastingMs: 30 min,
 * days: [], timeZone: 'Europe/Paris' }`; "every Sunday" names `days: ['sun']`.
 */
export interface Schedule {
  /** HH:MM, 24-hour, wall clock in `timeZone`. */
  at: string;
  /** Real elapsed time, so a window over a DST change still lasts what it says. */
  lastingMs: number;
  /** Days the window opens on (the day its start falls on); empty: every day. */
  days: Weekday[];
  timeZone: string;
}

export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

const FULL_NAMES: Record<Weekday, string> = {
  sun: 'sunday',
  mon: 'monday',
  tue: 'tuesday',
  wed: 'wednesday',
  thu: 'thursday',
  fri: 'friday',
  sat: 'saturday',
};

const DAY = 86_400_000;
/** A longer "window" is a silence; a week also bounds the search below. */
export const MAX_WINDOW_MS = 7 * DAY;

/** Checks a schedule as written (config or CLI), naming the field (`where`) and the fix. */
export function checkSchedule(
  raw: { at: string; lastingMs: number; days: readonly string[]; timeZone: string },
  where: (key: string) => string,
  code: 'E_CONFIG' | 'E_USAGE' = 'E_CONFIG',
): Schedule {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(raw.at);
  if (!m) throw new VigilError(code, `${where('at')} "${raw.at}": a 24-hour time HH:MM, e.g. 02:00`);
  if (!(raw.lastingMs > 0 && raw.lastingMs <= MAX_WINDOW_MS))
    throw new VigilError(code, `${where('lasting')}: more than 0 and at most 7d, e.g. 30m (a longer pause is a silence with --for)`);
  const days: Weekday[] = [];
  for (const d of raw.days) {
    const word = d.trim().toLowerCase();
    const day = word.slice(0, 3) as Weekday;
    if (!WEEKDAYS.includes(day) || (word.length > 3 && word !== FULL_NAMES[day]))
      throw new VigilError(code, `${where('days')} "${d}": a weekday (sun, mon, tue, wed, thu, fri, sat, or the full name)`);
    if (!days.includes(day)) days.push(day);
  }
  if (!isTimeZone(raw.timeZone)) throw new VigilError(code, `${where('timezone')} "${raw.timeZone}": an IANA time zone, e.g. Europe/Paris or UTC`);
  return { at: raw.at, lastingMs: raw.lastingMs, days, timeZone: raw.timeZone };
}

function atMs(s: Schedule): number {
  const [h, m] = s.at.split(':').map(Number);
  return (h! * 60 + m!) * 60_000;
}

/** Every start of the schedule whose local day lies within [fromDay, toDay] (wall-clock days), in order. */
function starts(s: Schedule, fromWall: number, toWall: number): number[] {
  const out: number[] = [];
  const first = Math.floor(fromWall / DAY) * DAY;
  for (let day = first; day <= toWall; day += DAY) {
    const weekday = WEEKDAYS[new Date(day).getUTCDay()]!;
    if (s.days.length > 0 && !s.days.includes(weekday)) continue;
    out.push(instantOf(day + atMs(s), s.timeZone));
  }
  return out;
}

/** The occurrence that holds `now`, or null when `now` is outside every window. */
export function windowAt(s: Schedule, now: number): { start: number; end: number } | null {
  const wall = wallClockAt(now, s.timeZone);
  // A window that holds now started at most lastingMs ago (plus a day of zone slack).
  for (const start of starts(s, wall - s.lastingMs - DAY, wall + DAY)) {
    if (start <= now && now < start + s.lastingMs) return { start, end: start + s.lastingMs };
  }
  return null;
}

/** The next occurrence starting after `now` (within the coming 8 days: every schedule has one). */
export function nextWindow(s: Schedule, now: number): { start: number; end: number } {
  const wall = wallClockAt(now, s.timeZone);
  const start = starts(s, wall - DAY, wall + 8 * DAY).find((t) => t > now)!;
  return { start, end: start + s.lastingMs };
}
