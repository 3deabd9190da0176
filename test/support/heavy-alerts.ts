/**
 * Alerts as a CrowdSec agent pushes them, and the heavy bodies of issue 27's attack (alerts as a
 * memory and event-loop weapon): built once here for the attack test (test/attack/alerts-weapon.test.ts)
 * and the bench that replays it under load (bench/heavy-watchers.ts).
 */

/** The source address of alert `n`: 10.x.y.z, one per n below 2^24. */
export function alertAddress(n: number): string {
  return `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
}

/** A valid alert as an agent sends it (ssh-bf, one event, a 4 h ban on its source), `over` overriding fields. */
export function agentAlert(n: number, over: Record<string, unknown> = {}): Record<string, unknown> {
  const ip = alertAddress(n);
  const at = new Date().toISOString();
  return {
    capacity: 5,
    decisions: [{ duration: '4h', origin: 'cscli', scenario: 'crowdsecurity/ssh-bf', scope: 'Ip', type: 'ban', value: ip }],
    events: [{ meta: [{ key: 'source_ip', value: ip }], timestamp: at }],
    events_count: 1,
    labels: null,
    leakspeed: '10s',
    message: `Ip ${ip} performed 'crowdsecurity/ssh-bf'`,
    scenario: 'crowdsecurity/ssh-bf',
    scenario_hash: 'h',
    scenario_version: '0.1',
    simulated: false,
    source: { ip, scope: 'Ip', value: ip },
    start_at: at,
    stop_at: at,
    ...over,
  };
}

/** `count` events of one `valueBytes`-long meta value each: what makes an alert heavy. */
export function heavyEvents(count: number, valueBytes: number): Array<Record<string, unknown>> {
  return Array.from({ length: count }, (_, i) => ({ meta: [{ key: 'log', value: String(i).padEnd(valueBytes, 'x') }], timestamp: new Date().toISOString() }));
}

/** `count` bans for alert `n`, as `cscli decisions import` attaches them to one alert (250 at a time). */
export function importedDecisions(n: number, count = 250): Array<Record<string, unknown>> {
  return Array.from({ length: count }, (_, j) => ({
    duration: '4h',
    origin: 'cscli',
    scenario: 'import',
    scope: 'Ip',
    type: 'ban',
    value: `172.${16 + (n % 16)}.${j}.${(n >> 4) & 255}`,
  }));
}

/**
 * The attack's two push bodies, alerts numbered from `first`: `fat`, 1,000 alerts of 50 events of
 * 520 bytes (~28 MB); `imported`, 1,000 alerts × 250 decisions. Built before the load they go into,
 * so building them does not delay it.
 */
export function heavyBodies(first: number): { fat: Buffer; imported: Buffer } {
  const events = heavyEvents(50, 520);
  const fat = Buffer.from(JSON.stringify(Array.from({ length: 1_000 }, (_, i) => agentAlert(first + i, { events, events_count: 50 }))));
  const imported = Buffer.from(JSON.stringify(Array.from({ length: 1_000 }, (_, n) => agentAlert(first + 1_000_000 + n, { decisions: importedDecisions(n) }))));
  return { fat, imported };
}
