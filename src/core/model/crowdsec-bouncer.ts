/**
 * CrowdSec's bouncers as its database and `cscli bouncers list -o json` hold them, parsed into one
 * plain record, across versions (docs/reference/crowdsec-docs-notes.md §2.6, §2.8;
 * crowdsec-wire-protocol.md §2):
 *
 * - 1.4 sets `last_pull` to the creation time, so "Last API pull" of a bouncer that never pulled is
 *   its registration; 1.6.3+ leaves it NULL (`null` in JSON) until the first pull.
 * - 1.6.4+ auto-creates `name@ip` children (`auto_created`) when a key is shared; TLS bouncers have
 *   always been `CN@ip` rows.
 * - 1.6.3+ adds os/feature-flag columns and usage metrics (the `metrics` table).
 *
 * Pure: values in (strings, numbers, Dates as drivers return them), records out.
 */
import { VigilError } from '../../lib/errors.ts';
import type { Bouncer } from './records.ts';

export interface CrowdsecBouncer {
  name: string;
  /** '' before its first authenticated request. */
  ipAddress: string;
  type: string;
  version: string;
  revoked: boolean;
  authType: string;
  createdAt: number;
  /** The last pull; null when it never pulled (1.6.3+ NULL, or 1.4's creation-time placeholder). */
  lastPullAt: number | null;
  /** Auto-created `name@ip` entry of a shared key (1.6.4+); false when the version does not say. */
  autoCreated: boolean;
}

/** 1.4 writes created_at and last_pull a few microseconds apart on registration. */
const CREATION_PLACEHOLDER_MS = 2000;

/**
 * A CrowdSec time as drivers hand it out: a Date (pg), RFC 3339 with nanoseconds (cscli JSON), or
 * ent's SQLite/MySQL text (`2026-11-24 04:16:55.489468425+00:00`, `2026-11-24 05:23:55`, read as UTC).
 * Go's zero time and empty values are null.
 */
export function parseCrowdsecTime(value: unknown): number | null {
  if (value === null || value === undefined || value === '') return null;
  if (value instanceof Date) return validTime(value.getTime());
  if (typeof value === 'number') return validTime(value);
  if (typeof value !== 'string') return null;
  const m = /^(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d:\d\d)(?:[.,](\d+))?\s*(Z|[+-]\d\d(?::?\d\d)?)?$/i.exec(value.trim());
  if (!m) return null;
  const ms = (m[3] ?? '').slice(0, 3).padEnd(3, '0');
  let zone = (m[4] ?? 'Z').toUpperCase();
  if (/^[+-]\d\d$/.test(zone)) zone += ':00';
  else if (/^[+-]\d{4}$/.test(zone)) zone = `${zone.slice(0, 3)}:${zone.slice(3)}`;
  return validTime(Date.parse(`${m[1]}T${m[2]}.${ms}${zone}`));
}

function validTime(ms: number): number | null {
  // Go's zero time (0001-01-01) and anything before the epoch mean "not set".
  return Number.isFinite(ms) && ms > 0 ? ms : null;
}

export function parseBool(value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number' || typeof value === 'bigint') return Number(value) !== 0;
  if (typeof value === 'string') return value === '1' || value.toLowerCase() === 'true' || value.toLowerCase() === 't';
  if (value instanceof Uint8Array) return value.length > 0 && value[0] !== 0 && value[0] !== 0x30;
  return false;
}

export const text = (value: unknown): string => (value === null || value === undefined ? '' : String(value));

/**
 * One bouncer row (database columns or cscli JSON keys are the same names: `name`, `ip_address`,
 * `type`, `version`, `revoked`, `auth_type`, `created_at`, `last_pull`, `auto_created`).
 */
export function parseBouncerRow(row: Record<string, unknown>, where: string): CrowdsecBouncer {
  const name = text(row.name);
  if (!name) throw new VigilError('E_WATCH_SOURCE', `${where}: a bouncer row has no name; is this CrowdSec's bouncers table?`);
  const createdAt = parseCrowdsecTime(row.created_at);
  const lastPull = parseCrowdsecTime(row.last_pull);
  const ipAddress = text(row.ip_address);
  const type = text(row.type);
  return {
    name,
    ipAddress,
    type,
    version: text(row.version),
    revoked: parseBool(row.revoked),
    authType: text(row.auth_type) || 'api-key',
    // A row without created_at (nullable in 1.4's schema) counts from its first pull, else now-unknown: 0.
    createdAt: createdAt ?? lastPull ?? 0,
    lastPullAt: neverPulled(createdAt, lastPull, ipAddress, type) ? null : lastPull,
    autoCreated: parseBool(row.auto_created),
  };
}

/**
 * 1.4 sets last_pull at registration: a row whose last_pull is its creation time and that never
 * authenticated (no IP, no type — both are written on the first authenticated request) has not pulled.
 */
function neverPulled(createdAt: number | null, lastPull: number | null, ipAddress: string, type: string): boolean {
  if (lastPull === null) return true;
  if (createdAt === null || ipAddress !== '' || type !== '') return false;
  return Math.abs(lastPull - createdAt) <= CREATION_PLACEHOLDER_MS;
}

/** `cscli bouncers list -o json`: an array of rows (`null` or empty output when there are none). */
export function parseCscliBouncersJson(stdout: string, where: string): CrowdsecBouncer[] {
  const trimmed = stdout.trim();
  if (trimmed === '' || trimmed === 'null') return [];
  let data: unknown;
  try {
    data = JSON.parse(trimmed);
  } catch {
    const shown = trimmed.length > 120 ? `${trimmed.slice(0, 120)}…` : trimmed;
    throw new VigilError('E_WATCH_SOURCE', `${where}: output is not JSON (${JSON.stringify(shown)}); the command must print 'cscli bouncers list -o json'`);
  }
  if (!Array.isArray(data)) throw new VigilError('E_WATCH_SOURCE', `${where}: expected a JSON array of bouncers, got ${data === null ? 'null' : typeof data}`);
  return data.map((row, i) => {
    if (row === null || typeof row !== 'object') throw new VigilError('E_WATCH_SOURCE', `${where}: bouncer #${i + 1} is not an object`);
    return parseBouncerRow(row as Record<string, unknown>, where);
  });
}

/**
 * The columns of CrowdSec's `bouncers` row that hold a Vigil bouncer's fields unchanged, in ent's
 * order: `cscli bouncers list -o json` and `vigil export crowdsec` both write them.
 */
export function crowdsecBouncerColumns(b: Bouncer) {
  return {
    name: b.name,
    api_key: b.apiKeyHash,
    revoked: b.revoked,
    ip_address: b.ipAddress,
    type: b.type,
    version: b.version,
  };
}
