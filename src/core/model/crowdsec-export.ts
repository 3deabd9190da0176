/**
 * `vigil export crowdsec`, the way back: what to write into CrowdSec's database so that, once its
 * Local API runs again, it holds exactly the decisions Vigil holds, and every bouncer key and agent
 * password that worked on Vigil works there. Pure: Vigil's records and CrowdSec's rows in, a plan out.
 *
 * - Decisions Vigil holds that CrowdSec lacks are written under their alert (CrowdSec's decisions
 *   hang off alerts; `cscli decisions list` reads them through it). Their `created_at` is the
 *   export time, so a bouncer that keeps running across the switch receives them in its next
 *   stream delta (1.4.6 sends `created_at > its last_pull`).
 * - Decisions active in CrowdSec that Vigil no longer holds (deleted on Vigil, or never on it) are
 *   expired at the export time (`until = now`), as CrowdSec's own delete does, so a running bouncer
 *   gets them in `deleted` and a restarted one never sees them.
 * - Bouncers and machines keep their hashes (SHA-512 hex keys, bcrypt passwords on both sides):
 *   missing ones are added, a key or password changed on Vigil replaces CrowdSec's.
 * - Allowlists: CrowdSec has a table for them only from 1.6.6; the plan lists `cscli allowlists`
 *   commands instead (it never writes that schema blind).
 */
import type { Alert, Bouncer, Decision, Machine } from './records.ts';
import { parseBool, parseCrowdsecTime, text } from './crowdsec-bouncer.ts';
import { bulkAlert } from '../decisions/new-decisions.ts';

/** An allowlist as the export needs it (the seam to the allowlists store, wired at merge). */
export interface AllowlistForExport {
  readonly name: string;
  readonly description: string;
  readonly items: ReadonlyArray<{ readonly value: string; readonly expiresAt: number | null; readonly comment: string }>;
}

export interface CrowdsecExportInput {
  vigil: {
    /** Active decisions, each with its alert (null when the alert is gone). */
    decisions: ReadonlyArray<{ decision: Decision; alert: Alert | null }>;
    bouncers: readonly Bouncer[];
    machines: readonly Machine[];
    allowlists: readonly AllowlistForExport[];
  };
  /** CrowdSec's rows as its database holds them (columns as in IMPORT_COLUMNS / EXPORT_READ_COLUMNS). */
  crowdsec: {
    decisions: Record<string, unknown>[];
    bouncers: Record<string, unknown>[];
    machines: Record<string, unknown>[];
  };
  now: number;
}

export interface ExportDecision {
  readonly origin: string;
  readonly type: string;
  readonly scope: string;
  readonly value: string;
  readonly scenario: string;
  readonly until: number;
  readonly simulated: boolean;
}

/** An alert as exported: Vigil's alert without its id (CrowdSec numbers its own), with its decisions. */
export interface ExportAlert extends Omit<Alert, 'id'> {
  readonly decisions: readonly ExportDecision[];
}

export interface CrowdsecExportPlan {
  alerts: ExportAlert[];
  /** CrowdSec decision ids to expire now, with what they were (for the report). */
  expire: Array<{ id: number; what: string }>;
  /** Active decisions both sides hold: left as they are. */
  kept: number;
  bouncersToAdd: Bouncer[];
  /** Same name, another key (or revocation) on Vigil: CrowdSec's row takes Vigil's. */
  bouncersToUpdate: Bouncer[];
  machinesToAdd: Machine[];
  machinesToUpdate: Machine[];
  /** `cscli allowlists` commands that recreate Vigil's allowlists (CrowdSec 1.6.6+). */
  allowlistCommands: string[];
  /** One line per thing not exported, and why. */
  notes: string[];
}

/** Expiry to the second: CrowdSec keeps whole seconds for cscli decisions, Vigil milliseconds. */
export function exportDecisionKey(d: { scope: string; value: string; type: string; origin: string; until: number }): string {
  return `${d.scope.toLowerCase()}\0${d.value}\0${d.type}\0${d.origin}\0${Math.ceil(d.until / 1000)}`;
}

const shellWord = (s: string): string => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

export function planCrowdsecExport(input: CrowdsecExportInput): CrowdsecExportPlan {
  const { vigil, crowdsec, now } = input;
  const plan: CrowdsecExportPlan = {
    alerts: [],
    expire: [],
    kept: 0,
    bouncersToAdd: [],
    bouncersToUpdate: [],
    machinesToAdd: [],
    machinesToUpdate: [],
    allowlistCommands: [],
    notes: [],
  };
  planDecisions(plan, input);
  planBouncers(plan, vigil.bouncers, crowdsec.bouncers);

  const csMachines = new Map(crowdsec.machines.map((r) => [text(r.machine_id), r]));
  for (const m of vigil.machines) {
    const row = csMachines.get(m.machineId);
    if (!row) plan.machinesToAdd.push(m);
    else if (text(row.password) !== m.passwordHash || parseBool(row.is_validated) !== m.isValidated) plan.machinesToUpdate.push(m);
  }

  plan.allowlistCommands.push(...allowlistCommands(vigil.allowlists, now));
  if (plan.allowlistCommands.length > 0) {
    plan.notes.push(
      `allowlists: ${vigil.allowlists.length} not written into the database (CrowdSec 1.6.6+ keeps them); run the cscli allowlists commands listed`,
    );
  }
  return plan;
}

