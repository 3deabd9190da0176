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
}

export interface BouncerChangesTable {
  id: Generated<number>;
  bouncer_id: number;
  at: number;
  field: string;
  old_value: string;
  new_value: string;
}

export interface Database {
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
}

export interface BouncerUsageMetricsTable {
  bouncer_id: number;
  received_at: number;
  report: string;
}
