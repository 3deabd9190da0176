/**
 * What CrowdSec's database does not keep, learnt from the Local API's own access log and its
 * Prometheus counters, for the watcher to put into the health snapshot and the store:
 * - per bouncer: stream pulls (→ its cadence, `pull_cadence_ms`), its last request and the hourly
 *   pull history of the dashboard; the log names a client by address and User-Agent, matched here to
 *   the one CrowdSec bouncer row with that `ip_address` and `type` (several rows sharing both are
 *   left alone: the log cannot tell them apart, the Prometheus counters, which name bouncers, can);
 * - refused keys, wrong paths and refused logins, summed as Vigil's own Local API sums them;
 * - the Local API's restarts (its start lines; a counter that went down; a new process start time);
 * - machines' signs of life from `cs_lapi_machine_requests_total`.
 * Nothing is written to CrowdSec.
 */
import type { Clock } from '../lib/clock.ts';
import type { Bouncer } from '../core/model/records.ts';
import type { MachineHealthInput } from '../core/health/types.ts';
import type { RefusedSummary } from '../core/model/records.ts';
import { pullCadence } from '../core/health/cadence.ts';
import { parseLapiLogLine, type ParseOptions } from '../core/watch/access-log.ts';
import { LapiActivity } from '../core/watch/lapi-activity.ts';
import { counterChange, lapiCounters, type LapiCounters } from '../core/watch/prometheus-text.ts';
import { lastSeenFrom, type CountedWindow } from '../core/watch/last-pull.ts';
import { redactUrl } from '../lib/redact-url.ts';
import type { Store } from '../store/store.ts';
import { META_KEYS } from '../store/meta-keys.ts';
import { hourOf, recordPullHours } from '../store/pull-history.ts';
import { lowerMirrorCreatedAt } from '../store/bouncer-mirror.ts';
import type { LapiLogReader } from './lapi-log.ts';
import { applyBouncerActivity } from '../store/bouncers.ts';
import { getMeta, setMeta } from '../store/meta.ts';

export interface LearningStatus {
  accessLog: null | { source: string; up: boolean; lines: number; requests: number; malformed: number; rotations: number; lastError: string | null };
  prometheus: null | { url: string; up: boolean; scrapes: number; lastError: string | null };
}

/** What the log and counters add to one bouncer row's health input. */
export interface LearntBouncer {
  /** The last pull the access log dates exactly. */
  lastPullAt: number | null;
  /** The last rise of its pull counters: a pull somewhere in that window (last-pull.ts). */
  countedPull: CountedWindow | null;
  lastRequestAt: number | null;
  pullCadenceMs: number | null;
}

/** The host's offset at a wall-clock time: CrowdSec logs local time without a zone. */
const localZone: ParseOptions = { zoneOffsetMs: (wall) => -new Date(wall).getTimezoneOffset() * 60_000 };

export class LapiLearning {
  readonly activity: LapiActivity;
  #store: Store;
  #clock: Clock;
  #log: LapiLogReader | null;
  #prometheusUrl: string | null;
  #fetchTimeoutMs: number;
  #counters: LapiCounters | null = null;
  #lastScrapeAt: number | null = null;
  /** Counter rises: a request in (previous scrape, that scrape], never a time of its own. */
  #promPullAt = new Map<string, CountedWindow>();
  #promSeenAt = new Map<string, CountedWindow>();
  #promHeartbeatAt = new Map<string, CountedWindow>();
  #promPushAt = new Map<string, CountedWindow>();
  #pendingPromPulls = new Map<string, number>();
  #status: LearningStatus;
  /** Bouncer names the access log speaks for (their pulls are counted from it, not from the counters). */
  #fromLog = new Set<string>();
  #countedUntil = Number.NEGATIVE_INFINITY;

