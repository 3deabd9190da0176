/**
 * `vigil export crowdsec`: Vigil's decisions, deletions, bouncers and machines written back into
 * CrowdSec's database (the plan is core/model/crowdsec-export.ts), or into `cscli decisions import`
 * files when the database cannot be written. Run with CrowdSec's Local API stopped.
 */
import { allowlistItems, listAllowlists } from '../store/allowlists.ts';
import fs from 'node:fs';
import {
  cscliDeleteCommand,
  planCrowdsecExport,
  toCscliImportEntry,
  type AllowlistForExport,
  type CrowdsecExportPlan,
  type ExportAlert,
} from '../core/model/crowdsec-export.ts';
import { crowdsecIpColumns } from '../core/model/crowdsec-ip-columns.ts';
import type { Bouncer, Decision, Machine } from '../core/model/records.ts';
import { crowdsecBouncerColumns } from '../core/model/crowdsec-bouncer.ts';
import { alertsFor } from '../store/alerts.ts';
import { listBouncers } from '../store/bouncers.ts';
import { activeDecisions, expiredDecisions } from '../store/decisions.ts';
import { listMachines } from '../store/machines.ts';
import type { Store } from '../store/store.ts';
import type { CrowdsecTarget, TargetValue, TargetWriter } from './crowdsec-target.ts';
import { SourceError } from './sources/source.ts';

export interface CrowdsecExportReport {
  to: string;
  decisions: number;
  alerts: number;
  expired: number;
  kept: number;
  bouncersAdded: string[];
  bouncersUpdated: string[];
  machinesAdded: string[];
  machinesUpdated: string[];
  allowlistCommands: string[];
  notes: string[];
  /** `--to-file`: the script of `cscli decisions delete` lines, and how many. */
  deleteScript?: string;
  deletions?: number;
}

/** Where Vigil's allowlists come from (tests may pass their own). */
export type AllowlistsForExport = (store: Store, now: number) => Promise<readonly AllowlistForExport[]>;

/** Vigil's allowlists with their items still active at `now` (store/allowlists.ts). */
export const storeAllowlists: AllowlistsForExport = async (store, now) => {
  const lists = await listAllowlists(store);
  const items = await allowlistItems(
    store,
    lists.map((l) => l.id),
  );
  return lists.map((l) => ({
    name: l.name,
    description: l.description,
    items: items
      .filter((i) => i.allowlistId === l.id && (i.expiresAt === null || i.expiresAt > now))
      .map((i) => ({ value: i.value, expiresAt: i.expiresAt, comment: i.comment })),
  }));
};

async function readVigil(store: Store, now: number, allowlists: AllowlistsForExport) {
  const decisions = await activeDecisions(store, now);
  const alerts = await alertsFor(store, [...new Set(decisions.flatMap((d) => (d.alertId === null ? [] : [d.alertId])))]);
  return {
    decisions: decisions.map((decision) => ({ decision, alert: decision.alertId === null ? null : (alerts.get(decision.alertId) ?? null) })),
    bouncers: await listBouncers(store),
    machines: await listMachines(store),
    allowlists: await allowlists(store, now),
  };
}

const READ = {
  decisions: ['id', 'until', 'scope', 'value', 'type', 'origin'],
  bouncers: ['id', 'name', 'api_key', 'revoked'],
  machines: ['id', 'machine_id', 'password', 'is_validated'],
} as const;

