/**
 * What `vigil watch` learns from CrowdSec's Local API log, kept in memory between polls: pulls per
 * client (address + User-Agent; the log names no bouncer), refused requests summed as Vigil's own
 * Local API sums them, and when the Local API started. Pure: events in, plain records out; the
 * watcher maps clients to CrowdSec's bouncer rows (`ip_address`, `type`) at each poll.
 *
 * Bounded: a client keeps its last stream pull times (enough for pullCadence), refused summaries
 * and clients are capped and the oldest forgotten first, so a flood of random User-Agents cannot
 * grow it without limit.
 */
import type { RefusedSummary } from '../model/records.ts';
import { parseUserAgent } from '../bouncers/user-agent.ts';
import { requestMeaning, type LapiLogEvent } from './access-log.ts';

/** Stream pull times kept per client: pullCadence needs 6; a few more steady it. */
export const PULLS_KEPT = 16;
const MAX_CLIENTS = 20_000;
const MAX_REFUSED = 10_000;
const MAX_STARTS = 200;
const HOUR_MS = 3600_000;

export interface ClientActivity {
  peerIp: string;
  userAgent: string;
  /** The product its User-Agent names, split as CrowdSec splits it into a bouncer's `type`. */
  type: string;
  /** Last stream pulls, oldest first (second precision: the log's). */
  streamPulls: number[];
  lastPullAt: number | null;
  lastRequestAt: number;
  /** Its first request read (a registration is never later). */
  firstRequestAt: number;
  /** Pulls per hour not yet written to the pull history (`hour` → count). */
  pendingHours: Map<number, number>;
}

/** An agent (machine) as the log shows it: the log names no machine, only its address and User-Agent. */
export interface AgentActivity {
  peerIp: string;
  userAgent: string;
  /** Last heartbeat times (`GET /v1/heartbeat` answered 200), oldest first. */
  heartbeats: number[];
  lastAt: number;
}

export interface ActivityStats {
  lines: number;
  requests: number;
  malformed: number;
}

export class LapiActivity {
  readonly #clients = new Map<string, ClientActivity>();
  readonly #refused = new Map<string, RefusedSummary>();
  readonly #agents = new Map<string, AgentActivity>();
  #starts: number[] = [];
  /** Pulls at or before this time were already written to the pull history (by an earlier run). */
  #countPullsAfter: number;
  readonly stats: ActivityStats = { lines: 0, requests: 0, malformed: 0 };

  constructor(opts: { countPullsAfter?: number } = {}) {
    this.#countPullsAfter = opts.countPullsAfter ?? Number.NEGATIVE_INFINITY;
  }

  add(e: LapiLogEvent): void {
    this.stats.lines++;
    switch (e.type) {
      case 'malformed':
        this.stats.malformed++;
        return;
      case 'other':
        return;
      case 'lapi_start':
        this.addLapiStart(e.at);
        return;
      case 'unknown_machine':
        this.#refuse({ peerIp: '', userAgent: '', method: 'POST', path: '/v1/watchers/login', at: e.at }, 'login:unknown-machine', e.machineId);
        return;
      case 'request':
        this.stats.requests++;
        this.#request(e);
    }
  }

