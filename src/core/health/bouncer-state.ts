import type { BouncerStatus, Criticality } from './types.ts';

/**
 * What a bouncer shows at a glance once its open issues are counted: its status from its traffic
 * (evaluate.ts bouncerStatus), except that a bouncer whose traffic looks fine (healthy, late, never
 * pulled) while a Critical issue about it is open — failing open with a refused key, a failing
 * canary, enforcement drift — is `failing`, never green (issue 31). Pure.
 */
export const BOUNCER_STATES = ['failing', 'offline', 'late', 'never_pulled', 'revoked', 'healthy'] as const;
export type BouncerState = (typeof BOUNCER_STATES)[number];

export function bouncerState(status: BouncerStatus, openIssues: readonly { criticality: Criticality }[]): BouncerState {
  if (status === 'offline' || status === 'revoked') return status;
  return openIssues.some((i) => i.criticality === 'critical') ? 'failing' : status;
}

const RANK: Record<Criticality, number> = { critical: 0, high: 1, warning: 2, recommended: 3 };

/** The most severe criticality among open issues (for sorting: problems first), or null when none is open. */
export function worstCriticality(openIssues: readonly { criticality: Criticality }[]): Criticality | null {
  let worst: Criticality | null = null;
  for (const i of openIssues) if (worst === null || RANK[i.criticality] < RANK[worst]) worst = i.criticality;
  return worst;
}

/** Sort key: the worst open criticality first (none last). */
export function criticalityRank(c: Criticality | null): number {
  return c === null ? 4 : RANK[c];
}
