import { formatRfc3339 } from '../../lib/duration.ts';
import type { RefusedRequest, RefusedSummary } from '../model/records.ts';

/* Evidence helpers the bouncer and machine evaluators share. */

/** An IP or version change this long before the silence is worth noting. */
const CHANGE_NOTE_WINDOW_MS = 3600_000;

/** The IP and version changes of a bouncer or machine just before it went silent (`since`), one line each. */
export function changeNotes(changes: readonly { at: number; field: string; oldValue: string; newValue: string }[] | undefined, since: number): string[] {
  const notes: string[] = [];
  for (const c of changes ?? []) {
    if (c.at <= since + 1000 && since - c.at <= CHANGE_NOTE_WINDOW_MS) {
      notes.push(
        `its ${c.field === 'ip' ? 'IP address' : c.field} changed from '${c.oldValue}' to '${c.newValue}' at ${formatRfc3339(c.at)}, just before it went silent`,
      );
    }
  }
  return notes;
}

/** A raw refused request is a summary of one. */
export function summaryOf(r: RefusedRequest): RefusedSummary {
  return {
    peerIp: r.peerIp,
    userAgent: r.userAgent,
    reason: r.reason,
    keyFingerprint: r.keyFingerprint,
    severalKeys: false,
    bouncerName: r.bouncerName,
    method: r.method,
    path: r.path,
    firstAt: r.at,
    lastAt: r.at,
    count: 1,
  };
}

/** Appends to the list under `k`, creating it. */
export function pushTo<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const list = m.get(k);
  if (list) list.push(v);
  else m.set(k, [v]);
}
