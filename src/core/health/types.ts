import type { LastProbe } from '../bouncers/probe.ts';
import type { BouncerChange, Machine, RefusedRequest, RefusedSummary } from '../model/records.ts';

/**
 * Issue ids and criticalities from CrowdSec's Stack Health catalogue (docs/reference/crowdsec-docs-notes.md §1), plus our own
 * `integration_late`, and `source_unavailable` (`vigil watch` cannot read CrowdSec's bouncers).
 */
export const ISSUE_KINDS = [
  'rc_integration_offline',
  'fw_integration_offline',
  'se_no_active_rc',
  'se_no_rc',
  'integration_late',
  'source_unavailable',
  // `vigil watch`: CrowdSec's own Local API does not answer, or Vigil now answers in its place.
  'lapi_down',
  'lapi_replaced',
  // Machines (log processors): CrowdSec's LP Offline and LP No Alerts, and our own early warnings.
  'lp_offline',
  'lp_no_alerts',
  'lp_late',
  'lp_pending',
  // From agents' usage reports (log-processors.ts): CrowdSec's LP No Logs Read and LP No Logs Parsed.
  'lp_no_logs_read',
  'lp_no_logs_parsed',
  // Proof of enforcement (docs/canaries.md): a canary not blocked, a bouncer holding other than it is sent.
  'remediation_not_enforced',
  'remediation_drift',
  // One API key used from more addresses than limits.max_instances_per_key (key-spread.ts).
  'key_shared_widely',
  // Many bouncers silent at the same moment (fleet-silence.ts): one fleet issue instead of N.
  'fleet_silent',
  // The Console's newest Stack Health issues (console-issues.ts).
  'component_outdated',
  'se_too_many_alerts',
  'integration_zero_ips',
  'blocking_safe_ip',
] as const;
export type IssueKind = (typeof ISSUE_KINDS)[number];
/** Most severe first. */
export const CRITICALITIES = ['critical', 'high', 'warning', 'recommended'] as const;
export type Criticality = (typeof CRITICALITIES)[number];

export const ISSUE_CATALOGUE: Record<IssueKind, { title: string; criticality: Criticality }> = {
  rc_integration_offline: { title: 'RC Integration Offline', criticality: 'critical' },
  fw_integration_offline: { title: 'Firewall Integration Offline', criticality: 'critical' },
  se_no_active_rc: { title: 'Security Engine No Active Remediation Component', criticality: 'critical' },
  se_no_rc: { title: 'Security Engine No Remediation Component', criticality: 'recommended' },
  integration_late: { title: 'Integration Late', criticality: 'warning' },
  source_unavailable: { title: 'Watched Source Unavailable', criticality: 'high' },
  lapi_down: { title: 'CrowdSec Local API Down', criticality: 'critical' },
  lapi_replaced: { title: 'CrowdSec Local API Replaced', criticality: 'high' },
  lp_offline: { title: 'LP Offline', criticality: 'critical' },
  lp_no_alerts: { title: 'LP No Alerts', criticality: 'high' },
  lp_late: { title: 'LP Late', criticality: 'warning' },
  lp_pending: { title: 'LP Pending Validation', criticality: 'warning' },
  lp_no_logs_read: { title: 'LP No Logs Read', criticality: 'critical' },
  lp_no_logs_parsed: { title: 'LP No Logs Parsed', criticality: 'critical' },
  remediation_not_enforced: { title: 'Remediation Not Enforced', criticality: 'critical' },
  remediation_drift: { title: 'Remediation Drift', criticality: 'high' },
  key_shared_widely: { title: 'Key Used From Many Addresses', criticality: 'high' },
  fleet_silent: { title: 'Fleet Silent', criticality: 'critical' },
  // Recommended as the Console's planned Version Outdated checks; a known-vulnerable version is raised High.
  component_outdated: { title: 'Component Outdated', criticality: 'recommended' },
  se_too_many_alerts: { title: 'Security Engine Too Many Alerts', criticality: 'high' },
  integration_zero_ips: { title: 'Integration Pulling Zero IPs', criticality: 'high' },
  blocking_safe_ip: { title: 'Blocking Known Safe IP', criticality: 'high' },
};