  addLapiStart(at: number): void {
    // The same start seen twice (the log read again); a start seen in both the log and the counters
    // may appear twice a moment apart, which changes nothing in the evaluation.
    if (this.#starts.includes(at)) return;
    this.#starts.push(at);
    this.#starts.sort((a, b) => a - b);
    if (this.#starts.length > MAX_STARTS) this.#starts.splice(0, this.#starts.length - MAX_STARTS);
  }

  #request(e: Extract<LapiLogEvent, { type: 'request' }>): void {
    const meaning = requestMeaning(e);
    if (meaning.kind === 'refused') {
      this.#refuse(e, meaning.reason, '');
      return;
    }
    if (meaning.kind === 'machine' && meaning.what === 'heartbeat') {
      this.#heartbeat(e);
      return;
    }
    if (meaning.kind !== 'pull') return;
    const key = `${e.peerIp}\0${e.userAgent}`;
    let c = this.#clients.get(key);
    if (!c) {
      if (this.#clients.size >= MAX_CLIENTS) this.#forgetOldestClient();
      c = {
        peerIp: e.peerIp,
        userAgent: e.userAgent,
        type: parseUserAgent(e.userAgent).type,
        streamPulls: [],
        lastPullAt: null,
        lastRequestAt: e.at,
        firstRequestAt: e.at,
        pendingHours: new Map(),
      };
      this.#clients.set(key, c);
    }
    c.lastRequestAt = Math.max(c.lastRequestAt, e.at);
    c.firstRequestAt = Math.min(c.firstRequestAt, e.at);
    c.lastPullAt = Math.max(c.lastPullAt ?? e.at, e.at);
    if (meaning.mode === 'stream') {
      c.streamPulls.push(e.at);
      if (c.streamPulls.length > PULLS_KEPT) c.streamPulls.splice(0, c.streamPulls.length - PULLS_KEPT);
    }
    if (e.at > this.#countPullsAfter) {
      const hour = Math.floor(e.at / HOUR_MS) * HOUR_MS;
      c.pendingHours.set(hour, (c.pendingHours.get(hour) ?? 0) + 1);
    }
  }

  #heartbeat(e: Extract<LapiLogEvent, { type: 'request' }>): void {
    const key = `${e.peerIp}\0${e.userAgent}`;
    let a = this.#agents.get(key);
    if (!a) {
      if (this.#agents.size >= MAX_CLIENTS) {
        let oldest: [string, AgentActivity] | undefined;
        for (const entry of this.#agents) if (!oldest || entry[1].lastAt < oldest[1].lastAt) oldest = entry;
        if (oldest) this.#agents.delete(oldest[0]);
      }
      this.#agents.set(key, (a = { peerIp: e.peerIp, userAgent: e.userAgent, heartbeats: [], lastAt: e.at }));
    }
    a.lastAt = Math.max(a.lastAt, e.at);
    a.heartbeats.push(e.at);
    a.heartbeats.sort((x, y) => x - y);
    if (a.heartbeats.length > PULLS_KEPT) a.heartbeats.splice(0, a.heartbeats.length - PULLS_KEPT);
  }

  /** Agents that sent heartbeats, by address and User-Agent (copies of their times). */
  agents(): AgentActivity[] {
    return [...this.#agents.values()].map((a) => ({ ...a, heartbeats: [...a.heartbeats] }));
  }

  #refuse(e: { peerIp: string; userAgent: string; method: string; path: string; at: number }, reason: string, name: string): void {
    const key = `${e.peerIp}\0${e.userAgent}\0${reason}\0${name}`;
    const found = this.#refused.get(key);
    if (found) {
      found.count++;
      found.firstAt = Math.min(found.firstAt, e.at);
      if (e.at >= found.lastAt) Object.assign(found, { lastAt: e.at, method: e.method, path: e.path });
      return;
    }
    if (this.#refused.size >= MAX_REFUSED) {
      let oldest: [string, RefusedSummary] | undefined;
      for (const entry of this.#refused) if (!oldest || entry[1].lastAt < oldest[1].lastAt) oldest = entry;
      if (oldest) this.#refused.delete(oldest[0]);
    }
    this.#refused.set(key, {
      peerIp: e.peerIp,
      userAgent: e.userAgent,
      reason,
      // The log has no key: nothing to fingerprint.
      keyFingerprint: '',
      severalKeys: false,
      bouncerName: name,
      method: e.method,
      path: e.path,
      firstAt: e.at,
      lastAt: e.at,
      count: 1,
    });
  }

  #forgetOldestClient(): void {
    let oldest: [string, ClientActivity] | undefined;
    for (const entry of this.#clients) if (!oldest || entry[1].lastRequestAt < oldest[1].lastRequestAt) oldest = entry;
    if (oldest) this.#clients.delete(oldest[0]);
  }

  clients(): ClientActivity[] {
    return [...this.#clients.values()];
  }

  /** Refused requests since `since`, as the evaluator takes them (copies). */
  refusedSummaries(since: number): RefusedSummary[] {
    return [...this.#refused.values()].filter((r) => r.lastAt >= since).map((r) => ({ ...r }));
  }

  lapiStarts(since: number): number[] {
    return this.#starts.filter((s) => s >= since);
  }

  /** Forgets what is older than `before` (refused requests, pending hours, idle clients). */
  prune(before: number): void {
    for (const [k, r] of this.#refused) if (r.lastAt < before) this.#refused.delete(k);
    for (const [k, c] of this.#clients) {
      for (const h of c.pendingHours.keys()) if (h + HOUR_MS < before) c.pendingHours.delete(h);
      if (c.lastRequestAt < before) this.#clients.delete(k);
    }
    this.#starts = this.#starts.filter((s) => s >= before);
    for (const [k, a] of this.#agents) if (a.lastAt < before) this.#agents.delete(k);
  }
}
