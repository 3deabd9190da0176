/**
 * Wall-clock time in an IANA time zone, from Intl only (no I/O, no library): enough for
 * maintenance windows written as "02:00 Europe/Paris".
 */

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** Whether the runtime knows this zone (e.g. Europe/Paris, UTC). */
export function isTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** The wall clock in `timeZone` at `utcMs`, as if it were UTC (so Date.UTC arithmetic applies). */
export function wallClockAt(utcMs: number, timeZone: string): number {
  const parts: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(utcMs))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  const whole = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!);
  return whole + (((utcMs % 1000) + 1000) % 1000);
}

const offsetAt = (utcMs: number, timeZone: string) => wallClockAt(utcMs, timeZone) - utcMs;

/**
 * The instant a wall-clock time in `timeZone` happens. As Temporal's 'compatible' choice (and
 * cron): a time that happens twice (the autumn hour) is its first occurrence; a time that does not
 * happen (the spring gap, 02:30 in Paris on the last Sunday of March) is moved forward by the gap
 * (03:30), so a window written for it still opens that night.
 */
export function instantOf(wallMs: number, timeZone: string): number {
  const DAY = 86_400_000;
  const before = offsetAt(wallMs - DAY, timeZone);
  const after = offsetAt(wallMs + DAY, timeZone);
  const fits = (utc: number) => wallClockAt(utc, timeZone) === wallMs;
  const early = wallMs - before;
  const late = wallMs - after;
  const candidates = [early, late].filter(fits);
  if (candidates.length > 0) return Math.min(...candidates);
  return early;
}
