/**
 * When a client last pulled (or beat), from what `vigil watch` reads. Pure.
 *
 * CrowdSec's database (`last_pull`, `last_heartbeat`) and its access log give exact times. A rise of
 * a Prometheus counter only proves "some request in (previous scrape, this scrape]": stamping it with
 * the scrape time dated a pull up to one poll late, which moved "since" and delayed Late/Offline.
 * So a counted rise moves the time only when no exact time falls in its window.
 */

/** A counter rise: some request after `after` (the previous scrape), at or before `at` (this scrape). */
export interface CountedWindow {
  after: number;
  at: number;
}

/** The access log dates requests to the second (gin's RFC 1123 time): a time this close before a window may be in it. */
export const LOG_PRECISION_MS = 1000;

export function lastSeenFrom(exact: number | null, counted: CountedWindow | null): number | null {
  if (counted === null) return exact;
  // An exact time inside (or after) the window is that request, or a later one: it wins.
  if (exact !== null && exact + LOG_PRECISION_MS > counted.after) return exact;
  return exact === null ? counted.at : Math.max(exact, counted.at);
}
