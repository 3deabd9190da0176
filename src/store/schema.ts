import type { ColumnType, Generated } from 'kysely';

/**
 * The tables as Kysely sees them. Times are BIGINT epoch milliseconds on both databases, so one
 * query layer serves SQLite and PostgreSQL; booleans are 0/1 integers for the same reason.
 */
export interface BouncersTable {
  id: Generated<number>;
  name: string;
  api_key_hash: string;
  revoked: number;
  ip_address: string;
  type: string;
  version: string;
  auth_type: string;
  created_at: number;
  updated_at: number;
  last_pull_at: number | null;
  last_pull_rev: number | null;
  last_request_at: number | null;
  kind_override: string | null;
  pull_cadence_ms: number | null;
  /** Created by the Local API for a shared key's new address, or for a client certificate (migration 009). */
  auto_created: Generated<number>;
}

export interface DecisionsTable {
  id: Generated<number>;
  alert_id: number | null;
  origin: string;
  type: string;
  scope: string;
  value: string;
  scenario: string;
  created_at: number;
  until: number;
  deleted_at: number | null;
  simulated: number;
  /** Store-wide change counter at the last write; replicas follow it to stay in sync. */
  rev: number;
}

export interface AlertsTable {
  id: Generated<number>;
  created_at: number;
  scenario: string;
  message: string;
  machine_id: string;
  source_scope: string;
  source_value: string;
  source_ip: string;
  events_count: number;
  leakspeed: string;
  start_at: number;
  stop_at: number;
  simulated: number;
  // migration 008: what CrowdSec's alerts round-trip (defaults for the CLI's own alerts)
  capacity: ColumnType<number, number | undefined, number>;
  scenario_hash: ColumnType<string, string | undefined, string>;
  scenario_version: ColumnType<string, string | undefined, string>;
  remediation: ColumnType<number, number | undefined, number>;
  kind: ColumnType<string, string | undefined, string>;
  /** JSON: labels, events, meta, the source's AS/country/range/coordinates. */
  extra: ColumnType<string, string | undefined, string>;
}

export interface RefusedRequestsTable {
  id: Generated<number>;
  at: number;
  peer_ip: string;
  user_agent: string;
  method: string;
  path: string;
  reason: string;
  key_fingerprint: string;
  bouncer_name: string;
}

export interface MetaTable {
  key: string;
  value: ColumnType<string, string, string>;
}

/** Monotonic counters (e.g. the decisions revision); a row lock on update orders writers. */
export interface CountersTable {
  name: string;
  value: number;
}

export interface HealthIssuesTable {
  id: Generated<number>;
  kind: string;
  criticality: string;
  subject: string;
  bouncer_name: string | null;
  opened_at: number;
  last_seen_at: number;
  resolved_at: number | null;
  since: number;
  summary: string;
  /** JSON: the ranked likely causes with their evidence lines. */
  evidence: string;
}

export interface LapiStartsTable {
  id: Generated<number>;
  at: number;
  instance: string;
  /** Migration 014: the run's last "alive" mark; null for runs from before. */
  alive_until: ColumnType<number | null, number | null | undefined, number | null>;
}

export interface BouncerChangesTable {
  id: Generated<number>;
  bouncer_id: number;
  at: number;
  field: string;
  old_value: string;
  new_value: string;
}

/** Every table of the store, one complete type (migrations 001–008; the notification tables of 004 in NotifyTables). */
export interface Database extends NotifyTables {
  bouncers: BouncersTable;
  decisions: DecisionsTable;
  alerts: AlertsTable;
  refused_requests: RefusedRequestsTable;
  vigil_meta: MetaTable;
  vigil_counters: CountersTable;
  health_issues: HealthIssuesTable;
  lapi_starts: LapiStartsTable;
  bouncer_changes: BouncerChangesTable;
  bouncer_usage_metrics: BouncerUsageMetricsTable;
  // migration 005
  bouncer_pull_hours: BouncerPullHoursTable;
  // migration 006
  refused_summaries: RefusedSummariesTable;
  // migration 007
  dashboard_ended_sessions: EndedSessionsTable;
  // migration 008
  machines: MachinesTable;
  // migration 010
  canary_runs: CanaryRunsTable;
  bouncer_stream_filters: BouncerStreamFiltersTable;
  bouncer_drift_observations: BouncerDriftObservationsTable;
  // migration 015 (src/store/usage-log-processors.ts)
  machine_usage_metrics: MachineUsageMetricsTable;
  machine_usage_windows: MachineUsageWindowsTable;
  // migration 013
  bouncer_probes: BouncerProbesTable;
  // migration 017 (src/store/allowlists.ts)
  allowlists: AllowlistsTable;
  allowlist_items: AllowlistItemsTable;
}

/** Centralized allowlists (migration 017). Booleans 0/1, times epoch ms. */
export interface AllowlistsTable {
  id: Generated<number>;
  name: string;
  description: string;
  /** The Console's id of a list it manages; '' for a local one. */
  allowlist_id: string;
  from_console: number;
  created_at: number;
  updated_at: number;
}

