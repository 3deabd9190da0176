import YAML from 'yaml';
import { formatGoDuration, formatRfc3339 } from '../../lib/duration.ts';
import type { Machine } from '../../core/model/records.ts';
import { csvRow } from './csv.ts';
import { goJson } from './go-json.ts';
import type { OutputFormat } from './output-format.ts';
import { plainTable } from './table.ts';

/**
 * `cscli machines list` output, byte-compatible with CrowdSec 1.4.6 (docs/reference/crowdsec-wire-protocol.md §5),
 * and the credentials file `cscli machines add` writes. Pure: the caller prints the string as is.
 */

const HEADERS = ['Name', 'IP Address', 'Last Update', 'Status', 'Version', 'Auth Type', 'Last Heartbeat'];
const RAW_HEADERS = ['machine_id', 'ip_address', 'updated_at', 'validated', 'version', 'auth_type', 'last_heartbeat'];
/** enescakir/emoji CheckMark, Prohibited and Warning, as cscli prints them. */
const VALIDATED = '\u2714\ufe0f';
const PENDING = '\u{1f6ab}';
const WARNING = '\u26a0\ufe0f';
/** cscli flags a heartbeat older than this with ⚠️ (the agent beats every 60 s). */
export const HEARTBEAT_WARN_AFTER_MS = 2 * 60_000;

/**
 * cscli's displayLastHeartBeat: the time since the last heartbeat as a Go duration truncated to the
 * second; `-` when there is none. `fancy` (the human table) adds ⚠️ past 2 minutes or when missing.
 */
export function lastHeartbeatText(m: Pick<Machine, 'lastHeartbeatAt'>, now: number, fancy: boolean): string {
  if (m.lastHeartbeatAt === null) return fancy ? `${WARNING} -` : '-';
  const elapsed = now - m.lastHeartbeatAt;
  const text = formatGoDuration(Math.trunc(elapsed / 1000) * 1000);
  return fancy && elapsed > HEARTBEAT_WARN_AFTER_MS ? `${WARNING} ${text}` : text;
}

export interface MachineListOptions {
  /** Terminal width for the human table (see table.ts); default 80. */
  availableWidth?: number;
}

/** `cscli machines list` in the three formats, machines in the order given (cscli shows them in id order). */
export function formatMachineList(machines: readonly Machine[], output: OutputFormat, now: number, options: MachineListOptions = {}): string {
  switch (output) {
    case 'human': {
      const rows = machines.map((m) => [
        m.machineId,
        m.ipAddress,
        formatRfc3339(m.updatedAt),
        m.isValidated ? VALIDATED : PENDING,
        m.version,
        m.authType,
        lastHeartbeatText(m, now, true),
      ]);
      return plainTable(HEADERS, rows, { availableWidth: options.availableWidth });
    }
    case 'raw': {
      let out = csvRow(RAW_HEADERS);
      for (const m of machines) {
        out += csvRow([m.machineId, m.ipAddress, formatRfc3339(m.updatedAt), String(m.isValidated), m.version, m.authType, lastHeartbeatText(m, now, false)]);
      }
      return out;
    }
    case 'json':
      // json.Encoder with a two-space indent: a trailing newline, and `[]` for no machines.
      return goJson(machines.map(machineJson), '  ') + '\n';
  }
}

/**
 * The ent row as cscli 1.4.6 encodes it: camelCase `machineId`, `ipAddress`, `isValidated` (sic,
 * ent's field names), `edges: {}`, the password hash left out (`json:"-"`). `last_push`,
 * `last_heartbeat`, `scenarios` and `version` are omitempty there, so they are absent until set.
 */
export function machineJson(m: Machine): Record<string, unknown> {
  const nano = { nano: true };
  const time = (ms: number | null) => (ms === null ? undefined : formatRfc3339(ms, nano));
  return {
    id: m.id,
    created_at: formatRfc3339(m.createdAt, nano),
    updated_at: formatRfc3339(m.updatedAt, nano),
    last_push: time(m.lastPushAt),
    last_heartbeat: time(m.lastHeartbeatAt),
    machineId: m.machineId,
    ipAddress: m.ipAddress,
    scenarios: m.scenarios === '' ? undefined : m.scenarios,
    version: m.version === '' ? undefined : m.version,
    isValidated: m.isValidated,
    auth_type: m.authType,
    edges: {},
  };
}

/**
 * The credentials file the CrowdSec agent reads (local_api_credentials.yaml): `url`, `login`,
 * `password`, in cscli's order (csconfig.ApiCredentialsCfg through yaml.Marshal).
 */
export function formatCredentials(url: string, login: string, password: string): string {
  return YAML.stringify({ url, login, password }, { lineWidth: 0 });
}

/** `machines inspect`: CrowdSec's fields, then what Vigil knows of its health. */
export function formatMachineInspect(m: Machine, health: string, output: OutputFormat, now: number): string {
  const time = (ms: number | null) => (ms === null ? '' : formatRfc3339(ms));
  if (output === 'json') {
    const extra = {
      last_login: m.lastLoginAt === null ? null : formatRfc3339(m.lastLoginAt, { nano: true }),
      heartbeat_cadence_ms: m.heartbeatCadenceMs,
      health,
    };
    return goJson({ ...machineJson(m), ...extra }, '  ') + '\n';
  }
  const fields: Array<[string, string]> = [
    ['Machine ID', m.machineId],
    ['Created At', time(m.createdAt)],
    ['Last Update', time(m.updatedAt)],
    ['Validated?', String(m.isValidated)],
    ['IP Address', m.ipAddress],
    ['Version', m.version],
    ['Auth type', m.authType],
    ['Last Login', time(m.lastLoginAt)],
    ['Last Heartbeat', lastHeartbeatText(m, now, output === 'human')],
    ['Last Push', time(m.lastPushAt)],
    ['Heartbeat cadence', m.heartbeatCadenceMs === null ? 'not steady or not known yet' : `every ${formatGoDuration(m.heartbeatCadenceMs)}`],
    ['Health', health.replaceAll('_', ' ')],
    ['Scenarios', m.scenarios === '' ? '' : `${m.scenarios.split(',').length}`],
  ];
  if (output === 'raw') return csvRow(['field', 'value']) + fields.map((f) => csvRow(f)).join('');
  let out = plainTable(['Field', 'Value'], fields);
  if (m.scenarios !== '')
    out +=
      '\nScenarios:\n' +
      m.scenarios
        .split(',')
        .map((s) => `  ${s}\n`)
        .join('');
  return out;
}
