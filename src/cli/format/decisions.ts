import { formatGoDuration, formatGoTimeString, formatRfc3339 } from '../../lib/duration.ts';
import type { Alert, AlertWithDecisions, Decision } from '../../core/model/records.ts';
import { csvRow } from './csv.ts';
import { goJson } from './go-json.ts';
import type { OutputFormat } from './output-format.ts';
import { boxTable } from './table.ts';

/**
 * `cscli decisions list`, byte-compatible with CrowdSec 1.4.6 (wire protocol §3; cscli's
 * DecisionsToTable). cscli lists decisions through their alerts (`GET /v1/alerts`), so the
 * input is alerts with their decisions: the alerts that have at least one active decision,
 * each with all of its decisions, as the LAPI returns them.
 */

export interface DecisionListOptions {
  /** cscli `-m/--machine`: adds a Machine column (raw: `machine`). */
  printMachine?: boolean;
  /** Terminal width for the human table (see table.ts); default 80. */
  availableWidth?: number;
  /**
   * Remaining time as printed; default Go `Duration.String()` of until − now. The LAPI computes
   * it per decision at query time, so a caller holding nanosecond times can supply its own.
   */
  remaining?: (decision: Decision, now: number) => string;
}

const HEADERS = ['ID', 'Source', 'Scope:Value', 'Reason', 'Action', 'Country', 'AS', 'Events', 'expiration', 'Alert ID'];
const RAW_HEADERS = ['id', 'source', 'ip', 'reason', 'action', 'country', 'as', 'events_count', 'expiration', 'simulated', 'alert_id'];

/**
 * `cscli decisions list -o human|raw|json`: alerts newest first (created_at, then id, as the
 * LAPI sorts), one line per decision, expiration = until − now as a Go duration.
 * Empty list: human prints `No active decisions`; json prints `null` (the LAPI answers `null`
 * for no alerts and cscli re-encodes that nil slice), with no newline; raw prints the header only.
 */
export function formatDecisionList(items: readonly AlertWithDecisions[], output: OutputFormat, now: number, options: DecisionListOptions = {}): string {
  const remaining = options.remaining ?? ((d: Decision, at: number) => formatGoDuration(d.until - at));
  const printMachine = options.printMachine ?? false;
  const { alerts, skipped } = dedupe(sortAlerts(items));
  // The LAPI shows `N/A` for an alert whose machine is gone.
  const machineOf = (a: Alert): string => (a.machineId === '' ? 'N/A' : a.machineId);

  switch (output) {
    case 'human': {
      if (items.length === 0) return 'No active decisions\n';
      const headers = printMachine ? [...HEADERS, 'Machine'] : HEADERS;
      const rows: string[][] = [];
      for (const { alert, decisions } of alerts) {
        for (const d of decisions) {
          rows.push([
            String(d.id),
            d.origin,
            `${d.scope}:${d.value}`,
            d.scenario,
            alert.simulated ? `(simul)${d.type}` : d.type,
            '', // Country: Vigil keeps no GeoIP data
            '', // AS
            String(alert.eventsCount),
            remaining(d, now),
            String(alert.id),
            ...(printMachine ? [machineOf(alert)] : []),
          ]);
        }
      }
      let out = boxTable(headers, rows, { availableWidth: options.availableWidth });
      if (skipped > 0) out += `${skipped} duplicated entries skipped\n`;
      return out;
    }
    case 'raw': {
      let out = csvRow(printMachine ? [...RAW_HEADERS, 'machine'] : RAW_HEADERS);
      for (const { alert, decisions } of alerts) {
        for (const d of decisions) {
          out += csvRow([
            String(d.id),
            d.origin,
            `${d.scope}:${d.value}`,
            d.scenario,
            d.type,
            '',
            '',
            String(alert.eventsCount),
            remaining(d, now),
            String(alert.simulated), // the alert's flag, as in the LAPI's output
            String(alert.id),
            ...(printMachine ? [machineOf(alert)] : []),
          ]);
        }
      }
      return out;
    }
    case 'json': {
      if (items.length === 0) return 'null';
      // json.MarshalIndent(alerts, "", " ") printed with "%s": one-space indent, no newline.
      return goJson(alertsAsJson(alerts, now, remaining, machineOf), ' ');
    }
  }
}

/** The LAPI's alert objects, as cscli prints them with `-o json`. */
function alertsAsJson(
  alerts: ReturnType<typeof dedupe>['alerts'],
  now: number,
  remaining: (d: Decision, at: number) => string,
  machineOf: (a: Alert) => string,
): unknown[] {
  return alerts.map(({ alert, decisions }) => ({
    capacity: 0,
    created_at: formatRfc3339(alert.createdAt),
    decisions: decisions.map((d) => ({
      duration: remaining(d, now),
      id: omitZero(d.id),
      origin: d.origin,
      scenario: d.scenario,
      scope: d.scope,
      simulated: alert.simulated, // the LAPI copies the alert's flag onto each decision
      type: d.type,
      value: d.value,
    })),
    events: null, // Vigil stores no events; the LAPI's nil slice encodes as null
    events_count: alert.eventsCount,
    id: omitZero(alert.id),
    labels: null,
    leakspeed: alert.leakspeed,
    machine_id: machineOf(alert),
    message: alert.message,
    scenario: alert.scenario,
    scenario_hash: '',
    scenario_version: '',
    simulated: alert.simulated,
    source: { ip: alert.sourceIp === '' ? undefined : alert.sourceIp, scope: alert.sourceScope, value: alert.sourceValue },
    // Sic: RFC 3339 for created_at but Go's Time.String() for start/stop (§3).
    start_at: formatGoTimeString(alert.startAt),
    stop_at: formatGoTimeString(alert.stopAt),
  }));
}

/** Go's `omitempty` on an int64 id. */
const omitZero = (n: number): number | undefined => (n === 0 ? undefined : n);

/** The LAPI's order for `GET /v1/alerts`: newest created first, then highest id. */
function sortAlerts(items: readonly AlertWithDecisions[]): AlertWithDecisions[] {
  return [...items].sort((a, b) => b.alert.createdAt - a.alert.createdAt || b.alert.id - a.alert.id);
}

/**
 * cscli shows one line per simulated/type/scope/value: later duplicates (in display order) are
 * dropped, in every output format, and counted for the human footer.
 */
function dedupe(items: readonly AlertWithDecisions[]): { alerts: AlertWithDecisions[]; skipped: number } {
  const seen = new Set<string>();
  let skipped = 0;
  const alerts = items.map(({ alert, decisions }) => ({
    alert,
    decisions: decisions.filter((d) => {
      const key = JSON.stringify([alert.simulated, d.type, d.scope, d.value]);
      if (seen.has(key)) {
        skipped++;
        return false;
      }
      seen.add(key);
      return true;
    }),
  }));
  return { alerts, skipped };
}
