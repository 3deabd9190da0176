/**
 * The watched CrowdSec fleet as the health evaluator sees it. Pure.
 *
 * Entries that are one bouncer seen from several addresses count as one: CrowdSec 1.6.4+ creates a
 * `name@ip` child when a shared key arrives from a new address (docs/reference/crowdsec-docs-notes.md §2.6, P3), and TLS
 * bouncers are `CN@ip` rows. A child left behind by a container that changed address is not an
 * offline bouncer while its parent (or a sibling) pulls: the family is alive when any member pulls.
 */
import { formatGoDuration, formatRfc3339 } from '../lib/duration.ts';
import { ISSUE_CATALOGUE, type BouncerHealthInput, type Finding } from '../core/health/types.ts';

export interface WatchedEntry {
  /** As the mirror gives it (toHealthInput of the mirrored row). */
  input: BouncerHealthInput;
  autoCreated: boolean;
  authType: string;
}

const IP_SUFFIX = /@(?:\d{1,3}(?:\.\d{1,3}){3}|\[?[0-9a-fA-F:.]*:[0-9a-fA-F:.]*\]?)$/;

/**
 * `nginx@10.0.0.5@10.0.0.6` → `nginx`: every trailing `@address` removed (1.7.1 strips chained suffixes;
 * older versions chain them), while `ops@example.com` stays whole: only address suffixes count.
 */
export function stripAddressSuffixes(name: string): string {
  let base = name;
  while (IP_SUFFIX.test(base)) base = base.replace(IP_SUFFIX, '');
  return base || name;
}

/**
 * The family an entry belongs to: for a child (auto-created, or a TLS `CN@ip` row), the nearest
 * registered name its `@ip` suffixes strip down to, else the fully stripped name; else its own name.
 */
function familyOf(e: WatchedEntry, parents: Set<string>): { key: string; child: boolean } {
  if (e.autoCreated || e.authType === 'tls') {
    let name = e.input.name;
    while (IP_SUFFIX.test(name)) {
      name = name.replace(IP_SUFFIX, '');
      if (parents.has(name)) return { key: name, child: true };
    }
    if (name !== e.input.name && name !== '') return { key: name, child: true };
  }
  return { key: e.input.name, child: false };
}

/**
 * One health input per bouncer family. The family is named by its parent (or, for parentless TLS
 * rows, its oldest entry) so its issue keeps one subject whichever member pulls; it has pulled when
 * any member has, and shows the address, type and version of the member that pulled last.
 */
export function fleetInputs(entries: WatchedEntry[]): BouncerHealthInput[] {
  const parents = new Set(entries.filter((e) => !e.autoCreated && e.authType !== 'tls').map((e) => e.input.name));
  const families = new Map<string, { parent?: WatchedEntry; members: WatchedEntry[] }>();
  for (const e of entries) {
    const { key, child } = familyOf(e, parents);
    let f = families.get(key);
    if (!f) families.set(key, (f = { members: [] }));
    if (!child) f.parent = e;
    f.members.push(e);
  }
  const out: BouncerHealthInput[] = [];
  for (const f of families.values()) {
    if (f.members.length === 1) {
      out.push(f.members[0]!.input);
      continue;
    }
    const rep = (f.parent ?? [...f.members].sort((a, b) => a.input.createdAt - b.input.createdAt || a.input.id - b.input.id)[0]!).input;
    const latest = f.members.reduce<BouncerHealthInput | null>((best, m) => {
      if (m.input.lastPullAt === null) return best;
      return best === null || m.input.lastPullAt > best.lastPullAt! ? m.input : best;
    }, null);
    const shown = latest ?? rep;
    const max = (pick: (b: BouncerHealthInput) => number | null) =>
      f.members.reduce<number | null>((acc, m) => {
        const v = pick(m.input);
        return v === null ? acc : acc === null ? v : Math.max(acc, v);
      }, null);
    out.push({
      ...rep,
      ipAddress: shown.ipAddress,
      type: shown.type || rep.type,
      version: shown.type ? shown.version : rep.version,
      kind: shown.type ? shown.kind : rep.kind,
      createdAt: Math.min(...f.members.map((m) => m.input.createdAt)),
      lastPullAt: max((b) => b.lastPullAt),
      lastRequestAt: max((b) => b.lastRequestAt),
      lastUsageMetricsAt: max((b) => b.lastUsageMetricsAt),
    });
  }
  return out;
}

/** The one issue a failing source raises (instead of every bouncer going offline). */
export function sourceUnavailableFinding(source: string, error: string, failingSince: number, failures: number, now: number): Finding {
  const lasted = formatGoDuration(Math.round((now - failingSince) / 1000) * 1000);
  return {
    kind: 'source_unavailable',
    criticality: ISSUE_CATALOGUE.source_unavailable.criticality,
    subject: 'source',
    bouncerName: null,
    since: failingSince,
    summary: `Vigil cannot read CrowdSec's bouncers from ${source} (${failures} failed attempt${failures === 1 ? '' : 's'} over ${lasted}): bouncer health is unknown until it can; open bouncer issues are kept as they were.`,
    causes: [],
    notes: [`last error: ${error}`, `failing since ${formatRfc3339(failingSince)}`, hintFor(error)].filter((n) => n !== ''),
  };
}

function hintFor(error: string): string {
  if (/; check /.test(error)) return ''; // the source already said what to check
  if (/SQLITE_BUSY|database is locked/i.test(error))
    return 'CrowdSec held a write lock longer than the busy timeout; enable WAL (db_config: use_wal: true) so readers never wait';
  if (/EACCES|permission denied|SQLITE_CANTOPEN|unable to open/i.test(error))
    return "check that the user running vigil watch can read CrowdSec's database (and its -wal/-shm files)";
  if (/ENOENT|not found|no such file/i.test(error)) return 'check the path (--crowdsec-config, --crowdsec-db or --cscli)';
  if (/ECONNREFUSED|ETIMEDOUT|EHOSTUNREACH|timeout/i.test(error)) return "check that CrowdSec's database server is up and reachable";
  return '';
}
