import type { CanaryHealthInput, EnforcementInput } from '../core/health/enforcement.ts';
import type { Bouncer } from '../core/model/records.ts';
import { canaryRuns, driftObservations } from '../store/canaries.ts';
import type { Store } from '../store/store.ts';

/** A configured canary as the health engine needs it (config/canaries.ts). */
export type CanaryHealthConfig = { name: string; bouncer: string; via: CanaryHealthInput['via']; address?: string };

/** Runs read per canary: enough to find the last conclusive one and when the failure began. */
const RUNS_READ = 50;

/**
 * What the store holds of canaries and drift, for the evaluator. Only configured canaries count: a
 * canary removed from vigil.yaml has its issue resolved, not kept open by its last run.
 */
export async function enforcementInput(store: Store, canaries: CanaryHealthConfig[], bouncers: Bouncer[]): Promise<EnforcementInput> {
  const runs = await Promise.all(canaries.map((c) => canaryRuns(store, { canary: c.name, limit: RUNS_READ })));
  return {
    canaries: canaries.map((c, i) => ({ name: c.name, bouncerName: c.bouncer, via: c.via, runs: runs[i]! })),
    drift: await driftObservations(store, new Map(bouncers.filter((b) => !b.revoked).map((b) => [b.id, b.name]))),
  };
}
