import type { Store } from '../store/store.ts';
import type { BouncerActivity } from '../store/bouncers.ts';
import type { NewRefusedRequest } from '../store/refused-requests.ts';
import type { Bouncer, BouncerChange } from '../core/model/records.ts';
import { cadenceUpdate, readCadence } from '../core/health/cadence.ts';
import { PullHourCounts, recordPullHours } from '../store/pull-history.ts';
import { RefusedSummaryCounts, recordRefusedSummaries } from '../store/refused-summaries.ts';
import { recordStreamFilters } from '../store/canaries.ts';
import type { StreamFilters } from '../core/health/enforcement.ts';
import { recordProbes, type ProbeRow } from '../store/bouncer-probes.ts';
import { recordBouncerChanges } from '../store/bouncer-changes.ts';
import { applyBouncerActivity } from '../store/bouncers.ts';
import { recordRefused } from '../store/refused-requests.ts';
import { SharedRun } from '../lib/shared-run.ts';

/**
 * Buffers what authenticated requests tell about each bouncer (last pull, last request, IP,
 * type, version) and writes it in one transaction per period. 1,000 pulls/s would otherwise be
 * 1,000 write transactions/s. A crash loses at most one period of last-pull times: see docs/local-api.md.
 */
export class ActivityRecorder {
  #store: Store;
  #pending = new Map<number, BouncerActivity>();
  /** Latest values known to this process (written or pending), so unchanged fields are not rewritten. */
  #known = new Map<number, KnownBouncer>();
  #refused: NewRefusedRequest[] = [];
  #changes: BouncerChange[] = [];
  /** Recent stream pull times per bouncer, for its cadence (health: integration_late). */
  #pulls = new Map<number, number[]>();
  /** Pulls per bouncer per hour, for the dashboard's pull timelines (migration 005). */
  #pullHours = new PullHourCounts();
  /** Refused requests summed per (address, agent, reason), every one of them (migration 006). */
  #refusedSummaries = new RefusedSummaryCounts();
  /** Each bouncer's stream filters as last written, and those changed since (migration 010: drift). */
  #filtersKnown = new Map<number, string>();
  #filtersPending = new Map<number, { bouncerId: number; seenAt: number; filters: StreamFilters }>();
  /** The newest probe per bouncer since the last flush (migration 013): evidence, never life. */
  #probes = new Map<number, ProbeRow>();
  /** When each bouncer last closed its own connection (connection-watch.ts). */
  #closedAt = new Map<number, number>();
  #timer: NodeJS.Timeout | undefined;
  readonly #flushes = new SharedRun(() => this.#flush());
  onError: (e: unknown) => void = () => {};
  onIpChange: (bouncer: Bouncer, oldIp: string, newIp: string) => void = () => {};

  constructor(store: Store) {
    this.#store = store;
  }