export interface AllowlistItemsTable {
  id: Generated<number>;
  /** allowlists.id */
  allowlist: number;
  value: string;
  comment: string;
  expires_at: number | null;
  created_at: number;
  updated_at: number;
}

/** The last probe of a bouncer's key (migration 013, src/store/bouncer-probes.ts). */
export interface BouncerProbesTable {
  bouncer_id: number;
  at: number;
  user_agent: string;
  peer_ip: string;
  method: string;
  path: string;
}

/** Proof of enforcement (migration 010, src/store/canaries.ts). */
export interface CanaryRunsTable {
  id: Generated<number>;
  canary: string;
  bouncer_name: string;
  url: string;
  address: string;
  expect: string;
  started_at: number;
  finished_at: number;
  verdict: string;
  failed_step: string | null;
  summary: string;
  fix: string | null;
  decision_id: string | null;
  decision_removed: number;
  answer_status: number | null;
  pulled_after_ms: number | null;
  enforced_after_ms: number | null;
  total_ms: number;
  steps: string;
}

export interface BouncerStreamFiltersTable {
  bouncer_id: number;
  seen_at: number;
  filters: string;
}

export interface BouncerDriftObservationsTable {
  bouncer_id: number;
  report_at: number;
  observed_at: number;
  reported: number;
  expected: number;
  by_origin: string;
}

export interface BouncerUsageMetricsTable {
  bouncer_id: number;
  received_at: number;
  report: string;
}

/** Pulls per bouncer per hour (migration 005). */
export interface BouncerPullHoursTable {
  bouncer_id: number;
  /** Start of the hour, epoch ms (UTC). */
  hour: number;
  pulls: number;
}

/** Refused requests summed per (address, User-Agent, reason) (migration 006). */
export interface RefusedSummariesTable {
  id: number;
  peer_ip: string;
  user_agent: string;
  reason: string;
  key_fingerprint: string;
  several_keys: number;
  bouncer_name: string;
  method: string;
  path: string;
  first_at: number;
  last_at: number;
  count: number;
}

/** Logged-out dashboard sessions (migration 007). */
export interface EndedSessionsTable {
  /** SHA-256 (hex) of the session id the cookie carries. */
  session_id_sha256: string;
  /** Epoch ms: when the session would have expired anyway. */
  expires_at: number;
}

/** The notification tables (migration 004). */
export type NotifyTables = {
  notify_outbox: {
    id: Generated<number>;
    delivery_id: string;
    channel: string;
    event: string;
    content: string;
    created_at: number;
    status: string;
    attempts: number;
    next_attempt_at: number;
    lease_owner: string | null;
    lease_until: number | null;
    last_error: string | null;
    answer: string | null;
    sent_at: number | null;
  };
  notify_issue_state: {
    channel: string;
    issue_id: number;
    open_outbox_id: number;
    open_queued_at: number;
    reminders_queued: number;
    resolve_outbox_id: number | null;
    resolve_queued_at: number | null;
    // migration 011: what the channel was last told (criticality, top cause) and when the last update went.
    announced_criticality: string | null;
    announced_cause: string | null;
    update_queued_at: number | null;
    // migration 021: when an acknowledgement was queued (channels that announce them).
    ack_queued_at: number | null;
  };
  notify_silences: {
    id: Generated<number>;
    issue_id: number | null;
    bouncer_name: string | null;
    reason: string;
    created_by: string;
    created_at: number;
    ends_at: number;
    removed_at: number | null;
    starts_at: number | null;
    issue_kind: string | null;
    machine_name: string | null;
    labels: string | null;
    schedule: string | null;
  };
  notify_acks: {
    issue_id: number;
    reason: string;
    created_by: string;
    created_at: number;
  };
};

/** Watchers: CrowdSec agents and cscli (migration 008). Booleans 0/1, times epoch ms. */
export interface MachinesTable {
  id: Generated<number>;
  machine_id: string;
  password_hash: string;
  ip_address: string;
  version: string;
  scenarios: string;
  is_validated: number;
  auth_type: string;
  created_at: number;
  updated_at: number;
  last_login_at: number | null;
  last_heartbeat_at: number | null;
  last_push_at: number | null;
  heartbeat_cadence_ms: number | null;
  /** JSON array of the last heartbeat times (epoch ms). */
  recent_heartbeats: string;
}

/** Agents' usage-metrics reports (migration 015, src/store/usage-log-processors.ts). */
export interface MachineUsageMetricsTable {
  machine_id: number;
  first_report_at: number;
  received_at: number;
  last_read_at: number | null;
  last_parsed_at: number | null;
  report: string;
}

export interface MachineUsageWindowsTable {
  machine_id: number;
  received_at: number;
  window_seconds: number;
  lines_read: number;
  lines_parsed: number;
  lines_unparsed: number;
  sources: string;
}
