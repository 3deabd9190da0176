/**
 * One simulated bouncer: what it is and does (mode, frequency, traffic, its failures) and what Vigil
 * has recorded of it so far; the Fleet (fleet.ts) advances it.
 */
import type { RhythmHour } from '../../src/core/health/live-rhythm.ts';
import type { RefusedSummary } from '../../src/core/model/records.ts';
import type { Failure } from './failures.ts';
import type { Interval, Intervals, Traffic } from './noise.ts';
import type { PullTimes } from './pull-times.ts';
import type { Rng } from './random.ts';

export type Mode = 'stream' | 'live';

export interface SimBouncer {
  index: number;
  id: number;
  name: string;
  ip: string;
  type: string;
  version: string;
  kind: 'firewall' | 'remediation';
  mode: Mode;
  /** Stream: update_frequency. Live: 0. */
  freqMs: number;
  reportEveryMs: number | null;
  traffic: Traffic | null;
  rng: Rng;
  blips: Intervals;
  nightly: Intervals;
  failures: Failure[];
  createdAt: number;
  // What Vigil recorded.
  lastPullAt: number | null;
  lastRequestAt: number | null;
  lastUsageAt: number | null;
  cadenceMs: number | null;
  ring: PullTimes;
  lastStreamPullAt: number;
  /** Vigil's starts seen by the ring: its recorder is in memory, a restart empties it (the stored cadence stays). */
  ringEpoch: number;
  pullsSinceCadence: number;
  pullsUntilPause: number;
  /** Refused-request summaries from its address, per (User-Agent, reason), as Vigil's store keeps them. */
  refused: Map<string, RefusedSummary>;
  /**
   * Pulls (stream) and live lookups per hour since `Fleet.historyStart`, as Vigil's pull history
   * keeps them (store/pull-history.ts): what a rhythm rule learns from (`recordedPulls` in snapshot.ts).
   */
  pullHours: Uint32Array;
  /** Its first hour with a recorded pull or live query (the store's first `bouncer_pull_hours` row), or null. */
  firstRecordedAt: number | null;
  /** Its learnt rhythm, read once an hour as src/health/live-signals.ts does. */
  rhythm: { hour: number; value: RhythmHour[] } | null;
  // Schedule.
  nextPullAt: number;
  nextMinuteAt: number;
  nextReportAt: number;
  // Since its last evaluation: a sign of life, a refused request, a cadence change.
  lifeChanged: boolean;
  refusedChanged: boolean;
  cadenceChanged: boolean;
  /** It closed its connection (killed, restarting): the late floor may be lower from now on (snapshot.ts connectionClosedAt). */
  closedChanged: boolean;
  /** What holds for it now (failure, restart, reachability), and until when. */
  segment: Segment;
}

export interface Segment {
  from: number;
  until: number;
  failure: Failure | null;
  nightly: Interval | null;
  /** Nothing it sends arrives: Vigil down, a blip (its own or the fleet's), its network cut. */
  blocked: boolean;
  /** Vigil's starts so far: a new one empties the in-memory pull times. */
  epoch: number;
}
