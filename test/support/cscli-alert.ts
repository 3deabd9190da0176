/**
 * The alert `cscli decisions add --ip VALUE` pushes to POST /v1/alerts (CrowdSec 1.4.6): one `ban`
 * decision of origin cscli on the address, lasting `duration`. Times default to now; `extra`
 * replaces or adds fields (a fixed `created_at`, a malformed `capacity`…).
 */
export function cscliAlert(value: string, duration: string, extra: Record<string, unknown> = {}) {
  const now = new Date().toISOString();
  return {
    capacity: 0,
    decisions: [{ duration, origin: 'cscli', scenario: 'test', scope: 'Ip', type: 'ban', value }],
    events: [],
    events_count: 1,
    labels: null,
    leakspeed: '0',
    message: 'test',
    scenario: 'test',
    scenario_hash: '',
    scenario_version: '',
    simulated: false,
    source: { ip: value, scope: 'Ip', value },
    start_at: now,
    stop_at: now,
    ...extra,
  };
}