  start(everyMs: number): void {
    this.#timer = setInterval(() => {
      this.flush().catch((e) => this.onError(e));
    }, everyMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.flush();
  }

  #knownFor(b: Bouncer) {
    let k = this.#known.get(b.id);
    if (!k) {
      // Seeded from the store's row when this process first meets the bouncer (after a restart: what
      // the process before it learnt). Later rows from the key cache may be stale: see #streamPull.
      k = { ip: b.ipAddress, type: b.type, version: b.version, lastPullAt: b.lastPullAt, lastPullRev: b.lastPullRev, pullCadenceMs: b.pullCadenceMs };
      this.#known.set(b.id, k);
    } else {
      // Another replica may have moved them on; the store's record is as good as ours.
      if (b.lastPullAt !== null && (k.lastPullAt === null || b.lastPullAt > k.lastPullAt)) k.lastPullAt = b.lastPullAt;
      if (b.lastPullRev !== null && (k.lastPullRev === null || b.lastPullRev > k.lastPullRev)) k.lastPullRev = b.lastPullRev;
    }
    return k;
  }

  /** The stream cursor of a bouncer: what it last pulled, by time and by decisions revision. */
  cursor(b: Bouncer): { lastPullAt: number | null; lastPullRev: number | null } {
    const k = this.#knownFor(b);
    return { lastPullAt: k.lastPullAt, lastPullRev: k.lastPullRev };
  }

  #change(c: BouncerChange): void {
    if (this.#changes.length < 1000) this.#changes.push(c);
  }

  /**
   * Records a stream pull time and, when the cadence it shows changed, queues it for the store. The
   * cadence is compared with what this process knows (seeded from the store, then what it wrote),
   * never with the key cache's row: that row is not re-read when activity is written, so after a
   * restart it kept the old cadence while the store held null, and nothing was ever written again.
   */
  #streamPull(b: Bouncer, k: KnownBouncer, at: number, p: BouncerActivity): void {
    let times = this.#pulls.get(b.id);
    if (!times) this.#pulls.set(b.id, (times = []));
    times.push(at);
    if (times.length > 16) times.shift();
    // Too few pulls since this process started say nothing: a learnt cadence keeps applying.
    const next = cadenceUpdate(readCadence(times), k.pullCadenceMs);
    if (next === undefined) return;
    k.pullCadenceMs = next;
    p.pullCadenceMs = next;
  }

  /** Records an authenticated request (`peerIp` undefined keeps the row's address); `pull` when it counts as a decisions pull (`stream` for the stream endpoint). */
  request(
    b: Bouncer,
    at: number,
    peerIp: string | undefined,
    ua: { type: string; version: string } | undefined,
    pull?: { rev: number; stream?: boolean },
  ): void {
    const k = this.#knownFor(b);
    let p = this.#pending.get(b.id);
    if (!p) this.#pending.set(b.id, (p = { id: b.id }));
    p.lastRequestAt = at;
    // undefined: a key check (HEAD), which says nothing of where this row's instance runs.
    if (peerIp !== undefined && peerIp !== k.ip) {
      if (k.ip !== '') {
        this.onIpChange(b, k.ip, peerIp);
        this.#change({ bouncerId: b.id, at, field: 'ip', oldValue: k.ip, newValue: peerIp });
      }
      k.ip = peerIp;
      p.ipAddress = peerIp;
    }
    // HEAD requests pass no User-Agent: CrowdSec does not take type/version from them.
    if (ua && (ua.type !== k.type || ua.version !== k.version)) {
      if (k.type !== '' && ua.type !== k.type) this.#change({ bouncerId: b.id, at, field: 'type', oldValue: k.type, newValue: ua.type });
      if (k.version !== '' && ua.version !== k.version) this.#change({ bouncerId: b.id, at, field: 'version', oldValue: k.version, newValue: ua.version });
      k.type = ua.type;
      k.version = ua.version;
      p.type = ua.type;
      p.version = ua.version;
    }
    if (pull) {
      k.lastPullAt = at;
      k.lastPullRev = pull.rev;
      p.lastPullAt = at;
      p.lastPullRev = pull.rev;
      this.#pullHours.add(b.id, at);
      if (pull.stream) this.#streamPull(b, k, at, p);
    }
  }

  /**
   * A request with the bouncer's key that was not its own traffic (src/core/bouncers/probe.ts):
   * kept as its last probe, and nothing else about the bouncer moves.
   */
  /**
   * The bouncer closed its connection (its process exited: connection-watch.ts), at this time. Kept
   * in memory only: after a restart nothing is known and the plain silence thresholds apply.
   */
  clientClosed(bouncerId: number, at: number): void {
    this.#closedAt.set(bouncerId, at);
  }

  /** When the bouncer last closed its connection itself, if this process saw it. */
  clientClosedAt(bouncerId: number): number | undefined {
    return this.#closedAt.get(bouncerId);
  }

  probe(row: ProbeRow): void {
    if (this.#probes.size >= 10_000 && !this.#probes.has(row.bouncerId)) return;
    this.#probes.set(row.bouncerId, row);
  }

  /** The filters of a stream pull (origins, scopes, scenarios): written when they change. */
  streamFilters(b: Bouncer, at: number, filters: StreamFilters): void {
    const text = JSON.stringify(filters);
    if (this.#filtersKnown.get(b.id) === text) return;
    this.#filtersKnown.set(b.id, text);
    this.#filtersPending.set(b.id, { bouncerId: b.id, seenAt: at, filters });
  }

  refused(r: NewRefusedRequest): void {
    // Summed before the cap below: the summaries are the evidence a flood cannot erase.
    this.#refusedSummaries.add(r);
    // A flood of bad keys must not become a flood of writes: keep the first 1,000 per period.
    if (this.#refused.length >= 1000) return;
    this.#refused.push(r);
  }

  /** Forget a bouncer (deleted): nothing pending for it is written. */
  forget(id: number): void {
    this.#closedAt.delete(id);
    this.#pending.delete(id);
    this.#known.delete(id);
    this.#pulls.delete(id);
    this.#filtersKnown.delete(id);
    this.#filtersPending.delete(id);
    this.#probes.delete(id);
  }

  flush(): Promise<void> {
    return this.#flushes.run();
  }

  async #flush(): Promise<void> {
    const batch = [...this.#pending.values()];
    const refused = this.#refused;
    const changes = this.#changes;
    const pullHours = this.#pullHours.take();
    const summaries = this.#refusedSummaries.take();
    const filters = [...this.#filtersPending.values()];
    const probes = [...this.#probes.values()];
    this.#probes = new Map();
    this.#filtersPending = new Map();
    this.#pending = new Map();
    this.#refused = [];
    this.#changes = [];
    try {
      await applyBouncerActivity(this.#store, batch, Date.now());
      await recordRefused(this.#store, refused);
      await recordRefusedSummaries(this.#store, summaries);
      await recordBouncerChanges(this.#store, changes);
      await recordPullHours(this.#store, pullHours);
      await recordStreamFilters(this.#store, filters);
      await recordProbes(this.#store, probes);
    } catch (e) {
      for (const p of probes) if (!this.#probes.has(p.bouncerId)) this.#probes.set(p.bouncerId, p);
      for (const f of filters) if (!this.#filtersPending.has(f.bouncerId)) this.#filtersPending.set(f.bouncerId, f);
      // Put it back so the next period retries; newer values win over the failed ones.
      for (const a of batch) {
        const cur = this.#pending.get(a.id);
        this.#pending.set(a.id, cur ? { ...a, ...stripUndefined(cur) } : a);
      }
      this.#refused = refused.concat(this.#refused).slice(0, 1000);
      this.#changes = changes.concat(this.#changes).slice(0, 1000);
      this.#pullHours.restore(pullHours);
      this.#refusedSummaries.restore(summaries);
      throw e;
    }
  }
}

/** What this process knows of a bouncer (written or pending), so unchanged fields are not rewritten. */
interface KnownBouncer {
  ip: string;
  type: string;
  version: string;
  lastPullAt: number | null;
  lastPullRev: number | null;
  pullCadenceMs: number | null;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
