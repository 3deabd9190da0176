/**
 * Where a canary writes its test decision: Vigil's own store, as `vigil verify` does, but marked
 * as a canary's (origin `vigil-canary` unless configured, scenario `vigil-canary NAME`, alert by
 * machine `vigil-canary`), for a documentation address only (config/canaries.ts refuses others).
 * The bouncer's last pull is the later of the store's and this process's own record (the activity
 * buffer is written once a second): a canary in `vigil serve` sees a pull the moment it happens.
 */
import { selectDecisions } from '../core/decisions/select.ts';
import type { Bouncer } from '../core/model/records.ts';
import { buildDecision, manualAlert } from '../core/decisions/new-decisions.ts';
import type { DecisionSync } from '../decisions/decision-sync.ts';
import type { DecisionBackend } from '../doctor/verify.ts';
import { formatGoDuration } from '../lib/duration.ts';
import { parseIp } from '../lib/ip.ts';
import type { Store } from '../store/store.ts';
import { getBouncer } from '../store/bouncers.ts';
import { activeDecisions, addDecisions, softDeleteDecisions } from '../store/decisions.ts';

export const CANARY_MACHINE = 'vigil-canary';

export interface CanaryBackendOptions {
  canary: string;
  origin: string;
  /** This process's view of a bouncer's last pull (ActivityRecorder.cursor), when it runs the Local API. */
  lastPullSeen?: (b: Bouncer) => number | null;
  /** Makes this process's decision index see a change at once (live-mode lookups). */
  sync?: Pick<DecisionSync, 'refresh'>;
}

export function canaryScenario(canary: string): string {
  return `vigil-canary ${canary}`;
}

export function canaryBackend(store: Store, opts: CanaryBackendOptions): DecisionBackend {
  return {
    describe: `canary '${opts.canary}'`,
    async existingDecisions(ip, now) {
      const found = selectDecisions(await activeDecisions(store, now), { ip: parseIp(ip) });
      return found.map((d) => `${d.type} ${d.scope} ${d.value} (id ${d.id}, origin ${d.origin}, ${formatGoDuration(d.until - now)} left)`);
    },
    async addDecision({ ip, type, durationMs, now }) {
      const scenario = canaryScenario(opts.canary);
      const d = buildDecision({ scope: 'Ip', value: ip, type, duration: `${Math.ceil(durationMs / 1000)}s`, reason: scenario, origin: opts.origin }, now);
      const r = await addDecisions(store, manualAlert({ now, scenario, scope: d.scope, value: d.value, count: 1, machineId: CANARY_MACHINE }), [d]);
      await opts.sync?.refresh();
      return { id: String(r.decisionIds[0]) };
    },
    async removeDecision(id, { now }) {
      const removed = (await softDeleteDecisions(store, [Number(id)], now)) > 0;
      await opts.sync?.refresh();
      return removed;
    },
    async lastPull(name) {
      const b = await getBouncer(store, name);
      if (!b) return undefined;
      const seen = opts.lastPullSeen?.(b) ?? null;
      return { lastPullAt: seen !== null && (b.lastPullAt === null || seen > b.lastPullAt) ? seen : b.lastPullAt };
    },
  };
}
