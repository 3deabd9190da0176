import { formatGoDuration, formatRfc3339 } from '../../lib/duration.ts';
import type { LikelyCause } from './types.ts';

/**
 * The Local API restarted soon after a silence began (within three of the component's cadences,
 * at least `minWindowMs`: a restart later than that came after it had already missed its turns), and
 * the bouncer or agent has not come back since: it did not reconnect. High confidence when nothing
 * else explains the silence. `after` and `notBack` say it in the component's words ("this bouncer's
 * last pull", "it has not pulled since…").
 */
export function lapiRestartCause(
  lapiStarts: readonly number[],
  silence: { since: number; cadenceMs: number | null; minWindowMs: number },
  causesBefore: number,
  words: { after: string; notBack: string },
): LikelyCause | null {
  const { since } = silence;
  const windowMs = Math.max(silence.minWindowMs, 3 * (silence.cadenceMs ?? 0));
  const restart = lapiStarts.find((s) => s > since && s - since <= windowMs);
  if (restart === undefined) return null;
  return {
    cause: 'lapi_restart',
    confidence: causesBefore === 0 ? 'high' : 'medium',
    evidence: [
      `the Local API restarted at ${formatRfc3339(restart)}, ${formatGoDuration(roundToSecond(restart - since))} after ${words.after}, and ${words.notBack}`,
    ],
  };
}

export function roundToSecond(ms: number): number {
  return Math.round(ms / 1000) * 1000;
}
