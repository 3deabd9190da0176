import { planCrowdsecImport } from '../core/model/crowdsec-import.ts';
import { planAllowlistImport, type ImportedAllowlist } from '../core/allowlists/crowdsec-import.ts';
import { allowlistItems, getAllowlist, insertImportedAllowlists } from '../store/allowlists.ts';
import { buildDecision, bulkAlert } from '../core/decisions/new-decisions.ts';
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
  /** CrowdSec 1.6.6+'s allowlists copied (or that would be), and how many values they add. */
  allowlists: string[];
  allowlistValues: number;
  /** One line per row left out, and why. */
  skipped: string[];
}

/**
 * `vigil import crowdsec`: CrowdSec's bouncers (their key hashes, so every bouncer keeps its key),
 * machines (their bcrypt hashes, so the agent's credentials file keeps working) and active
 * decisions into Vigil's store. CrowdSec's database is only read. Rows Vigil already has (same
 * name; same value, type, scope, origin and expiry for a decision) are kept as they are, so a
 * second run adds only what is new. `dryRun` reports without writing; with no store yet (a fresh
 * install: `store` null, dry run only) everything counts as new.
 */
export async function importCrowdsec(
  source: { readonly description: string; readForImport(): Promise<CrowdsecImportRows> },
  store: Store | null,
  now: number,
  opts: { dryRun?: boolean } = {},
): Promise<CrowdsecImportReport> {
  if (store === null && !opts.dryRun) throw new Error('importCrowdsec: a store is needed unless dry-running');
  const rows = await source.readForImport();
  const plan = planCrowdsecImport(rows, now);
  const allowlistPlan = planAllowlistImport(rows, now);
  const skipped = [...plan.skipped, ...allowlistPlan.skipped];
  const decisions: NewDecision[] = [];
  const held = new Set((store ? await activeDecisions(store, now) : []).map(decisionKey));
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
  const bouncerNames = new Set((store ? await listBouncers(store) : []).map((b) => b.name));
  const machineIds = new Set((store ? await listMachines(store) : []).map((m) => m.machineId));
  const bouncers = plan.bouncers.filter((b) => !bouncerNames.has(b.name));
  const machines = plan.machines.filter((m) => !machineIds.has(m.machineId));
  for (const b of plan.bouncers) if (bouncerNames.has(b.name)) skipped.push(`bouncer ${b.name}: already in Vigil's store, kept as it is`);
  for (const m of plan.machines) if (machineIds.has(m.machineId)) skipped.push(`machine ${m.machineId}: already in Vigil's store, kept as it is`);
  if (opts.dryRun || store === null) {
    const values = await newAllowlistValues(store, allowlistPlan.allowlists);
    return {
      bouncers: bouncers.map((b) => b.name),
      machines: machines.map((m) => m.machineId),
      decisions: decisions.length,
      allowlists: allowlistPlan.allowlists.map((l) => l.name),
      allowlistValues: values,
      skipped,
    };
  }
  // Inserted whole or not at all; a name another process added meanwhile is left to it.
  const written = await insertImportedIdentities(store, { bouncers, machines }, now);
  const allowlists = await insertImportedAllowlists(store, allowlistPlan.allowlists, now);
  if (decisions.length > 0) {
    await addDecisions(
      store,
      bulkAlert({
        now,
        scenario: `import from CrowdSec (${source.description})`,
        message: `${decisions.length} active decisions imported from CrowdSec`,
        sourceScope: 'vigil/crowdsec-import',
        count: decisions.length,
      }),
      decisions,
    );
  }
  return {
    bouncers: written.bouncers,
    machines: written.machines,
    decisions: decisions.length,
    allowlists: allowlists.allowlists,
    allowlistValues: allowlists.items,
    skipped,
  };
}

/** How many of the lists' values the store does not hold yet (all of them without a store). */
async function newAllowlistValues(store: Store | null, lists: readonly ImportedAllowlist[]): Promise<number> {
  let n = 0;
  for (const l of lists) {
    const list = store ? await getAllowlist(store, l.name) : undefined;
    const held = new Set(list && store ? (await allowlistItems(store, [list.id])).map((i) => i.value) : []);
    n += l.items.filter((i) => !held.has(i.value)).length;
  }
  return n;
}

/** Expiry to the second: CrowdSec keeps nanoseconds, the import rounds up to whole seconds. */
function decisionKey(d: { value: string; type: string; scope: string; origin: string; until: number }): string {
  return `${d.scope}\0${d.value}\0${d.type}\0${d.origin}\0${Math.ceil(d.until / 1000)}`;
}
