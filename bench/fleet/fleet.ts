/**
 * The simulated fleet: each bouncer's behaviour (pulls, live queries, usage reports) under the noise
 * model and its failures, and what Vigil records of it (last pull, last request, last report, the
 * stream cadence, refused-request summaries, pulls per hour of the week). Advanced in time order up
 * to each evaluation; nothing sleeps.
 */
import { cadenceUpdate, readCadence } from '../../src/core/health/cadence.ts';
import type { LapiRun } from '../../src/core/health/downtime.ts';
import { resolveKind } from '../../src/core/health/bouncer-kind.ts';
import { FAILURES, scheduleFailures, type Failure, type FailureSettings } from './failures.ts';
import { fleetNoise, Intervals, NOISE, pullsToNextPause, randomIntervals, randomTraffic, type FleetNoise, type Interval } from './noise.ts';
import { minuteLookups, refreshAt } from './live-minute.ts';
import { PullTimes } from './pull-times.ts';
import { Rng } from './random.ts';
import { startsUpTo, vigilRuns } from './vigil-runs.ts';
import type { Mode, Segment, SimBouncer } from './sim-bouncer.ts';

const S = 1000;
const MIN = 60 * S;
const H = 60 * MIN;
const D = 24 * H;
/** Vigil's activity recorder keeps this many stream pull times per bouncer for its cadence (server/activity.ts). */
const RING = 16;
const CADENCE_EVERY = 32;
/** How long the fleet ran before the run began (its pull history, its registration). */
export const HISTORY_WEEKS = 4;
const UTC_OFFSETS = [-8, -5, -3, 0, 1, 2, 3, 5.5, 8, 9, 10];

export interface FleetOptions {
  bouncers: number;
  days: number;
  seed: number;
  /** The run's first instant (UTC); default Monday 2026-11-02 00:00. */
  start?: number;
  /** Shorter runs (the tests) move failures and Vigil's restarts closer together. */
  failures?: Partial<FailureSettings>;
  vigilRestartEveryMs?: number;
}

export class Fleet {
  readonly start: number;
  readonly end: number;
  readonly bouncers: SimBouncer[] = [];
  readonly noise: FleetNoise;
  readonly failureSettings: FailureSettings;
  /** The fleet ran HISTORY_WEEKS before the run began: its pull history starts here (an hour boundary). */
  readonly historyStart: number;
  /**
   * Vigil's runs as the store records them (health/lapi-alive.ts): each start, and its last "alive"
   * mark (every ALIVE_MARK_EVERY_MS) before it stopped; the last run's end is open.
   */
  readonly runs: LapiRun[];
  /** Bouncers whose refused requests or cadence changed since the evaluation loop last took this list. */
  flagged: SimBouncer[] = [];