/** Decisions: those both sides hold kept, Vigil's others written under their alert, CrowdSec's others expired. */
function planDecisions(plan: CrowdsecExportPlan, { vigil, crowdsec, now }: CrowdsecExportInput): void {
  // CrowdSec's active decisions, by key: each may stand for one of Vigil's (a multiset).
  const held = new Map<string, number[]>();
  for (const r of crowdsec.decisions) {
    const until = parseCrowdsecTime(r.until);
    if (until === null || until <= now) continue;
    const key = exportDecisionKey({ scope: text(r.scope), value: text(r.value), type: text(r.type), origin: text(r.origin), until });
    const ids = held.get(key) ?? [];
    ids.push(Number(r.id));
    held.set(key, ids);
  }

  const groups = new Map<number | null, { alert: Alert | null; decisions: ExportDecision[] }>();
  for (const { decision: d, alert } of vigil.decisions) {
    if (d.until <= now) continue;
    const ids = held.get(exportDecisionKey(d));
    if (ids && ids.length > 0) {
      ids.shift();
      plan.kept++;
      continue;
    }
    const groupKey = alert?.id ?? null;
    let g = groups.get(groupKey);
    if (!g) groups.set(groupKey, (g = { alert, decisions: [] }));
    g.decisions.push({ origin: d.origin, type: d.type, scope: d.scope, value: d.value, scenario: d.scenario, until: d.until, simulated: d.simulated });
  }
  for (const { alert, decisions } of groups.values()) plan.alerts.push(exportAlert(alert, decisions, now));
  for (const [key, ids] of held) {
    const [scope, value, type, origin] = key.split('\0');
    for (const id of ids) plan.expire.push({ id, what: `${type} on ${scope}:${value} (origin ${origin})` });
  }
}

/** The alert a group of decisions is written under: Vigil's own, or one made for decisions whose alert is gone. */
function exportAlert(alert: Alert | null, decisions: ExportDecision[], now: number): ExportAlert {
  const first = decisions[0]!;
  return alert
    ? {
        scenario: alert.scenario,
        message: alert.message,
        machineId: alert.machineId,
        sourceScope: alert.sourceScope,
        sourceValue: alert.sourceValue,
        sourceIp: alert.sourceIp,
        eventsCount: alert.eventsCount,
        leakspeed: alert.leakspeed,
        startAt: alert.startAt,
        stopAt: alert.stopAt,
        createdAt: alert.createdAt,
        simulated: alert.simulated,
        decisions,
      }
    : {
        // A decision whose alert Vigil no longer has: one alert holds them all, as cscli's own imports do.
        ...bulkAlert({
          now,
          scenario: first.scenario,
          message: `${decisions.length} decision(s) exported from Vigil`,
          sourceScope: 'vigil/export',
          count: decisions.length,
        }),
        decisions,
      };
}

/** Bouncers: Vigil's missing in CrowdSec added, another key or revocation updated; CrowdSec's extra ones named and kept. */
function planBouncers(plan: CrowdsecExportPlan, vigil: readonly Bouncer[], crowdsec: Record<string, unknown>[]): void {
  const csBouncers = new Map(crowdsec.map((r) => [text(r.name), r]));
  for (const b of vigil) {
    const row = csBouncers.get(b.name);
    if (!row) plan.bouncersToAdd.push(b);
    else if (text(row.api_key).toLowerCase() !== b.apiKeyHash || parseBool(row.revoked) !== b.revoked) plan.bouncersToUpdate.push(b);
  }
  const vigilBouncers = new Set(vigil.map((b) => b.name));
  for (const name of csBouncers.keys()) {
    if (!vigilBouncers.has(name))
      plan.notes.push(`bouncer ${name}: in CrowdSec but not in Vigil (deleted there?): kept; remove it with cscli bouncers delete ${shellWord(name)}`);
  }
}

/** `cscli allowlists` commands that recreate Vigil's allowlists; expired values are left out, the others keep their time left. */
function allowlistCommands(allowlists: readonly AllowlistForExport[], now: number): string[] {
  const commands: string[] = [];
  for (const list of allowlists) {
    commands.push(`cscli allowlists create ${shellWord(list.name)} -d ${shellWord(list.description || list.name)}`);
    for (const item of list.items) {
      if (item.expiresAt !== null && item.expiresAt <= now) continue;
      const expiry = item.expiresAt === null ? '' : ` -e ${Math.ceil((item.expiresAt - now) / 1000)}s`;
      const comment = item.comment ? ` -d ${shellWord(item.comment)}` : '';
      commands.push(`cscli allowlists add ${shellWord(list.name)} ${shellWord(item.value)}${expiry}${comment}`);
    }
  }
  return commands;
}

/** One `cscli decisions import` JSON entry (the `--to-file` way, when the database cannot be written). */
export function toCscliImportEntry(d: ExportDecision, now: number): Record<string, string> {
  return {
    duration: `${Math.max(1, Math.ceil((d.until - now) / 1000))}s`,
    origin: d.origin,
    reason: d.scenario,
    scope: d.scope,
    type: d.type,
    value: d.value,
  };
}

/** A `cscli decisions delete` command for a decision deleted on Vigil (1.4.6's delete has no --scope: other scopes go by --value). */
export function cscliDeleteCommand(d: { scope: string; value: string; type: string }): string {
  const s = d.scope.toLowerCase();
  const target = s === 'ip' ? `--ip ${shellWord(d.value)}` : s === 'range' ? `--range ${shellWord(d.value)}` : `--value ${shellWord(d.value)}`;
  return `cscli decisions delete ${target} --type ${shellWord(d.type)}`;
}
