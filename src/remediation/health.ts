/**
 * The bouncer's own health: healthy while its last successful contact with the Local API (a pull
 * in stream mode, a query or probe in live mode) is younger than `unhealthyAfter`. A rejected key
 * or a dead Local API therefore shows within that threshold instead of never (the failure reported
 * in caddy-crowdsec-bouncer #140, anchors §2.4). Pure: the caller passes `now`.
 */
import type { LapiFailureKind } from './lapi-client.ts';

export type HealthStatus = 'starting' | 'healthy' | 'unhealthy';

export interface LastFailure {
  at: number;
  kind: LapiFailureKind;
  status: number | null;
  message: string;
}

export interface HealthState {
  mode: 'stream' | 'live';
  startedAt: number;
  lastSuccessAt: number | null;
  lastFailure: LastFailure | null;
  consecutiveFailures: number;
  unhealthyAfterMs: number;
}

export interface BouncerHealth {
  healthy: boolean;
  status: HealthStatus;
  mode: 'stream' | 'live';
  /** Last successful pull (stream) or Local API answer (live); null before the first. */
  lastSuccessAt: number | null;
  /** ms since lastSuccessAt, or since start when there was none. */
  ageMs: number;
  unhealthyAfterMs: number;
  consecutiveFailures: number;
  lastFailure: LastFailure | null;
  /** One sentence for a log line or a dashboard. */
  summary: string;
}

/** Three missed 10 s pulls, floored at 30 s: the threshold proposed in caddy-crowdsec-bouncer PR #142. */
export function defaultUnhealthyAfter(updateFrequencyMs: number): number {
  return Math.max(3 * updateFrequencyMs, 30_000);
}

const seconds = (ms: number): string => `${Math.round(ms / 100) / 10}s`;

export function evaluateHealth(state: HealthState, now: number): BouncerHealth {
  const since = state.lastSuccessAt ?? state.startedAt;
  const ageMs = Math.max(0, now - since);
  const fresh = ageMs <= state.unhealthyAfterMs;
  const status: HealthStatus = state.lastSuccessAt === null ? (fresh ? 'starting' : 'unhealthy') : fresh ? 'healthy' : 'unhealthy';
  const what = state.mode === 'stream' ? 'pull' : 'answer from the Local API';
  let summary: string;
  if (status === 'healthy') summary = `last successful ${what} ${seconds(ageMs)} ago`;
  else if (status === 'starting') summary = `waiting for the first successful ${what}`;
  else {
    summary =
      state.lastSuccessAt === null
        ? `no successful ${what} since the start ${seconds(ageMs)} ago`
        : `no successful ${what} for ${seconds(ageMs)} (threshold ${seconds(state.unhealthyAfterMs)})`;
    if (state.lastFailure) summary += `; last error: ${state.lastFailure.message}`;
  }
  return {
    healthy: status === 'healthy',
    status,
    mode: state.mode,
    lastSuccessAt: state.lastSuccessAt,
    ageMs,
    unhealthyAfterMs: state.unhealthyAfterMs,
    consecutiveFailures: state.consecutiveFailures,
    lastFailure: state.lastFailure,
    summary,
  };
}
