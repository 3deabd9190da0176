/**
 * The simulation loop: every `everyMs` (serve's evaluation interval, 10 s) the fleet runs up to now,
 * the real evaluator judges the bouncers, the engine's bookkeeping keeps the issues, and the real
 * planner decides what each channel is told. While Vigil is down nothing is evaluated.
 *
 * `sparse` (the default) evaluates at each tick only the bouncers whose findings can change: a
 * refused request or a cadence change since their last evaluation, a threshold of theirs crossed
 * (`wakeAt`, wake.ts), or, with an issue open, any new record or a Local API start (the causes read
 * them); all of them once an hour (fleet-level findings, and a net for rules `wakeAt` does not
 * know); and all of them while a fleet-wide silence may hold some (fleet-silence.ts: a bouncer's
 * verdict then depends on the others) and once after. `every-tick` evaluates every bouncer every
 * tick. fleet.test.ts shows both tell the same.
 */
import { DEFAULT_EVALUATE_EVERY_MS, DEFAULT_RULES, evaluate } from '../../src/core/health/evaluate.ts';
import type { HealthRules } from '../../src/core/health/types.ts';
import { cadenceThresholds } from '../../src/core/health/cadence.ts';
import { FLEET_SILENT_MIN_BOUNCERS, fleetSilence } from '../../src/core/health/fleet-silence.ts';
import { Bookkeeping, type Told } from './bookkeeping.ts';
import { failureAt, visibleToLapi } from './failures.ts';
import { Fleet, type FleetOptions } from './fleet.ts';
import type { SimBouncer } from './sim-bouncer.ts';
import { snapshotOf } from './snapshot.ts';
import { wakeAt } from './wake.ts';

export interface SimOptions extends FleetOptions {
  rules?: HealthRules;
  everyMs?: number;
  mode?: 'sparse' | 'every-tick';
  /** Sparse: a full evaluation this often. */
  sweepEveryMs?: number;
}

export interface SimResult {
  fleet: Fleet;
  told: Told[];
  rules: HealthRules;
  /** Evaluator calls, and bouncers judged in all (a full evaluation every tick would judge bouncers × ticks). */
  evaluations: number;
  bouncersJudged: number;
  ticks: number;
  /** Evaluations at which a fleet-wide silence held bouncers (fleet-silence.ts). */
  fleetHeldTicks: number;
}

/**
 * What a page does to the failure it belongs to: the first message on `all` is the page (the
 * failure is repaired `repairAfterPageMs` after it), the first on `critical` the Critical page.
 */
export function notePage(fleet: Fleet, byName: Map<string, SimBouncer>, t: Told): void {
  if (t.event !== 'opened' || !t.subject.startsWith('bouncer:')) return;
  const b = byName.get(t.subject.slice('bouncer:'.length));
  const f = b ? failureAt(b.failures, t.at) : null;
  if (!f || !visibleToLapi(f, b!.mode)) return;
  if (t.channel === 'all' && f.firstPageAt === null) {
    f.firstPageAt = t.at;
    f.end = Math.min(f.end, t.at + fleet.failureSettings.repairAfterPageMs);
    fleet.repaired(b!, f.end);
  }
  if (t.channel === 'critical' && f.firstCriticalAt === null) f.firstCriticalAt = t.at;
}

/**
 * Whether a fleet-wide silence holds bouncers now (fleet-silence.ts, over the whole fleet). Cheap
 * first: fewer than FLEET_SILENT_MIN_BOUNCERS past their status-late silence (Vigil's downtime not
 * left out, so never fewer than the rule counts) holds none.
 */
function fleetSilenceNow(fleet: Fleet, lateMs: Float64Array, now: number, rules: HealthRules): boolean {
  let overdue = 0;
  for (const b of fleet.bouncers) if (b.lastPullAt !== null && now - b.lastPullAt > lateMs[b.index]!) overdue++;
  if (overdue < FLEET_SILENT_MIN_BOUNCERS) return false;
  const all = snapshotOf(fleet, fleet.bouncers, now, rules);
  return fleetSilence(all.bouncers, now, rules, all.downtime) !== null;
}