export async function exportCrowdsec(
  store: Store,
  target: CrowdsecTarget,
  now: number,
  opts: { dryRun?: boolean; allowlists?: AllowlistsForExport } = {},
): Promise<CrowdsecExportReport> {
  const vigil = await readVigil(store, now, opts.allowlists ?? storeAllowlists);
  const columns = {
    decisions: await target.columnsOf('decisions'),
    alerts: await target.columnsOf('alerts'),
    bouncers: await target.columnsOf('bouncers'),
    machines: await target.columnsOf('machines'),
  };
  for (const t of ['decisions', 'alerts', 'bouncers', 'machines'] as const) {
    if (columns[t].size === 0)
      throw new SourceError(`${target.description}: no ${t} table; is this CrowdSec's database? (start CrowdSec once so it creates its schema)`);
  }
  const read = async (t: keyof typeof READ) =>
    target.selectAll(
      t,
      READ[t].filter((c) => columns[t].has(c)),
    );
  const crowdsec = { decisions: await read('decisions'), bouncers: await read('bouncers'), machines: await read('machines') };
  const plan = planCrowdsecExport({ vigil, crowdsec, now });
  if (!opts.dryRun) {
    // Row ids read before the transaction: on PostgreSQL and MySQL it holds the one connection.
    const machineIds = new Map(crowdsec.machines.map((r) => [String(r.machine_id), Number(r.id)]));
    const bouncerIds = new Map(crowdsec.bouncers.map((r) => [String(r.name), Number(r.id)]));
    const pick = (table: keyof typeof columns, row: Record<string, TargetValue>) =>
      Object.fromEntries(Object.entries(row).filter(([c]) => columns[table].has(c)));
    await target.transaction(async (w) => {
      for (const m of plan.machinesToAdd) machineIds.set(m.machineId, await w.insert('machines', pick('machines', machineRow(m, now))));
      for (const m of plan.machinesToUpdate) {
        await w.update(
          'machines',
          pick('machines', { password: m.passwordHash, is_validated: m.isValidated, updated_at: { time: now } }),
          machineIds.get(m.machineId)!,
        );
      }
      for (const b of plan.bouncersToAdd) await w.insert('bouncers', pick('bouncers', bouncerRow(b, now)));
      for (const b of plan.bouncersToUpdate) {
        await w.update('bouncers', pick('bouncers', { api_key: b.apiKeyHash, revoked: b.revoked, updated_at: { time: now } }), bouncerIds.get(b.name)!);
      }
      for (const a of plan.alerts) await writeAlert(w, a, now, machineIds.get(a.machineId) ?? null, pick);
      // As CrowdSec's own delete: the expiry moves to now, so running bouncers get it in `deleted`.
      await w.updateMany(
        'decisions',
        pick('decisions', { until: { time: now }, updated_at: { time: now } }),
        plan.expire.map((e) => e.id),
      );
    });
  }
  return reportOf(plan, target.description);
}

function reportOf(plan: CrowdsecExportPlan, to: string): CrowdsecExportReport {
  return {
    to,
    decisions: plan.alerts.reduce((n, a) => n + a.decisions.length, 0),
    alerts: plan.alerts.length,
    expired: plan.expire.length,
    kept: plan.kept,
    bouncersAdded: plan.bouncersToAdd.map((b) => b.name),
    bouncersUpdated: plan.bouncersToUpdate.map((b) => b.name),
    machinesAdded: plan.machinesToAdd.map((m) => m.machineId),
    machinesUpdated: plan.machinesToUpdate.map((m) => m.machineId),
    allowlistCommands: plan.allowlistCommands,
    notes: plan.notes,
  };
}

function machineRow(m: Machine, now: number): Record<string, TargetValue> {
  return {
    created_at: { time: m.createdAt },
    updated_at: { time: now },
    last_push: m.lastPushAt === null ? null : { time: m.lastPushAt },
    last_heartbeat: m.lastHeartbeatAt === null ? null : { time: m.lastHeartbeatAt },
    machine_id: m.machineId,
    password: m.passwordHash,
    ip_address: m.ipAddress,
    scenarios: m.scenarios,
    version: m.version,
    is_validated: m.isValidated,
    auth_type: m.authType,
  };
}

function bouncerRow(b: Bouncer, now: number): Record<string, TargetValue> {
  return {
    created_at: { time: b.createdAt },
    updated_at: { time: now },
    ...crowdsecBouncerColumns(b),
    // 1.4 keeps it NOT NULL (creation time until the first pull). Before the export time, so a
    // bouncer that keeps running receives every exported decision as new.
    last_pull: { time: b.lastPullAt ?? b.createdAt },
    auth_type: b.authType,
    auto_created: b.autoCreated,
  };
}