import type { CauseKind } from './causes.ts';
import type { EnforcementInput } from './enforcement.ts';
import type { LogProcessorUsageInput } from './log-processors.ts';
import type { Interval } from './downtime.ts';
import type { RhythmHour } from './live-rhythm.ts';
import type { AlertVolumeInput } from './too-many-alerts.ts';
import type { KnownSafeInput } from './known-safe-ip.ts';
import type { ComponentVersion } from './component-versions.ts';

export type { CauseKind };

export interface LikelyCause {
  cause: CauseKind;
  confidence: 'high' | 'medium' | 'low';
  /** What the LAPI recorded that points here, one line each, for an operator to read. */
  evidence: string[];
}

/** A bouncer as the evaluator needs it. */
export interface BouncerHealthInput {
  id: number;
  name: string;
  type: string;
  version: string;
  ipAddress: string;
  kind: 'firewall' | 'remediation';
  revoked: boolean;
  createdAt: number;
  lastPullAt: number | null;
  lastRequestAt: number | null;
  /** Median interval of stream pulls when steady; null for live-mode or unknown cadence. */
  pullCadenceMs: number | null;
  /** Last usage-metrics report: proof of life for a live-mode bouncer that had no traffic to pull for. */
  lastUsageMetricsAt: number | null;
  /**
   * Created by the Local API for a shared key's other address (`NAME@IP`) or a client certificate
   * (`CN@IP`): a family is a name and its `NAME@…` rows (docs/reference/crowdsec-1.6-1.7.md §1).
   */
  autoCreated?: boolean;
  /** The last request with its key that was someone checking it (doctor, curl): evidence, never life (issue 24). */
  lastProbe?: LastProbe | null;
  /**
   * When the bouncer last closed its own connection to the Local API (its process exited, as the
   * serving process saw it: server/connection-watch.ts); absent when not seen (vigil watch, a restart).
   */
  connectionClosedAt?: number;
  /** The period of its usage-metrics reports (the latest report's `window_size_seconds`); absent or null: none (live-rhythm.ts). */
  usageReportPeriodMs?: number | null;
  /** Its learnt live-query rhythm for the current hour and the ones just before (live-rhythm.ts); absent: not learnt. */
  queryRhythm?: RhythmHour[] | null;
}

export interface FleetSnapshot {
  bouncers: BouncerHealthInput[];
  /** Refused and misrouted requests one by one, in any order (each counts as a summary of one). */
  refused: RefusedRequest[];
  /**
   * Refused and misrouted requests summed per (address, User-Agent, reason): what Vigil's own
   * Local API hands over, since a flood cannot push them out the way it fills the raw record.
   */
  refusedSummaries?: RefusedSummary[];
  /** When Local API processes started. */
  lapiStarts: number[];
  /**
   * When no Local API process ran (downtime.ts): that time is not counted as any component's silence.
   * Absent: none (`vigil watch`, whose bouncers' pulls CrowdSec records whether watch runs or not).
   */
  downtime?: Interval[];
  bouncerChanges: BouncerChange[];
  /**
   * False when the source keeps no refused or misrouted requests (`vigil watch`: CrowdSec's database
   * has none), so their absence proves nothing. Default true (Vigil's own Local API records them).
   */
  requestsRecorded?: boolean;
  /** Watchers (log processors). Absent: none known, and no machine issue is raised (`vigil watch`, older callers). */
  machines?: MachineHealthInput[];
  /** IP and version changes of machines at login. */
  machineChanges?: MachineChange[];
  /** Agents' usage-metrics reports, by machines.id (log-processors.ts). Absent: no LP No Logs issue is raised or resolved. */
  logProcessorUsage?: LogProcessorUsageInput[];
  /** Canaries and drift observations (enforcement.ts). Absent: nothing is raised or resolved from them. */
  enforcement?: EnforcementInput;
  /** Alerts received in the last 6 h (too-many-alerts.ts). Absent: Too Many Alerts is neither raised nor resolved. */
  alertVolume?: AlertVolumeInput;
  /** Active decisions that may be on known-safe addresses (known-safe-ip.ts). Absent: Blocking Known Safe IP is not judged. */
  knownSafe?: KnownSafeInput;
  /** The versions known current or vulnerable (component-versions.ts). Absent: Component Outdated is not judged. */
  componentVersions?: readonly ComponentVersion[];
}

