/**
 * What every source `vigil watch` reads CrowdSec's bouncers through shares: the interface, the
 * error it throws, and the queries over the columns a CrowdSec version has (1.4 has no
 * `auto_created`, 1.6.3+ has a `metrics` table), with the rows they return turned into a read.
 */
import { parseBouncerRow, parseCrowdsecTime, type CrowdsecBouncer } from '../../core/model/crowdsec-bouncer.ts';
import { parseMachineRow } from '../../core/model/crowdsec-machine.ts';
import type { MachineHealthInput } from '../../core/health/types.ts';
import { VigilError } from '../../lib/errors.ts';

export interface SourceRead {
  bouncers: CrowdsecBouncer[];
  /** Latest usage-metrics report per bouncer name (CrowdSec 1.6.3+), epoch ms. */
  usageMetricsAt: Map<string, number>;
  /** CrowdSec's machines (log processors); absent when they could not be listed. */
  machines?: MachineHealthInput[];
}

export interface BouncerSource {
  /** What it reads, for messages (no password). */
  readonly description: string;
  /** `cscli` for the command source; the database sources name the database. */
  readonly kind: 'sqlite' | 'postgres' | 'mysql' | 'cscli';
  read(): Promise<SourceRead>;
  close(): Promise<void>;
}

/** A read that failed; the message is for an operator (no secrets). */
export class SourceError extends VigilError {
  constructor(message: string) {
    super('E_WATCH_SOURCE', message);
    this.name = 'SourceError';
  }
}

export const BOUNCER_COLUMNS = ['name', 'ip_address', 'type', 'version', 'revoked', 'auth_type', 'created_at', 'last_pull', 'auto_created'] as const;
export const MACHINE_COLUMNS = [
  'id',
  'machine_id',
  'ip_address',
  'version',
  'is_validated',
  'auth_type',
  'created_at',
  'updated_at',
  'last_push',
  'last_heartbeat',
] as const;

/** The machines query over the columns this version has, or null without a machines table. */
export function machinesQuery(columns: Set<string>, q: (id: string) => string): string | null {
  if (!columns.has('machine_id')) return null;
  return `SELECT ${MACHINE_COLUMNS.filter((c) => columns.has(c))
    .map(q)
    .join(', ')} FROM ${q('machines')} ORDER BY ${q('id')}`;
}

export const toMachines = (rows: Record<string, unknown>[]): MachineHealthInput[] =>
  rows.flatMap((r, i) => {
    const m = parseMachineRow(r, i + 1);
    return m ? [m] : [];
  });

export function errorText(e: unknown): string {
  const err = e as { code?: string; message?: string };
  const msg = (err?.message ?? String(e)).split('\n')[0]!;
  return err?.code && !msg.includes(err.code) ? `${err.code}: ${msg}` : msg;
}

/** What to select from the `metrics` table, or null when it has no RC reports (CrowdSec < 1.6.3). */
export function metricsQuery(columns: Set<string>, q: (id: string) => string): string | null {
  const at = columns.has('received_at') ? 'received_at' : columns.has('collected_at') ? 'collected_at' : null;
  if (!at || !columns.has('generated_by') || !columns.has('generated_type')) return null;
  return `SELECT ${q('generated_by')} AS name, MAX(${q(at)}) AS at FROM ${q('metrics')} WHERE ${q('generated_type')} = 'RC' GROUP BY ${q('generated_by')}`;
}

export function toRead(
  rows: Record<string, unknown>[],
  metrics: Record<string, unknown>[],
  where: string,
  machines: Record<string, unknown>[] | null,
): SourceRead {
  const usageMetricsAt = new Map<string, number>();
  for (const m of metrics) {
    const at = parseCrowdsecTime(m.at);
    if (at !== null && typeof m.name === 'string') usageMetricsAt.set(m.name, at);
  }
  return { bouncers: rows.map((r) => parseBouncerRow(r, where)), usageMetricsAt, ...(machines ? { machines: toMachines(machines) } : {}) };
}

/** What `vigil import crowdsec` copies: rows as the database has them, with their secrets' hashes. */
export interface CrowdsecImportRows {
  bouncers: Record<string, unknown>[];
  machines: Record<string, unknown>[];
  decisions: Record<string, unknown>[];
  /** CrowdSec 1.6.6+'s allowlists (`allow_lists`, `allow_list_items` and the edge between them); empty before. */
  allowlists?: Record<string, unknown>[];
  allowlistItems?: Record<string, unknown>[];
  allowlistLinks?: Record<string, unknown>[];
}

export const IMPORT_COLUMNS = {
  bouncers: ['id', 'name', 'api_key', 'revoked', 'ip_address', 'type', 'version', 'auth_type', 'auto_created'],
  machines: ['id', 'machine_id', 'password', 'ip_address', 'version', 'is_validated', 'auth_type'],
  decisions: ['id', 'until', 'scenario', 'type', 'scope', 'value', 'origin', 'simulated'],
} as const;

/** CrowdSec 1.6.6+'s allowlist tables (ent: allow_lists, allow_list_items, allow_list_allowlist_items). */
const ALLOWLIST_TABLES = [
  ['allowlists', 'allow_lists', ['id', 'name', 'description', 'from_console', 'allowlist_id', 'created_at', 'updated_at'], 'id'],
  ['allowlistItems', 'allow_list_items', ['id', 'value', 'comment', 'expires_at', 'created_at'], 'id'],
  ['allowlistLinks', 'allow_list_allowlist_items', ['allow_list_id', 'allow_list_item_id'], 'allow_list_item_id'],
] as const;

/**
 * The import's three reads, over the columns this CrowdSec version has, through one database's
 * `columnsOf` and `all`. Decisions are all read (times are text on SQLite): the pure side keeps the active ones.
 */
/** Everything the import copies, or only the bouncers (their names and key hashes, read again every minute by serve). */
export type ImportPart = 'all' | 'bouncers';

export async function readImportRows(
  columnsOf: (table: string) => Promise<Set<string>> | Set<string>,
  all: (sql: string) => Promise<Record<string, unknown>[]> | Record<string, unknown>[],
  q: (id: string) => string,
  part: ImportPart = 'all',
): Promise<CrowdsecImportRows> {
  const out: CrowdsecImportRows = { bouncers: [], machines: [], decisions: [] };
  for (const table of part === 'bouncers' ? (['bouncers'] as const) : (['bouncers', 'machines', 'decisions'] as const)) {
    const have = await columnsOf(table);
    const cols = IMPORT_COLUMNS[table].filter((c) => have.has(c));
    if (cols.length === 0) continue;
    out[table] = await all(`SELECT ${cols.map(q).join(', ')} FROM ${q(table)} ORDER BY ${q('id')}`);
  }
  if (part === 'bouncers') return out;
  // A CrowdSec before 1.6.6 (Debian's 1.4.6) has no such tables: nothing to read, nothing to copy.
  for (const [key, table, columns, order] of ALLOWLIST_TABLES) {
    const have = await columnsOf(table);
    if (!have.has(order)) continue;
    const cols = columns.filter((c) => have.has(c));
    out[key] = await all(`SELECT ${cols.map(q).join(', ')} FROM ${q(table)} ORDER BY ${q(order)}`);
  }
  return out;
}
