import type { Migration } from 'kysely/migration';
import type { Dialect } from '../dialect.ts';
import { tablesMigration, type Table } from './tables.ts';

const canaryRuns: Table = {
  name: 'canary_runs',
  columns: {
    id: 'id',
    canary: 'text',
    bouncer_name: 'text',
    url: 'text',
    address: 'text',
    expect: 'text',
    started_at: 'bigint',
    finished_at: 'bigint',
    // pass | fail | aborted
    verdict: 'text',
    // baseline | add | wait | check | remove; null when the run passed
    failed_step: { type: 'text', nullable: true },
    summary: 'text',
    fix: { type: 'text', nullable: true },
    decision_id: { type: 'text', nullable: true },
    decision_removed: 'integer',
    // The last HTTP status the URL answered the test address with (null: no answer).
    answer_status: { type: 'integer', nullable: true },
    pulled_after_ms: { type: 'bigint', nullable: true },
    enforced_after_ms: { type: 'bigint', nullable: true },
    total_ms: 'bigint',
    // The steps as vigil verify reports them, JSON text.
    steps: 'text',
  },
  indexes: [
    { name: 'canary_runs_canary', columns: ['canary', 'started_at'] },
    { name: 'canary_runs_bouncer', columns: ['bouncer_name', 'started_at'] },
  ],
};

const bouncerStreamFilters: Table = {
  name: 'bouncer_stream_filters',
  columns: {
    bouncer_id: { type: 'bigint', primaryKey: true },
    seen_at: 'bigint',
    // {scopes, origins?, scenariosContaining?, scenariosNotContaining?, dedup}, JSON text.
    filters: 'text',
  },
};

const bouncerDriftObservations: Table = {
  name: 'bouncer_drift_observations',
  columns: {
    bouncer_id: 'bigint',
    // The usage-metrics report's receipt time: one observation per report.
    report_at: 'bigint',
    observed_at: 'bigint',
    reported: 'bigint',
    expected: 'bigint',
    // Per origin: {origin: {reported, expected}}, JSON text.
    by_origin: 'text',
  },
  primaryKey: ['bouncer_id', 'report_at'],
};

/**
 * Proof of enforcement (docs/canaries.md):
 * - `canary_runs`: each scheduled run of a canary (the `vigil verify` flow), its verdict, the step
 *   that failed and its timings; pruned to the last CANARY_RUNS_KEPT per canary (src/store/canaries.ts).
 * - `bouncer_stream_filters`: the filters of a bouncer's last stream pull (scopes, origins,
 *   scenarios), so what it should hold can be compared with what it reports holding.
 * - `bouncer_drift_observations`: per usage-metrics report, what the bouncer reported holding and
 *   what the Local API held for its filters; two in a row that disagree raise remediation_drift.
 */
export function canaries(dialect: Dialect): Migration {
  return tablesMigration(dialect, [canaryRuns, bouncerStreamFilters, bouncerDriftObservations]);
}
