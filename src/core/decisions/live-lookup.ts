import type { Decision } from '../model/records.ts';
import type { DecisionIndex } from './decision-index.ts';
import { matchesCommon, type LiveQuery } from './query.ts';

/**
 * Answers `GET /v1/decisions` from the in-memory index: the address filters pick candidates
 * through the index (never a scan of every decision), the remaining filters narrow them.
 */
export function lookupLive(index: DecisionIndex, q: LiveQuery, now: number): Decision[] {
  let candidates: Decision[];
  if (q.ip) candidates = index.matchIp(q.ip, now);
  else if (q.range) candidates = q.contains ? index.containingRange(q.range, now) : index.insideRange(q.range, now);
  else if (q.value !== undefined) candidates = index.byValue(q.value, now);
  else candidates = index.active(now);
  if (candidates.length === 0) return candidates;
  const needsFilter = q.value !== undefined || q.type !== undefined || q.origins || q.scenariosContaining || q.scenariosNotContaining;
  // The usual answer, a bouncer's `ip=` with one live decision: no copy.
  if (!needsFilter && candidates.length === 1 && !candidates[0]!.simulated) return candidates;
  return candidates.filter(
    (d) =>
      !d.simulated && (!needsFilter || ((q.value === undefined || d.value === q.value) && (q.type === undefined || d.type === q.type) && matchesCommon(d, q))),
  );
}
