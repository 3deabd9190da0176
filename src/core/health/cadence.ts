import { formatGoDuration } from '../../lib/duration.ts';
import type { HealthRules } from './types.ts';

/**
 * The pull cadence of a bouncer from its recent stream pull times: the median interval when the
 * pulls are steady (stream mode, every `update_frequency`), null when they are not (live mode pulls
 * only when traffic comes) or too few to tell. Pure.
 */
export const MIN_INTERVALS = 5;

/**
 * What recent pull (or heartbeat) times say of a cadence: steady at `ms`, irregular (live mode,
 * pulls only when traffic comes), or too few to tell yet. "Too few" is not "irregular": a process
 * that just started has seen few pulls, and that must not erase a cadence learnt before (issue 24).
 */
export type CadenceReading = { steady: number } | 'irregular' | 'too_few';

export function readCadence(times: readonly number[]): CadenceReading {
  if (times.length < MIN_INTERVALS + 1) return 'too_few';
  const intervals: number[] = [];
  for (let i = 1; i < times.length; i++) intervals.push(times[i]! - times[i - 1]!);
  const sorted = [...intervals].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  if (median <= 0) return 'irregular';
  // Steady: at least 80 % of the intervals within a factor of two of the median.
  const near = intervals.filter((d) => d >= median / 2 && d <= median * 2).length;
  return near >= intervals.length * 0.8 ? { steady: median } : 'irregular';
}

export function pullCadence(times: readonly number[]): number | null {
  const r = readCadence(times);
  return typeof r === 'object' ? r.steady : null;
}

/**
 * The cadence to store after a reading, given the one known (stored or last written), or undefined
 * to leave it: only a steady reading that moved by more than 10 % or appeared, or irregular pulls
 * where a cadence was known, change it. Too few pulls never do.
 */
export function cadenceUpdate(reading: CadenceReading, known: number | null): number | null | undefined {
  if (reading === 'too_few') return undefined;
  if (reading === 'irregular') return known === null ? undefined : null;
  const ms = reading.steady;
  return known === null || Math.abs(ms - known) > known * 0.1 ? ms : undefined;
}

/** A steady client that missed this many pulls (or heartbeats) is shown late at once. */
export const STATUS_LATE_MISSED = 3;
/**
 * …but never before this silence. 3 × a 1–2 s cadence is 3–6 s, which a Local API restart
 * (`systemctl restart vigil`: the bouncer's next pull fails, it retries at its next tick), one slow
 * answer (a first stream pull of 100k decisions takes about a second to serialize and send), a
 * store write held by a checkpoint, and the activity buffer (`activity_flush_every`, 1 s) each eat
 * on their own. Below about 15 s "late" could not be told from those, and a status that turns amber
 * on every restart teaches people to ignore it; at a cadence of 5 s or more (bouncers' defaults are
 * 10 s) the 3 × rule alone applies.
 */
export const STATUS_LATE_MIN_MS = 15_000;

/** When a steady client is late (status), raises an issue, and is offline; all silences in ms. */
export interface CadenceThresholds {
  /** Shown `late` (CLI, dashboard, admin API) once silent for longer. */
  statusLateMs: number;
  /** Integration Late / LP Late (Warning) opens once silent for longer. */
  issueLateMs: number;
  /** Offline (Critical) once silent for longer; null: only the 24 h rule. */
  offlineMs: number | null;
}

/**
 * The silences that matter for a client with a steady cadence, or null when it has none (live
 * mode, HEAD-only key checks, too few pulls) or in `console` mode: then only `offlineAfterMs`
 * applies. Kept in order: never late in a status after an issue opened, never an issue after offline.
 */
export function cadenceThresholds(cadenceMs: number | null, rules: HealthRules): CadenceThresholds | null {
  if (rules.mode === 'console' || cadenceMs === null || cadenceMs <= 0) return null;
  const issueLateMs = Math.max(rules.lateAfterFactor * cadenceMs, rules.lateAfterMinMs);
  // Under watch the last pull read can be one poll old: a 10 s bouncer read every 30 s looked 30 s
  // silent between reads and flickered `late` (32 of 100 samples, field report switcher.md).
  const statusLateMs = Math.min(Math.max(STATUS_LATE_MISSED * cadenceMs, STATUS_LATE_MIN_MS), issueLateMs) + Math.max(0, rules.observedEveryMs ?? 0);
  const offlineMs =
    rules.offlineAfterFactor === undefined || rules.offlineAfterFactor <= 0
      ? null
      : Math.min(Math.max(rules.offlineAfterFactor * cadenceMs, rules.offlineAfterMinMs ?? 0), rules.offlineAfterMs);
  return { statusLateMs, issueLateMs, offlineMs };
}

/** A learnt cadence as a person reads it: a median of real intervals is 10.002s; say 10s (to 0.1 s). */
export function formatCadence(ms: number): string {
  return formatGoDuration(Math.max(100, Math.round(ms / 100) * 100));
}