  constructor(opts: FleetOptions) {
    this.start = opts.start ?? Date.UTC(2026, 10, 2);
    this.end = this.start + opts.days * D;
    this.historyStart = Math.floor((this.start - HISTORY_WEEKS * 7 * D) / H) * H;
    const rng = new Rng(opts.seed);
    this.failureSettings = { ...FAILURES, ...opts.failures };
    this.noise = fleetNoise(rng.fork(0x0f1ee7), this.start, this.end, opts.vigilRestartEveryMs);
    for (let i = 0; i < opts.bouncers; i++) this.bouncers.push(this.#create(i, rng.fork(i + 1)));
    this.runs = vigilRuns(this.noise);
  }

  #create(index: number, rng: Rng): SimBouncer {
    const mode: Mode = rng.chance(NOISE.streamShare) ? 'stream' : 'live';
    const freqMs = mode === 'live' ? 0 : rng.chance(NOISE.stream10sShare) ? 10 * S : 60 * S;
    const firewall = mode === 'stream' && rng.chance(0.5);
    const type = firewall
      ? 'crowdsec-firewall-bouncer'
      : mode === 'stream'
        ? 'crowdsec-nginx-bouncer'
        : rng.pick(['crowdsec-nginx-bouncer', 'crowdsec-traefik-bouncer', 'crowdsec-nodejs-bouncer']);
    const utcOffsetH = rng.pick(UTC_OFFSETS);
    const reports = rng.chance(mode === 'live' ? NOISE.liveReportShare : NOISE.streamReportShare);
    const reportEveryMs = reports ? rng.pick(NOISE.reportPeriodsMs) : null;
    const nightly: Interval[] = [];
    for (let day = this.start - D; day < this.end + D; day += D) {
      const from = Math.floor(day - utcOffsetH * H + 3 * H + rng.between(0, H));
      nightly.push({ from, to: from + Math.floor(rng.between(NOISE.nightlyRestartMinMs, NOISE.nightlyRestartMaxMs)) });
    }
    const b: SimBouncer = {
      index,
      id: index + 1,
      name: `${mode === 'live' ? 'live' : firewall ? 'fw' : 'stream'}-${String(index).padStart(4, '0')}`,
      ip: `10.${(index >> 16) & 255}.${(index >> 8) & 255}.${index & 255}`,
      type,
      version: 'v1.0.0',
      kind: resolveKind(type, null),
      mode,
      freqMs,
      reportEveryMs,
      traffic: mode === 'live' ? randomTraffic(rng, utcOffsetH) : null,
      rng,
      blips: new Intervals(randomIntervals(rng, this.start, this.end, NOISE.bouncerBlipEveryMs, NOISE.blipMinMs, NOISE.blipMaxMs)),
      nightly: new Intervals(nightly),
      failures: scheduleFailures(rng, index, this.start, this.end, this.failureSettings),
      createdAt: this.historyStart,
      lastPullAt: null,
      lastRequestAt: null,
      lastUsageAt: null,
      cadenceMs: null,
      ring: new PullTimes(RING),
      lastStreamPullAt: 0,
      ringEpoch: 0,
      pullsSinceCadence: 0,
      pullsUntilPause: pullsToNextPause(rng),
      refused: new Map(),
      pullHours: new Uint32Array(Math.ceil((this.end - this.historyStart) / H) + 1),
      firstRecordedAt: null,
      rhythm: null,
      nextPullAt: Number.POSITIVE_INFINITY,
      nextMinuteAt: Number.POSITIVE_INFINITY,
      nextReportAt: Number.POSITIVE_INFINITY,
      lifeChanged: true,
      refusedChanged: false,
      cadenceChanged: false,
      closedChanged: false,
      segment: { from: 0, until: 0, failure: null, nightly: null, blocked: false, epoch: 0 },
    };
    // It ran before the run began: its cadence is learnt and stored, its last signs of life recent.
    if (mode === 'stream') {
      b.lastPullAt = this.start - Math.floor(rng.between(0, freqMs));
      b.lastRequestAt = b.lastPullAt;
      b.cadenceMs = freqMs;
      b.nextPullAt = b.lastPullAt + freqMs;
    } else {
      b.lastPullAt = this.start - Math.floor(rng.between(0, 10 * MIN));
      b.lastRequestAt = b.lastPullAt;
      b.nextMinuteAt = this.start + MIN;
    }
    // Its history before the run: a stream bouncer's steady pulls; a live site's lookups minute by
    // minute, recorded as during the run (at most one a minute: #liveMinute).
    if (mode === 'stream') for (let hour = this.historyStart; hour < this.start; hour += H) b.pullHours[(hour - this.historyStart) / H] = H / freqMs;
    else {
      let recordedAt: number | null = null;
      for (let t = this.historyStart + MIN; t <= this.start; t += MIN) {
        const m = minuteLookups(rng, b.traffic!, t);
        const at: number | null = m === null ? null : refreshAt(rng, m, recordedAt);
        if (at !== null) {
          recordedAt = at;
          b.pullHours[Math.floor((at - this.historyStart) / H)]!++;
        }
      }
    }
    const first = b.pullHours.findIndex((n) => n > 0);
    b.firstRecordedAt = first < 0 ? null : this.historyStart + first * H;
    if (reportEveryMs !== null) {
      b.lastUsageAt = this.start - Math.floor(rng.between(0, reportEveryMs));
      b.nextReportAt = b.lastUsageAt + reportEveryMs;
    }
    return b;
  }

