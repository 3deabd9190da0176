import type { Decision } from '../store/types.ts';
import { formatGoDuration } from './duration.ts';

/**
 * One decision as the CrowdSec LAPI sends it to bouncers: exactly these seven keys, in this
 * (alphabetical) order, `duration` the remaining time as Go prints it, negative once expired
 * (reference §4, §7.2). Built as a string: this runs 100k times for a stream startup.
 */
export function decisionJson(d: Decision, now: number): string {
  return (
    '{"duration":' + JSON.stringify(formatGoDuration(d.until - now)) +
    ',"id":' + d.id +
    ',"origin":' + JSON.stringify(d.origin) +
    ',"scenario":' + JSON.stringify(d.scenario) +
    ',"scope":' + JSON.stringify(d.scope) +
    ',"type":' + JSON.stringify(d.type) +
    ',"value":' + JSON.stringify(d.value) +
    '}'
  );
}

/** An array of decisions, or `null` when empty: CrowdSec never sends `[]` (reference §7.1). */
export function decisionsJson(list: readonly Decision[], now: number): string {
  if (list.length === 0) return 'null';
  const parts = new Array<string>(list.length);
  for (let i = 0; i < list.length; i++) parts[i] = decisionJson(list[i]!, now);
  return '[' + parts.join(',') + ']';
}

/** The stream body: `deleted` before `new`, as CrowdSec orders them. */
export function streamJson(deleted: readonly Decision[], added: readonly Decision[], now: number): string {
  return '{"deleted":' + decisionsJson(deleted, now) + ',"new":' + decisionsJson(added, now) + '}';
}
