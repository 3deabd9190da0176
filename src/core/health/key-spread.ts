import { formatRfc3339 } from '../../lib/duration.ts';
import { TOO_MANY_INSTANCES } from '../bouncers/key-sharing.ts';
import type { RefusedSummary } from '../model/records.ts';
import { summaryOf } from './evidence.ts';
import { ISSUE_CATALOGUE, type Finding, type FleetSnapshot } from './types.ts';

/**
 * Issue 27: one API key used from more addresses than `limits.max_instances_per_key` allows. The
 * Local API refuses each new address past the cap (reason TOO_MANY_INSTANCES, naming the key's first
 * row); here all of them become ONE issue per key, "key used from N addresses: leaked?", instead of
 * one per address. Pure: read from the refusals and the rows in the snapshot.
 */
export { TOO_MANY_INSTANCES };

export function evaluateKeySpread(snapshot: FleetSnapshot): Finding[] {
  const byKey = new Map<string, { refused: Set<string>; first: number; last: number; count: number }>();
  const note = (r: RefusedSummary) => {
    if (r.reason !== TOO_MANY_INSTANCES || r.bouncerName === '') return;
    const k = byKey.get(r.bouncerName) ?? { refused: new Set<string>(), first: r.firstAt, last: r.lastAt, count: 0 };
    k.refused.add(r.peerIp);
    k.first = Math.min(k.first, r.firstAt);
    k.last = Math.max(k.last, r.lastAt);
    k.count += r.count;
    byKey.set(r.bouncerName, k);
  };
  for (const r of snapshot.refused) if (r.reason === TOO_MANY_INSTANCES) note(summaryOf(r));
  for (const r of snapshot.refusedSummaries ?? []) note(r);
  if (byKey.size === 0) return [];
  // Rows per family base name: the key's own row and its NAME@IP rows.
  const rows = new Map<string, number>();
  for (const b of snapshot.bouncers) {
    const at = b.name.indexOf('@');
    const base = at < 0 || !b.autoCreated ? b.name : b.name.slice(0, at);
    rows.set(base, (rows.get(base) ?? 0) + 1);
  }
  const findings: Finding[] = [];
  for (const [name, k] of byKey) {
    const base = name.includes('@') ? name.slice(0, name.indexOf('@')) : name;
    const held = rows.get(base) ?? 0;
    const shown = [...k.refused].slice(0, 5).join(', ') + (k.refused.size > 5 ? ` and ${k.refused.size - 5} more` : '');
    findings.push({
      kind: 'key_shared_widely',
      criticality: ISSUE_CATALOGUE.key_shared_widely.criticality,
      subject: `key:${base}`,
      bouncerName: base,
      since: k.first,
      summary: `the API key of bouncer '${base}' was used from ${held + k.refused.size} addresses: leaked? ${k.refused.size} new address(es) were refused past limits.max_instances_per_key.`,
      causes: [
        {
          cause: 'key_leaked',
          confidence: 'medium',
          evidence: [
            `${held} row(s) hold the key (${base} and its ${base}@IP rows); ${k.count} request(s) from ${k.refused.size} other address(es) were refused from ${formatRfc3339(k.first)} to ${formatRfc3339(k.last)}: ${shown}`,
            `if these addresses are not yours, the key leaked: \`vigil bouncers add\` a new key, put it in your bouncers, then \`vigil bouncers delete ${base}\``,
            'if they are yours (a DaemonSet larger than the cap), raise limits.max_instances_per_key and prune idle rows with `vigil bouncers prune`',
          ],
        },
      ],
      notes: [],
    });
  }
  return findings;
}