  /**
   * What holds for `b` from `t` on, and until when: its failure, a nightly restart, whether what it
   * sends arrives (Vigil up, no blip, its network not cut), and Vigil's starts so far. Events within
   * a segment need no lookups; a failure repaired early cuts the segment short (`repaired`).
   */
  #segment(b: SimBouncer, t: number): Segment {
    let until = Number.POSITIVE_INFINITY;
    const around = (list: Intervals): Interval | null => {
      const { inside, next } = list.around(t);
      until = Math.min(until, inside ? inside.to : next);
      return inside;
    };
    let failure: Failure | null = null;
    for (const f of b.failures) {
      if (t < f.start) {
        until = Math.min(until, f.start);
        break;
      }
      if (t < f.end) {
        failure = f;
        if (f.cadenceAtStart === undefined) f.cadenceAtStart = b.cadenceMs;
        until = Math.min(until, f.end);
        break;
      }
    }
    const nightly = around(b.nightly);
    const blip = around(b.blips) !== null;
    const down = around(this.noise.vigilDown) !== null;
    const fleetBlip = around(this.noise.fleetBlips) !== null;
    const starts = this.noise.lapiStarts;
    const epoch = startsUpTo(starts, t);
    if (epoch < starts.length) until = Math.min(until, starts[epoch]!);
    return { from: t, until, failure, nightly, blocked: blip || down || fleetBlip || failure?.kind === 'network_cut', epoch };
  }

  #at(b: SimBouncer, t: number): Segment {
    if (t >= b.segment.until || t < b.segment.from) b.segment = this.#segment(b, t);
    return b.segment;
  }

  /** A failure paged and repaired early: what holds for it changes then. */
  repaired(b: SimBouncer, at: number): void {
    b.segment.until = Math.min(b.segment.until, at);
  }

  #flag(b: SimBouncer, what: 'refusedChanged' | 'cadenceChanged' | 'closedChanged'): void {
    if (!b.refusedChanged && !b.cadenceChanged && !b.closedChanged) this.flagged.push(b);
    b[what] = true;
  }

  /** Runs every bouncer up to and including `t`. */
  advanceTo(t: number): void {
    for (const b of this.bouncers) {
      for (;;) {
        const next = Math.min(b.nextPullAt, b.nextMinuteAt, b.nextReportAt);
        if (next > t) break;
        if (next === b.nextPullAt) this.#streamTick(b, next);
        else if (next === b.nextMinuteAt) this.#liveMinute(b, next);
        else this.#report(b, next);
      }
    }
  }

  #streamTick(b: SimBouncer, t: number): void {
    const s = this.#at(b, t);
    if (s.nightly) {
      // Restarting: it closed its connection, and pulls (startup) as soon as it is up again.
      this.#flag(b, 'closedChanged');
      b.nextPullAt = s.nightly.to;
      return;
    }
    if (s.failure?.kind === 'killed' && !s.failure.closeFlagged) {
      // Its kernel closed the connection at the kill; judged again with the lower late floor.
      s.failure.closeFlagged = true;
      this.#flag(b, 'closedChanged');
    }
    // Which pulls a pause holds: a geometric countdown, one draw per pause instead of one per pull.
    let pause = 0;
    if (--b.pullsUntilPause <= 0) {
      pause = b.rng.between(0, NOISE.gcPauseMaxMs);
      b.pullsUntilPause = pullsToNextPause(b.rng);
    }
    b.nextPullAt = Math.floor(t + b.freqMs * (1 + NOISE.pullJitter * (2 * b.rng.float() - 1)) + pause);
    // Killed: no pull; once restarted it pulls at its next tick.
    if (s.blocked || s.failure?.kind === 'killed') return;
    if (s.failure?.kind === 'wrong_key') {
      this.#refuse(b, t, 'GET', '/v1/decisions/stream', 1);
      return;
    }
    // module_unloaded: the process pulls as ever; nothing on the Local API's side shows the web server ignores it.
    this.#recordStreamPull(b, t, s.epoch);
  }

  #recordStreamPull(b: SimBouncer, t: number, epoch: number): void {
    b.lastPullAt = t;
    b.lastRequestAt = t;
    b.lifeChanged = true;
    b.pullHours[Math.floor((t - this.historyStart) / H)]!++;
    b.firstRecordedAt ??= Math.floor(t / H) * H;
    if (epoch !== b.ringEpoch) {
      b.ring.clear();
      b.ringEpoch = epoch;
    }
    const prev = b.ring.length > 0 ? b.lastStreamPullAt : undefined;
    b.lastStreamPullAt = t;
    b.ring.push(t);
    // Vigil recomputes on every pull; the median of 15 intervals moves only with outliers, so the
    // simulation recomputes while the ring fills, on an interval off the learnt cadence by 2× or more,
    // and every CADENCE_EVERY pulls: the same stored value at a fraction of the cost.
    const interval = prev === undefined ? 0 : t - prev;
    const known = b.cadenceMs;
    const off = known === null || interval < known / 2 || interval > known * 2;
    if (b.ring.length < RING || off || ++b.pullsSinceCadence >= CADENCE_EVERY) {
      b.pullsSinceCadence = 0;
      // server/activity.ts's rule: too few pulls since Vigil started leave the learnt cadence as it is;
      // a steady reading is written when it moved by more than 10 %, an irregular one clears it.
      const next = cadenceUpdate(readCadence(b.ring.times()), known);
      if (next !== undefined) {
        b.cadenceMs = next;
        this.#flag(b, 'cadenceChanged');
      }
    }
  }

  /**
   * A live bouncer's minute ending at `t`: its uncached client lookups, each a `GET /v1/decisions?ip=`.
   * They see what holds at the minute's end.
   */
  #liveMinute(b: SimBouncer, t: number): void {
    b.nextMinuteAt = t + MIN;
    const m = minuteLookups(b.rng, b.traffic!, t);
    if (m === null) return;
    const s = this.#at(b, t);
    if (s.failure?.kind === 'killed' || s.failure?.kind === 'module_unloaded' || s.nightly || s.blocked) return;
    if (s.failure?.kind === 'wrong_key') {
      this.#refuse(b, m.last, 'GET', '/v1/decisions', m.n);
      return;
    }
    b.lastRequestAt = m.last;
    b.lifeChanged = true;
    // A live query refreshes the last pull, and counts in the pull history, at most once a minute
    // (server/bouncer-gate.ts: the others are requests, not pulls).
    const at = refreshAt(b.rng, m, b.lastPullAt);
    if (at !== null) {
      b.lastPullAt = at;
      b.pullHours[Math.floor((at - this.historyStart) / H)]!++;
      b.firstRecordedAt ??= Math.floor(at / H) * H;
    }
  }

  #report(b: SimBouncer, t: number): void {
    b.nextReportAt = t + b.reportEveryMs!;
    const s = this.#at(b, t);
    const f = s.failure;
    if (f?.kind === 'killed') return;
    if (f?.kind === 'module_unloaded' && b.mode === 'live' && !f.stillReports) return;
    // A report lost to a restart or a blip is not sent again: the next period's is.
    if (s.nightly || s.blocked) return;
    if (f?.kind === 'wrong_key') {
      this.#refuse(b, t, 'POST', '/v1/usage-metrics', 1);
      return;
    }
    b.lastUsageAt = t;
    b.lastRequestAt = Math.max(b.lastRequestAt ?? 0, t);
    b.lifeChanged = true;
  }

  /** A request refused for its unknown key, summed as Vigil's store sums them (store/refused-summaries.ts). */
  #refuse(b: SimBouncer, at: number, method: string, path: string, count: number): void {
    const f = b.segment.failure;
    if (f !== null && f.firstRefusedAt === undefined) f.firstRefusedAt = at;
    const userAgent = `${b.type}/${b.version}`;
    const key = `${userAgent}\0unknown`;
    const cur = b.refused.get(key);
    if (cur) {
      cur.count += count;
      cur.lastAt = Math.max(cur.lastAt, at);
      cur.method = method;
      cur.path = path;
    } else {
      b.refused.set(key, {
        peerIp: b.ip,
        userAgent,
        reason: 'unknown',
        // The stale key it still sends, as bouncer-gate.ts records it (16 hex digits of an HMAC): one key, always the same.
        keyFingerprint: (0x5eed0000_0000 + b.index).toString(16).padStart(16, '0'),
        severalKeys: false,
        bouncerName: '',
        method,
        path,
        firstAt: at,
        lastAt: at,
        count,
      });
    }
    this.#flag(b, 'refusedChanged');
  }
}
