import { planCrowdsecImport } from '../core/model/crowdsec-import.ts';
import { buildDecision } from '../core/decisions/new-decisions.ts';
import { isVigilError } from '../lib/errors.ts';
import { insertImportedIdentities } from '../store/crowdsec-import.ts';
import { listMachines } from '../store/machines.ts';
import type { NewDecision } from '../store/decisions.ts';
import type { Store } from '../store/store.ts';
import type { CrowdsecImportRows } from './sources.ts';
import { listBouncers } from '../store/bouncers.ts';
import { activeDecisions, addDecisions } from '../store/decisions.ts';

export interface CrowdsecImportReport {
  bouncers: string[];
  machines: string[];
  decisions: number;
  /** One line per row left out, and why. */
  skipped: string[];
}

/**
 * `vigil import crowdsec`: CrowdSec's bouncers (their key hashes, so every bouncer keeps its key),
 * machines (their bcrypt hashes, so the agent's credentials file keeps working) and active
 * decisions into Vigil's store. CrowdSec's database is only read. Rows Vigil already has (same
 * name; same value, type, scope, origin and expiry for a decision) are kept as they are, so a
 * second run adds only what is new. `dryRun` reports without writing.
 */
export async function importCrowdsec(
  source: { readonly description: string; readForImport(): Promise<CrowdsecImportRows> },
  store: Store,
  now: number,
  opts: { dryRun?: boolean } = {},
): Promise<CrowdsecImportReport> {
  const plan = planCrowdsecImport(await source.readForImport(), now);
  const skipped = [...plan.skipped];
  const decisions: NewDecision[] = [];
  const held = new Set((await activeDecisions(store, now)).map(decisionKey));
  for (const [i, d] of plan.decisions.entries()) {
    let built: NewDecision;
    try {
      // Validated as any new decision (its duration only for the check); it keeps CrowdSec's own expiry.
      const seconds = Math.max(1, Math.ceil((d.until - now) / 1000));
      const checked = buildDecision({ ...d, duration: `${seconds}s`, reason: d.scenario }, now, `decision ${i + 1} (${d.scope}:${d.value})`);
      built = { ...checked, until: d.until, simulated: d.simulated };
    } catch (e) {
      if (!isVigilError(e)) throw e;
      skipped.push(e.message);
      continue;
    }
    if (held.has(decisionKey(built))) continue;
    held.add(decisionKey(built));
    decisions.push(built);
  }
  const bouncerNames = new Set((await listBouncers(store)).map((b) => b.name));
  const machineIds = new Set((await listMachines(store)).map((m) => m.machineId));
  const bouncers = plan.bouncers.filter((b) => !bouncerNames.has(b.name));
  const machines = plan.machines.filter((m) => !machineIds.has(m.machineId));
  for (const b of plan.bouncers) if (bouncerNames.has(b.name)) skipped.push(`bouncer ${b.name}: already in Vigil's store, kept as it is`);
  for (const m of plan.machines) if (machineIds.has(m.machineId)) skipped.push(`machine ${m.machineId}: already in Vigil's store, kept as it is`);
  if (opts.dryRun) return { bouncers: bouncers.map((b) => b.name), machines: machines.map((m) => m.machineId), decisions: decisions.length, skipped };
  // Inserted whole or not at all; a name another process added meanwhile is left to it.
  const written = await insertImportedIdentities(store, { bouncers, machines }, now);
  if (decisions.length > 0) {
    await addDecisions(
      store,
      {
        createdAt: now,
        scenario: `import from CrowdSec (${source.description})`,
        message: `${decisions.length} active decisions imported from CrowdSec`,
        machineId: '',
        sourceScope: 'vigil/crowdsec-import',
        sourceValue: '',
        sourceIp: '',
        eventsCount: decisions.length,
        leakspeed: '0',
        startAt: now,
        stopAt: now,
        simulated: false,
      },
      decisions,
    );
  }
  return { bouncers: written.bouncers, machines: written.machines, decisions: decisions.length, skipped };
}

/** Expiry to the second: CrowdSec keeps nanoseconds, the import rounds up to whole seconds. */
function decisionKey(d: { value: string; type: string; scope: string; origin: string; until: number }): string {
  return `${d.scope}\0${d.value}\0${d.type}\0${d.origin}\0${Math.ceil(d.until / 1000)}`;
}