async function writeAlert(
  w: TargetWriter,
  a: ExportAlert,
  now: number,
  machineRowId: number | null,
  pick: (t: 'alerts' | 'decisions', r: Record<string, TargetValue>) => Record<string, TargetValue>,
): Promise<void> {
  const alertId = await w.insert(
    'alerts',
    pick('alerts', {
      created_at: { time: a.createdAt },
      updated_at: { time: now },
      scenario: a.scenario,
      bucket_id: '',
      message: a.message,
      events_count: a.eventsCount,
      started_at: { time: a.startAt },
      stopped_at: { time: a.stopAt },
      source_ip: a.sourceIp,
      source_range: '',
      source_as_number: '',
      source_as_name: '',
      source_country: '',
      source_latitude: 0,
      source_longitude: 0,
      source_scope: a.sourceScope,
      source_value: a.sourceValue,
      capacity: 0,
      leak_speed: a.leakspeed,
      scenario_version: '',
      scenario_hash: '',
      simulated: a.simulated,
      machine_alerts: machineRowId,
    }),
  );
  await w.insertMany(
    'decisions',
    a.decisions.map((d) => {
      const ip = crowdsecIpColumns(d.scope, d.value);
      return pick('decisions', {
        // The export time, not Vigil's: a running bouncer's next delta (created_at > its last pull) carries it.
        created_at: { time: now },
        updated_at: { time: now },
        // Whole seconds, rounded up as the import does: MySQL's DATETIME keeps none, and a second run must find it again.
        until: { time: Math.ceil(d.until / 1000) * 1000 },
        scenario: d.scenario,
        type: d.type,
        start_ip: ip.startIp,
        end_ip: ip.endIp,
        start_suffix: ip.startSuffix,
        end_suffix: ip.endSuffix,
        ip_size: ip.ipSize,
        scope: d.scope,
        value: d.value,
        origin: d.origin,
        simulated: d.simulated,
        alert_decisions: alertId,
      });
    }),
  );
}

/**
 * `--to-file FILE`: no database. CrowdSec 1.4.6's `cscli decisions import` takes one scope per run
 * (its `--scope` flag, default Ip; an entry's own scope is ignored) and stamps origin `cscli-import`:
 * so `FILE` holds the Ip decisions, `FILE.<scope>.json` each other scope, and `FILE.sh` runs, in
 * order, a `cscli decisions delete` per decision deleted on Vigil and each import with its `--scope`.
 * Bouncers and machines cannot travel this way (cscli cannot add a key by its hash): the report says so.
 */
export async function exportCrowdsecToFile(
  store: Store,
  file: string,
  now: number,
  opts: { dryRun?: boolean; allowlists?: AllowlistsForExport } = {},
): Promise<CrowdsecExportReport> {
  const vigil = await readVigil(store, now, opts.allowlists ?? storeAllowlists);
  const plan = planCrowdsecExport({ vigil, crowdsec: { decisions: [], bouncers: [], machines: [] }, now });
  const active = new Set(vigil.decisions.map(({ decision: d }) => `${d.scope.toLowerCase()}\0${d.value}\0${d.type}`));
  const deleted = new Map<string, Decision>();
  for (const d of await expiredDecisions(store, now)) {
    const key = `${d.scope.toLowerCase()}\0${d.value}\0${d.type}`;
    // A delete matches by value and type: one that Vigil still holds under another decision would take it too.
    if (d.deletedAt !== null && !active.has(key)) deleted.set(key, d);
  }
  const byScope = new Map<string, { scope: string; entries: Record<string, string>[] }>();
  for (const d of plan.alerts.flatMap((a) => a.decisions)) {
    const scope = d.scope.toLowerCase() === 'ip' ? 'Ip' : d.scope;
    const g = byScope.get(scope) ?? { scope, entries: [] };
    g.entries.push(toCscliImportEntry(d, now));
    byScope.set(scope, g);
  }
  const script = `${file}.sh`;
  const fileOf = (scope: string) => (scope === 'Ip' ? file : `${file}.${scope.toLowerCase().replace(/[^a-z0-9_-]/g, '_')}.json`);
  if (!opts.dryRun) {
    const lines = ['#!/bin/sh', "# written by vigil export crowdsec: run with CrowdSec's Local API running", 'set -e'];
    lines.push(...[...deleted.values()].map(cscliDeleteCommand));
    for (const { scope, entries } of byScope.values()) {
      fs.writeFileSync(fileOf(scope), `${JSON.stringify(entries, null, 1)}\n`, { mode: 0o600 });
      lines.push(`cscli decisions import -i ${shellQuote(fileOf(scope))} --scope ${shellQuote(scope)}`);
    }
    fs.writeFileSync(script, `${lines.join('\n')}\n`, { mode: 0o700 });
  }
  const report = reportOf(plan, file);
  return {
    ...report,
    bouncersAdded: [],
    machinesAdded: [],
    notes: [
      ...report.notes.filter((n) => !n.startsWith('bouncer ')),
      'bouncers and machines are not in the files (cscli cannot add a key or password by its hash): export into the database, or add them again with cscli bouncers add NAME -k KEY',
      "cscli decisions import stamps origin cscli-import on what it imports (the database export keeps each decision's origin)",
    ],
    deleteScript: script,
    deletions: deleted.size,
  };
}

const shellQuote = (s: string): string => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