export function simulate(opts: SimOptions): SimResult {
  const rules = opts.rules ?? DEFAULT_RULES;
  const everyMs = opts.everyMs ?? DEFAULT_EVALUATE_EVERY_MS;
  const sweepEveryMs = opts.sweepEveryMs ?? 3600_000;
  const fleet = new Fleet(opts);
  const book = new Bookkeeping();
  const byName = new Map(fleet.bouncers.map((b) => [b.name, b]));
  book.onTold = (t) => notePage(fleet, byName, t);
  const n = fleet.bouncers.length;
  const wake = new Float64Array(n); // 0: judged at the first evaluation
  const lastEval = new Float64Array(n);
  const chosen = new Uint8Array(n);
  // Each bouncer's status-late silence (fleet-silence.ts counts those past it), as of its last evaluation.
  const lateMs = new Float64Array(n).fill(Number.POSITIVE_INFINITY);
  let fleetHeld = false;
  let fleetHeldTicks = 0;
  let startsSeen = 0;
  let nextSweep = fleet.start;
  let evaluations = 0;
  let bouncersJudged = 0;
  let ticks = 0;
  for (let now = fleet.start + everyMs; now <= fleet.end; now += everyMs) {
    ticks++;
    fleet.advanceTo(now);
    if (fleet.noise.vigilDown.contains(now)) continue;
    let starts = startsSeen;
    while (starts < fleet.noise.lapiStarts.length && fleet.noise.lapiStarts[starts]! <= now) starts++;
    const newStart = starts !== startsSeen;
    startsSeen = starts;
    let full = opts.mode === 'every-tick' || now >= nextSweep;
    if (full && opts.mode !== 'every-tick') nextSweep += sweepEveryMs;
    // A fleet-wide silence holds bouncers on what the others do: judged whole while one may hold, and once after.
    if (!full && (fleetHeld || fleetSilenceNow(fleet, lateMs, now, rules))) full = true;
    let judged: SimBouncer[];
    if (full) {
      judged = fleet.bouncers;
      fleet.flagged.length = 0;
    } else {
      judged = [];
      const take = (b: SimBouncer) => {
        if (chosen[b.index] === 0) {
          chosen[b.index] = 1;
          judged.push(b);
        }
      };
      // With an issue open, anything new may change its stage or causes.
      for (const issue of book.open.values()) {
        const b = issue.bouncerName === null ? undefined : byName.get(issue.bouncerName);
        if (b && (b.lifeChanged || newStart)) take(b);
      }
      // A refused request, a cadence change or a closed connection may raise one.
      for (const b of fleet.flagged) take(b);
      fleet.flagged.length = 0;
      for (let i = 0; i < n; i++) {
        if (now <= wake[i]! || chosen[i] === 1) continue;
        const b = fleet.bouncers[i]!;
        // Signs of life only push thresholds later: the stale wake is early, never late.
        if (b.lifeChanged) {
          wake[i] = wakeAt(fleet, b, lastEval[i]!, rules);
          b.lifeChanged = false;
        }
        if (now > wake[i]!) take(b);
      }
      for (const b of judged) chosen[b.index] = 0;
    }
    let snapshot = snapshotOf(fleet, judged, now, rules);
    // A part of the fleet must not look like a fleet-wide silence on its own either.
    if (!full && judged.length > 0 && fleetSilence(snapshot.bouncers, now, rules, snapshot.downtime) !== null) {
      full = true;
      judged = fleet.bouncers;
      fleet.flagged.length = 0;
      snapshot = snapshotOf(fleet, judged, now, rules);
    }
    if (full) fleetHeld = fleetSilence(snapshot.bouncers, now, rules, snapshot.downtime) !== null;
    if (fleetHeld) fleetHeldTicks++;
    if (judged.length > 0) {
      evaluations++;
      bouncersJudged += judged.length;
      let findings = evaluate(snapshot, now, rules);
      let covers: (subject: string) => boolean = () => true;
      if (!full) {
        // A part of the fleet says nothing about the fleet as a whole: its fleet-level findings wait for the sweep.
        findings = findings.filter((f) => f.subject.startsWith('bouncer:'));
        const subjects = new Set(judged.map((b) => `bouncer:${b.name}`));
        covers = (s) => subjects.has(s);
      }
      book.apply(findings, covers, now);
      for (const b of judged) {
        b.lifeChanged = b.refusedChanged = b.cadenceChanged = b.closedChanged = false;
        lastEval[b.index] = now;
        wake[b.index] = wakeAt(fleet, b, now, rules);
        lateMs[b.index] = cadenceThresholds(b.cadenceMs, rules)?.statusLateMs ?? Number.POSITIVE_INFINITY;
      }
    }
    book.plan(now);
  }
  return { fleet, told: book.told, rules, evaluations, bouncersJudged, ticks, fleetHeldTicks };
}
