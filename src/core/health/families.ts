// Families of rows: a name and the NAME@… rows the Local API created for a shared key's other
// addresses or a certificate's CN@IP rows. A member that stopped while its relatives pull is an
// instance that stopped, not the key.
import { formatRfc3339 } from '../../lib/duration.ts';
import { lastSignOfLife } from './bouncer-status.ts';
import type { BouncerHealthInput, HealthRules, LikelyCause } from './types.ts';

/**
 * An auto-created instance must have pulled for this long after it appeared before its own silence
 * is raised while the key still pulls elsewhere (issue 27): minutes-long instances are not paged.
 */
export const INSTANCE_STEADY_AFTER_MS = 30 * 60_000;

export function steadyInstance(b: BouncerHealthInput): boolean {
  return b.lastPullAt !== null && b.lastPullAt - b.createdAt >= INSTANCE_STEADY_AFTER_MS;
}

/**
 * A family of rows: a name and the `NAME@…` rows the Local API created (a shared key's other
 * addresses, or one client certificate's `CN@IP` rows), summarised once so that each member's
 * questions cost a lookup, not a scan of its siblings: a DaemonSet of 10,000 pods is one family.
 */
export interface Family {
  /** Members that ever pulled. */
  pulled: number;
  /** Members not revoked, heard within offline_after, that pulled: newest pull first. */
  pulling: BouncerHealthInput[];
  /** The same members, for a membership test. */
  members: Set<BouncerHealthInput>;
}

/** Families by member; only rows that have a relative are listed. Linear (plus one sort per family). */
export function bouncerFamilies(bouncers: readonly BouncerHealthInput[], now: number, rules: HealthRules): Map<BouncerHealthInput, Family> {
  const byBase = new Map<string, BouncerHealthInput[]>();
  for (const b of bouncers) {
    const at = b.name.indexOf('@');
    // Operator-made names may contain '@' too: only auto-created rows join a family by their prefix.
    const base = at < 0 ? b.name : b.autoCreated ? b.name.slice(0, at) : undefined;
    if (base === undefined) continue;
    const list = byBase.get(base);
    if (list) list.push(b);
    else byBase.set(base, [b]);
  }
  const out = new Map<BouncerHealthInput, Family>();
  for (const members of byBase.values()) {
    if (members.length < 2 || !members.some((m) => m.autoCreated)) continue;
    const family: Family = { pulled: 0, pulling: [], members: new Set() };
    for (const m of members) {
      if (m.lastPullAt === null) continue;
      family.pulled++;
      if (!m.revoked && now - lastSignOfLife(m) <= rules.offlineAfterMs) {
        family.pulling.push(m);
        family.members.add(m);
      }
    }
    family.pulling.sort((x, y) => y.lastPullAt! - x.lastPullAt!);
    for (const m of members) out.set(m, family);
  }
  return out;
}

/** b's relatives that pulled after `since`: how many, and the newest few (b itself left out). */
export function pullingSince(family: Family, b: BouncerHealthInput, since: number): { newest: BouncerHealthInput[]; count: number } {
  const list = family.pulling;
  // Sorted newest first: the first index whose last pull is not after `since`.
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]!.lastPullAt! > since) lo = mid + 1;
    else hi = mid;
  }
  const newest: BouncerHealthInput[] = [];
  let self = 0;
  for (let i = 0; i < lo && newest.length < 3; i++) if (list[i] !== b) newest.push(list[i]!);
  // b is among the `lo` newest when it is listed at all and pulled after `since`.
  if (family.members.has(b) && b.lastPullAt! > since) self = 1;
  return { newest, count: lo - self };
}

export function instanceStopped(b: BouncerHealthInput, pulling: { newest: BouncerHealthInput[]; count: number }): LikelyCause {
  const shown = pulling.newest.map((s) => `${s.ipAddress || 'an unknown address'} as ${s.name}`);
  const more = pulling.count > shown.length ? ` and ${pulling.count - shown.length} more` : '';
  return {
    cause: 'instance_stopped',
    confidence: 'high',
    evidence: [
      `the key still pulls from ${shown.join(', ')}${more} (last pull ${formatRfc3339(pulling.newest[0]!.lastPullAt!)}): this instance, last seen from ${b.ipAddress || 'an unknown address'}, stopped — a pod replaced or its address changed`,
      b.autoCreated
        ? `if it is gone for good, \`vigil bouncers prune\` removes idle rows (an auto-created row is deleted only with its parent, which would take the live rows and their key with it)`
        : `if it is gone for good, \`vigil bouncers prune\` removes idle rows; \`vigil bouncers delete ${b.name}\` would also delete the ${b.name}@… rows that still pull, and their key would stop working`,
    ],
  };
}