  private constructor(store: Store, clock: Clock, log: LapiLogReader | null, prometheusUrl: string | null, countedUntil: number) {
    this.#store = store;
    this.#clock = clock;
    this.#log = log;
    this.#prometheusUrl = prometheusUrl;
    this.#fetchTimeoutMs = 5000;
    this.#countedUntil = countedUntil;
    this.activity = new LapiActivity({ countPullsAfter: countedUntil });
    this.#status = {
      accessLog: log ? { source: log.description, up: false, lines: 0, requests: 0, malformed: 0, rotations: 0, lastError: null } : null,
      prometheus: prometheusUrl ? { url: redactUrl(prometheusUrl), up: false, scrapes: 0, lastError: null } : null,
    };
  }

  /** Pulls already written to the pull history by an earlier run are not counted twice when its log is read again. */
  static async open(store: Store, clock: Clock, opts: { log?: LapiLogReader | null; prometheusUrl?: string | null }): Promise<LapiLearning> {
    const until = Number((await getMeta(store, META_KEYS.watchPullsCountedUntil)) ?? Number.NEGATIVE_INFINITY);
    return new LapiLearning(store, clock, opts.log ?? null, opts.prometheusUrl ?? null, Number.isFinite(until) ? until : Number.NEGATIVE_INFINITY);
  }

  get readsLog(): boolean {
    return this.#log !== null;
  }

  /** True while the access log is being read: refused keys and wrong paths would be seen. */
  get requestsRecorded(): boolean {
    return this.#status.accessLog?.up === true;
  }

  status(): LearningStatus {
    return structuredClone(this.#status);
  }

  /** Reads what arrived in the log and scrapes the counters once. Never throws: failures go to status. */
  async collect(): Promise<void> {
    if (this.#log) {
      const s = this.#status.accessLog!;
      try {
        const r = await this.#log.read();
        for (const line of r.lines) this.activity.add(parseLapiLogLine(line, localZone));
        s.up = r.error === undefined;
        s.lastError = r.error ?? null;
        s.rotations = r.rotations;
      } catch (e) {
        s.up = false;
        s.lastError = (e as Error).message;
      }
      Object.assign(s, this.activity.stats);
    }
    if (this.#prometheusUrl) await this.#scrape();
    const now = this.#clock.now();
    this.activity.prune(now - 8 * 24 * 3600_000);
  }

  async #scrape(): Promise<void> {
    const s = this.#status.prometheus!;
    const now = this.#clock.now();
    let text: string;
    try {
      const res = await fetch(this.#prometheusUrl!, { signal: AbortSignal.timeout(this.#fetchTimeoutMs) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      text = await res.text();
    } catch (e) {
      s.up = false;
      s.lastError = `${s.url}: ${(e as Error).message}`;
      return;
    }
    s.up = true;
    s.lastError = null;
    s.scrapes++;
    const cur = lapiCounters(text);
    if (cur.processStartAt !== null) this.activity.addLapiStart(cur.processStartAt);
    const prevAt = this.#lastScrapeAt;
    this.#lastScrapeAt = now;
    if (this.#counters && prevAt !== null) {
      const change = counterChange(this.#counters, cur);
      const w: CountedWindow = { after: prevAt, at: now };
      // A counter reset without a process start time to say when: between the two scrapes.
      if (change.restarted && cur.processStartAt === null) this.activity.addLapiStart(now);
      for (const [name, n] of change.bouncerPulls) {
        this.#promPullAt.set(name, w);
        this.#pendingPromPulls.set(name, (this.#pendingPromPulls.get(name) ?? 0) + n);
      }
      for (const name of change.bouncersSeen) this.#promSeenAt.set(name, w);
      for (const [name, routes] of change.machinesSeen) {
        if (routes.has('GET /v1/heartbeat')) this.#promHeartbeatAt.set(name, w);
        if (routes.has('POST /v1/alerts')) this.#promPushAt.set(name, w);
      }
    }
    this.#counters = cur;
  }

  /**
   * Matches the log's clients to the mirrored bouncer rows, stores what was learnt (cadence, last
   * request, hourly pulls) and returns it per bouncer name.
   */
  async apply(rows: Map<string, Bouncer>): Promise<Map<string, LearntBouncer>> {
    const now = this.#clock.now();
    const byPair = new Map<string, Bouncer[]>();
    for (const b of rows.values()) {
      if (!b.ipAddress || !b.type) continue;
      const k = `${b.ipAddress}\0${b.type}`;
      const list = byPair.get(k);
      if (list) list.push(b);
      else byPair.set(k, [b]);
    }
    const learnt = new Map<string, { pulls: number[]; lastPullAt: number | null; lastRequestAt: number | null }>();
    const hours: Array<{ bouncerId: number; hour: number; pulls: number }> = [];
    let newest = Number.NEGATIVE_INFINITY;
    const registered: Array<{ id: number; at: number }> = [];
    this.#fromLog.clear();
    for (const c of this.activity.clients()) {
      const owners = byPair.get(`${c.peerIp}\0${c.type}`);
      if (owners?.length !== 1) continue;
      const b = owners[0]!;
      this.#fromLog.add(b.name);
      if (c.firstRequestAt < b.createdAt) {
        registered.push({ id: b.id, at: c.firstRequestAt });
        b.createdAt = c.firstRequestAt;
      }
      let l = learnt.get(b.name);
      if (!l) learnt.set(b.name, (l = { pulls: [], lastPullAt: null, lastRequestAt: null }));
      l.pulls.push(...c.streamPulls);
      l.lastPullAt = max(l.lastPullAt, c.lastPullAt);
      l.lastRequestAt = max(l.lastRequestAt, c.lastRequestAt);
      for (const [hour, pulls] of c.pendingHours) {
        hours.push({ bouncerId: b.id, hour, pulls });
        newest = Math.max(newest, c.lastPullAt ?? hour);
      }
      c.pendingHours.clear();
    }
    // Bouncers the log does not speak for: their pulls counted from CrowdSec's counters.
    for (const [name, n] of this.#pendingPromPulls) {
      const b = rows.get(name);
      if (b && !this.#fromLog.has(name)) hours.push({ bouncerId: b.id, hour: hourOf(now), pulls: n });
    }
    this.#pendingPromPulls.clear();
    if (hours.length > 0) {
      await recordPullHours(this.#store, hours);
      if (newest > this.#countedUntil) {
        this.#countedUntil = newest;
        await setMeta(this.#store, META_KEYS.watchPullsCountedUntil, String(newest));
      }
    }

    const out = new Map<string, LearntBouncer>();
    const updates: Array<{ id: number; lastRequestAt?: number; pullCadenceMs?: number | null }> = [];
    for (const b of rows.values()) {
      const l = learnt.get(b.name);
      const promPull = this.#promPullAt.get(b.name) ?? null;
      const promSeen = this.#promSeenAt.get(b.name) ?? null;
      if (!l && promPull === null && promSeen === null) continue;
      const cadence = l ? pullCadence([...l.pulls].sort((x, y) => x - y)) : null;
      const lastRequestAt = lastSeenFrom(max(max(l?.lastRequestAt ?? null, l?.lastPullAt ?? null), b.lastRequestAt), promSeen);
      const u: { id: number; lastRequestAt?: number; pullCadenceMs?: number | null } = { id: b.id };
      if (lastRequestAt !== null && lastRequestAt !== b.lastRequestAt) u.lastRequestAt = lastRequestAt;
      if (l && cadence !== null && cadence !== b.pullCadenceMs) u.pullCadenceMs = cadence;
      if (u.lastRequestAt !== undefined || u.pullCadenceMs !== undefined) updates.push(u);
      out.set(b.name, {
        lastPullAt: l?.lastPullAt ?? null,
        countedPull: promPull,
        lastRequestAt,
        pullCadenceMs: cadence ?? b.pullCadenceMs,
      });
    }
    if (updates.length > 0) await applyBouncerActivity(this.#store, updates, now);
    await lowerMirrorCreatedAt(this.#store, registered);
    return out;
  }

  /**
   * A machine as the counters saw it: a heartbeat or push CrowdSec's database does not date yet
   * (last-pull.ts: a counter rise never moves an exact time that falls in its window).
   */
  machine(m: MachineHealthInput): MachineHealthInput {
    const hb = this.#promHeartbeatAt.get(m.machineId) ?? null;
    const push = this.#promPushAt.get(m.machineId) ?? null;
    if (hb === null && push === null) return m;
    const lastHeartbeatAt = lastSeenFrom(m.lastHeartbeatAt, hb);
    const lastPushAt = lastSeenFrom(m.lastPushAt, push);
    return { ...m, lastHeartbeatAt, lastPushAt, lastLoginAt: m.lastLoginAt ?? lastHeartbeatAt ?? lastPushAt };
  }

  /**
   * Heartbeat times from the access log per machine_id: a client (address + User-Agent) is one
   * machine when exactly one of CrowdSec's machines has that address (or, several sharing it, one
   * whose version the User-Agent names). Machines the log cannot tell apart get none from it.
   */
  heartbeats(machines: readonly MachineHealthInput[]): Map<string, number[]> {
    const out = new Map<string, number[]>();
    for (const a of this.activity.agents()) {
      let owners = machines.filter((m) => m.ipAddress !== '' && m.ipAddress === a.peerIp);
      if (owners.length > 1) owners = owners.filter((m) => m.version !== '' && a.userAgent.includes(m.version));
      if (owners.length !== 1) continue;
      const id = owners[0]!.machineId;
      out.set(id, [...(out.get(id) ?? []), ...a.heartbeats]);
    }
    return out;
  }

  refusedSummaries(since: number): RefusedSummary[] {
    return this.activity.refusedSummaries(since);
  }

  lapiStarts(since: number): number[] {
    return this.activity.lapiStarts(since);
  }

  async close(): Promise<void> {
    await this.#log?.close();
  }
}

function max(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : Math.max(a, b);
}
