/**
 * Delay before retry number `attempt` (1 = after the first failure): doubling from `initialMs`,
 * capped at `maxMs`, with "equal jitter" (half fixed, half random) so replicas and channels that
 * failed together do not retry in lockstep, while a retry never comes sooner than half the step.
 */
export function retryDelay(attempt: number, initialMs: number, maxMs: number, random: () => number = Math.random): number {
  const step = Math.min(maxMs, initialMs * 2 ** Math.min(Math.max(attempt - 1, 0), 30));
  return Math.round(step / 2 + random() * (step / 2));
}
