/**
 * Real failures injected at random times, and how long they last: until someone repairs them,
 * REPAIR_AFTER_PAGE_MS after the first page, or after WINDOW_MS when nothing paged (someone found out
 * another way). A failure's time to page is measured within that window.
 */
import type { Rng } from './random.ts';

const MIN = 60_000;
const H = 60 * MIN;
const D = 24 * H;

export const FAILURE_KINDS = ['killed', 'wrong_key', 'module_unloaded', 'network_cut'] as const;
export type FailureKind = (typeof FAILURE_KINDS)[number];

/** What each kind does, in the words of the table. */
export const FAILURE_TEXT: Record<FailureKind, string> = {
  killed: 'the process is killed: no pulls, no queries, no reports',
  wrong_key: 'its key is refused (deleted, mistyped): every request it makes is refused and recorded as such',
  module_unloaded:
    'live: the web-server module is gone, no queries (the process may still report usage metrics); stream: the process pulls but nothing enforces (only a canary can tell)',
  network_cut: 'nothing it sends arrives (a firewall rule, a route): like killed, seen from the Local API',
};

export const FAILURES: {
  perBouncer: number;
  earliestAfterMs: number;
  windowMs: number;
  repairAfterPageMs: number;
  graceMs: number;
  unloadedStillReportsShare: number;
} = {
  /** Mean failures per bouncer over the run (Poisson), none overlapping. */
  perBouncer: 1.2,
  /** Failures start this long after the run begins (cadences and rhythms learnt) … */
  earliestAfterMs: D,
  /** … and a full window before it ends, so none is cut short. */
  windowMs: 48 * H,
  repairAfterPageMs: 30 * MIN,
  /** A page this long after the repair still belongs to the failure (the next pull or evaluation had not come yet). */
  graceMs: 2 * MIN,
  /** Live: share of module-unloaded failures whose process still sends usage-metrics reports. */
  unloadedStillReportsShare: 0.5,
};

export type FailureSettings = typeof FAILURES;

export interface Failure {
  bouncer: number;
  kind: FailureKind;
  start: number;
  /** Set to the page + repairAfterPageMs when paged, else start + windowMs. */
  end: number;
  /** Live module-unloaded: its reports go on. */
  stillReports: boolean;
  firstPageAt: number | null;
  firstCriticalAt: number | null;
  /** Wrong key: its first refused request (a quiet live site makes none until a client comes: nothing fails open before). */
  firstRefusedAt?: number;
  /** Killed (stream): the simulation has flagged the closed connection for evaluation. */
  closeFlagged?: boolean;
  /** The bouncer's stored cadence when it began (undefined until then): null means only the 24 h rule holds. */
  cadenceAtStart?: number | null;
}

/** The failures of one bouncer, in time order, not overlapping, each with its full window inside the run. */
export function scheduleFailures(rng: Rng, bouncer: number, start: number, end: number, settings: FailureSettings = FAILURES): Failure[] {
  const n = Math.min(3, rng.poisson(settings.perBouncer));
  const first = start + settings.earliestAfterMs;
  const last = end - settings.windowMs;
  if (last <= first) return [];
  const starts: number[] = [];
  for (let i = 0; i < n; i++) starts.push(Math.floor(rng.between(first, last)));
  starts.sort((a, b) => a - b);
  const out: Failure[] = [];
  for (const s of starts) {
    const kind = rng.pick(FAILURE_KINDS);
    const stillReports = rng.chance(settings.unloadedStillReportsShare);
    // Not overlapping the previous one's whole window (it may end sooner once paged, never later).
    if (out.length > 0 && s < out[out.length - 1]!.start + settings.windowMs) continue;
    out.push({ bouncer, kind, start: s, end: s + settings.windowMs, stillReports, firstPageAt: null, firstCriticalAt: null });
  }
  return out;
}

/** The failure of `list` in effect at `t` (start ≤ t < end), or null. `list` is in time order. */
export function failureAt(list: readonly Failure[], t: number): Failure | null {
  for (const f of list) {
    if (t < f.start) return null;
    if (t < f.end) return f;
  }
  return null;
}

/**
 * Whether the Local API can see it at all: a stream bouncer whose web server stopped enforcing still
 * pulls as ever, so only a canary (docs/canaries.md) tells. A page during it is about something else.
 */
export function visibleToLapi(f: Failure, mode: 'stream' | 'live'): boolean {
  return !(f.kind === 'module_unloaded' && mode === 'stream');
}

/** The failure a page at `t` belongs to: in effect (and visible to the Local API), or ended within graceMs. */
export function failureOfPage(list: readonly Failure[], mode: 'stream' | 'live', t: number): Failure | null {
  for (const f of list) if (t >= f.start && t < f.end + FAILURES.graceMs && visibleToLapi(f, mode)) return f;
  return null;
}
