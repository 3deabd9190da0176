/**
 * The pull cadence of a bouncer from its recent stream pull times: the median interval when the
 * pulls are steady (stream mode, every `update_frequency`), null when they are not (live mode pulls
 * only when traffic comes) or too few to tell. Pure.
 */
export const MIN_INTERVALS = 5;

export function pullCadence(times: readonly number[]): number | null {
  if (times.length < MIN_INTERVALS + 1) return null;
  const intervals: number[] = [];
  for (let i = 1; i < times.length; i++) intervals.push(times[i]! - times[i - 1]!);
  const sorted = [...intervals].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  if (median <= 0) return null;
  // Steady: at least 80 % of the intervals within a factor of two of the median.
  const near = intervals.filter((d) => d >= median / 2 && d <= median * 2).length;
  return near >= intervals.length * 0.8 ? median : null;
}