/** A machine as the evaluator needs it. */
export type MachineHealthInput = Pick<
  Machine,
  | 'id'
  | 'machineId'
  | 'ipAddress'
  | 'version'
  | 'isValidated'
  | 'authType'
  | 'createdAt'
  | 'lastLoginAt'
  | 'lastHeartbeatAt'
  | 'lastPushAt'
  | 'heartbeatCadenceMs'
>;

/** A change of a machine's IP or version, seen at a login. */
export interface MachineChange {
  machineId: number;
  at: number;
  field: 'ip' | 'version';
  oldValue: string;
  newValue: string;
}

export interface HealthRules {
  /** A bouncer silent for longer than this is offline (default 24 h): CrowdSec Console's rule, for every bouncer. */
  offlineAfterMs: number;
  /** A steady bouncer not pulling for more than max(factor × its cadence, lateAfterMinMs) raises Integration Late. */
  lateAfterFactor: number;
  lateAfterMinMs: number;
  /** The late floor once the bouncer closed its own connection after its last pull (evaluate.ts rulesFor); default CLOSED_LATE_AFTER_MIN_MS. */
  closedLateAfterMinMs?: number;
  /**
   * A steady bouncer silent for more than max(factor × its cadence, offlineAfterMinMs) (never more than
   * offlineAfterMs) is offline. Absent: only offlineAfterMs (cadence.ts, cadenceThresholds).
   */
  offlineAfterFactor?: number;
  offlineAfterMinMs?: number;
  /** LP No Logs Read after this long without a line read (default 24 h), LP No Logs Parsed after this long without one parsed (48 h). */
  noLogsReadAfterMs?: number;
  noLogsParsedAfterMs?: number;
  /** `console`: CrowdSec Console's rules alone (offline after offlineAfterMs, no cadence). Absent: `vigil`. */
  mode?: 'vigil' | 'console';
  /** Refusals surely a bouncer's, with nothing of it succeeding, for this long raise it Critical (fail-open.ts; default 1 min). */
  failOpenAfterMs?: number;
  /**
   * How old the last pull or heartbeat can be when a status is read: `vigil watch` reads CrowdSec
   * every `poll_every`, so between reads a healthy client looks silent for up to that much longer.
   * Added to the `late` status threshold only (issues are judged right after a read). Absent: 0.
   */
  observedEveryMs?: number;
}

/** One condition that holds now. The engine turns findings into persisted issues. */
export interface Finding {
  kind: IssueKind;
  criticality: Criticality;
  /** `bouncer:<name>`, `machine:<machine_id>` or `fleet`: one open issue per kind and subject. */
  subject: string;
  bouncerName: string | null;
  /** When the condition began: the last sign of life, or the registration. */
  since: number;
  summary: string;
  /** Most likely first. Empty for fleet-level findings. */
  causes: LikelyCause[];
  /** Facts worth knowing that do not point at a cause (an IP or version change just before). */
  notes: string[];
  /**
   * False when only requests that are not the component's own traffic (a key check, a probe such as
   * `vigil doctor`, a login) keep it at this stage rather than a graver one: its pulls and usage
   * reports (an agent's heartbeats and pushes) alone would say worse. An open issue then keeps its
   * graver stage (incident.ts): a fall is told only when the component itself came back. Absent: true.
   */
  ownTraffic?: boolean;
}

export type BouncerStatus = 'healthy' | 'late' | 'offline' | 'never_pulled' | 'revoked';
