import { formatGoDuration, formatRfc3339 } from '../../lib/duration.ts';
import { cadenceThresholds } from './cadence.ts';
import { silenceSince, type Interval } from './downtime.ts';
import { ISSUE_CATALOGUE, type BouncerHealthInput, type Finding, type HealthRules } from './types.ts';

/**
 * Fleet-wide silence (issue 25, measured by bench:fleet): when a large share of the steady bouncers
 * stopped pulling at the same moment, one thing between them and the Local API failed (a switch,
 * the uplink, a firewall rule, the Local API host's network), not N bouncers. Their own verdicts are
 * held and ONE fleet issue is raised, once the shared silence outlasts a network blip; a bouncer that
 * stays silent after the others came back is judged on its own again. Pure.
 *
 * A bouncer counts as silent once it is shown late (cadence.ts statusLateMs: 3 missed pulls, at
 * least 15 s), so the group forms before any of them reaches Integration Late (6 missed pulls, at
 * least 1 min): no page goes out first.
 */

/** At least this many steady bouncers silent together … */
export const FLEET_SILENT_MIN_BOUNCERS = 5;
/**
 * … and at least this share of the steady bouncers: a large fleet has several unrelated failures a
 * day. Small, because when a blip ends the group shrinks below it as its members come back, and the
 * few still silent then are judged on their own (bench:fleet, 300 bouncers and 4 blips: 11 such
 * pages at 10 %, 2 at 1 %).
 */
export const FLEET_SILENT_MIN_SHARE = 0.01;
/** Their last pulls all within this window: "at the same moment" (a 60 s bouncer's last pull is up to a minute before the cut). */
export const FLEET_SILENT_WINDOW_MS = 2 * 60_000;
/** The fleet issue opens once the group has been silent this long (from its latest last pull): longer than the 30–90 s blips a network has. */
export const FLEET_SILENT_AFTER_MS = 2 * 60_000;

export interface FleetSilence {
  /** Names of the bouncers whose own verdicts are held. */
  held: Set<string>;
  /** The fleet issue, once the shared silence outlasted FLEET_SILENT_AFTER_MS; null before. */
  finding: Finding | null;
}

interface Silent {
  b: BouncerHealthInput;
  lastPull: number;
}

/**
 * The steady bouncers that went silent together at `now`, or null when none did. `downtime` (Vigil's
 * own) is nobody's silence, as everywhere else.
 */
export function fleetSilence(bouncers: readonly BouncerHealthInput[], now: number, rules: HealthRules, downtime?: readonly Interval[]): FleetSilence | null {
  let steady = 0;
  const silent: Silent[] = [];
  for (const b of bouncers) {
    if (b.revoked || b.lastPullAt === null) continue;
    const t = cadenceThresholds(b.pullCadenceMs, rules);
    if (t === null) continue;
    const pullSilence = silenceSince(b.lastPullAt, now, downtime);
    // Gone for a day: the 24 h rule's, not part of today's fleet.
    if (pullSilence > rules.offlineAfterMs) continue;
    steady++;
    if (pullSilence > t.statusLateMs) silent.push({ b, lastPull: b.lastPullAt });
  }
  const needed = Math.max(FLEET_SILENT_MIN_BOUNCERS, Math.ceil(FLEET_SILENT_MIN_SHARE * steady));
  if (silent.length < needed) return null;
  silent.sort((x, y) => x.lastPull - y.lastPull);
  // Every silent bouncer in some window of FLEET_SILENT_WINDOW_MS that holds `needed` of them.
  const inGroup = new Uint8Array(silent.length);
  let any = false;
  for (let i = 0, j = 0; i < silent.length; i++) {
    while (silent[j]!.lastPull < silent[i]!.lastPull - FLEET_SILENT_WINDOW_MS) j++;
    if (i - j + 1 >= needed) {
      inGroup.fill(1, j, i + 1);
      any = true;
    }
  }
  if (!any) return null;
  const group = silent.filter((_, k) => inGroup[k] === 1);
  const held = new Set(group.map((s) => s.b.name));
  const first = group[0]!.lastPull;
  const latest = group[group.length - 1]!.lastPull;
  const shared = silenceSince(latest, now, downtime);
  return { held, finding: shared > FLEET_SILENT_AFTER_MS ? fleetSilentFinding(group, steady, first, latest, shared) : null };
}

function fleetSilentFinding(group: readonly Silent[], steady: number, first: number, latest: number, shared: number): Finding {
  const names = group.map((s) => `'${s.b.name}'`);
  const shown = names.slice(0, 5).join(', ') + (names.length > 5 ? ` and ${names.length - 5} more` : '');
  const addresses = new Set(group.map((s) => s.b.ipAddress).filter(Boolean));
  return {
    kind: 'fleet_silent',
    criticality: ISSUE_CATALOGUE.fleet_silent.criticality,
    subject: 'fleet',
    bouncerName: null,
    since: first,
    summary: `${group.length} of ${steady} steady bouncers stopped pulling at the same moment (last pulls between ${formatRfc3339(first)} and ${formatRfc3339(latest)}) and have been silent for ${formatGoDuration(Math.round(shared / 1000) * 1000)}: the network between them and the Local API, or the Local API host, is the likely fault.`,
    causes: [
      {
        cause: 'fleet_network',
        confidence: 'high',
        evidence: [
          `${group.length} bouncers (${shown}) from ${addresses.size} address(es) went silent within ${formatGoDuration(FLEET_SILENT_WINDOW_MS)} of each other: one stop of this many processes at once is far less likely than one thing between them and the Local API`,
          'their own issues are held while the fleet is silent; a bouncer still silent once the others are back is raised on its own',
        ],
      },
    ],
    notes: [],
  };
}
