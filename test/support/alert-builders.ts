import { parseAlertsPayload, type IncomingAlert } from '../../src/core/alerts/payload.ts';
import type { Alert, NewAlert } from '../../src/core/model/records.ts';

/**
 * Alerts for tests, in the two shapes they take: as a watcher POSTs them to `/v1/alerts` (wire,
 * snake_case) and as the store keeps them (records). Each test overrides only what it is about.
 */

const WIRE_START = '2026-11-24T04:18:03Z';

/** One alert as `cscli`/crowdsec POST it: the fields CrowdSec requires, any of them replaced by `over`. */
export const wireAlert = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  capacity: 5,
  events: [],
  events_count: 6,
  leakspeed: '10s',
  message: 'm',
  scenario: 'crowdsecurity/ssh-bf',
  scenario_hash: 'h',
  scenario_version: '0.1',
  simulated: false,
  source: { scope: 'Ip', value: '192.0.2.1', ip: '192.0.2.1' },
  start_at: WIRE_START,
  stop_at: '2026-11-24T04:18:05Z',
  ...over,
});

/** One decision of a pushed alert. */
export const wireDecision = (value: string, over: Record<string, unknown> = {}): Record<string, unknown> => ({
  duration: '1h',
  origin: 'cscli',
  scenario: 'manual',
  scope: 'Ip',
  type: 'ban',
  value,
  ...over,
});

/** The one alert of a push of one, parsed; a refusal fails the test with its message. */
export function parseOneAlert(a: unknown): IncomingAlert {
  const r = parseAlertsPayload([a]);
  if (!r.ok) throw new Error(r.message);
  return r.alerts[0]!;
}

/** An alert as the store is given it: an IP source, one event, started and stopped at `createdAt`. */
export const newAlert = (createdAt: number, over: Partial<NewAlert> = {}): NewAlert => ({
  createdAt,
  scenario: 's',
  message: 'm',
  machineId: 'm',
  sourceScope: 'Ip',
  sourceValue: '192.0.2.1',
  sourceIp: '192.0.2.1',
  eventsCount: 1,
  leakspeed: '',
  startAt: createdAt,
  stopAt: createdAt,
  simulated: false,
  ...over,
});

/** A stored alert (with its id), as the store reads it back. */
export const storedAlert = (id: number, createdAt: number, over: Partial<Alert> = {}): Alert => ({ id, ...newAlert(createdAt), ...over });
