/**
 * CrowdSec's own Local API as `vigil watch` sees it from outside, probe by probe. Pure: probe
 * results in, one finding and the outage intervals out.
 *
 * While the Local API does not serve (down, disabled in its config, or answered by Vigil), the
 * bouncers cannot pull from it and the agents cannot beat: their silence is the Local API's, so the
 * watcher holds their verdicts (nothing raised, resolved or escalated) and raises this one issue.
 * Afterwards the outage does not count as their silence (`creditOutages`).
 */
import { formatGoDuration, formatRfc3339 } from '../../lib/duration.ts';
import { ISSUE_CATALOGUE, type Finding, type LikelyCause } from '../health/types.ts';

export type LapiProbeResult =
  | { state: 'up' }
  /** No answer, or an answer that is not a Local API's (`error` says which). */
  | { state: 'down'; error: string }
  /** Something else answers at its address: `vigil serve` (its `/health` says `Server: Vigil`). */
  | { state: 'replaced'; by: string }
  /** CrowdSec's config says `api.server.enable: false`. */
  | { state: 'disabled' };

export interface LapiObservation {
  at: number;
  result: LapiProbeResult;
  /** Whether CrowdSec's Prometheus endpoint answered at this poll (null: not scraped). */
  prometheusUp: boolean | null;
}

export interface Outage {
  from: number;
  /** null while it lasts. */
  to: number | null;
}

/** A restart (about 2 s) is no outage: raised only after this many probes in a row failed, over at least… */
export const DOWN_PROBES = 2;
/** …this long. With the default 10 s poll the issue opens 10–20 s after the Local API stopped. */
export const DOWN_MIN_MS = 5_000;
const OUTAGES_KEPT = 200;

interface Current {
  /** The last probe that found it serving (the outage may have begun just after it), else the first failed one. */
  from: number;
  firstFailAt: number;
  failures: number;
  last: LapiObservation;
}

export class LapiOutages {
  readonly #url: string;
  readonly #probes: number;
  readonly #minMs: number;
  #current: Current | null = null;
  #lastUpAt: number | null = null;
  #ended: Outage[] = [];

  /**
   * `url`: the Local API's URL, for messages. `oneShot` (`vigil watch --once`, a new process per
   * run): one failed probe is all there will be, so it raises at once.
   */
  constructor(url: string, opts: { oneShot?: boolean } = {}) {
    this.#url = url;
    this.#probes = opts.oneShot ? 1 : DOWN_PROBES;
    this.#minMs = opts.oneShot ? 0 : DOWN_MIN_MS;
  }

  observe(o: LapiObservation): void {
    if (o.result.state === 'up') {
      if (this.#current) {
        this.#ended.push({ from: this.#current.from, to: o.at });
        if (this.#ended.length > OUTAGES_KEPT) this.#ended.splice(0, this.#ended.length - OUTAGES_KEPT);
      }
      this.#current = null;
      this.#lastUpAt = o.at;
      return;
    }
    if (this.#current) {
      this.#current.failures++;
      this.#current.last = o;
      return;
    }
    this.#current = { from: this.#lastUpAt ?? o.at, firstFailAt: o.at, failures: 1, last: o };
  }

  /** True while it does not serve: bouncer and machine verdicts are held. */
  get holding(): boolean {
    return this.#current !== null;
  }

  /** For /admin/v1/watch and the metrics: the last probe's state, and since when it has not served. */
  state(): { state: LapiProbeResult['state'] | 'unknown'; notServingSince: number | null; lastUpAt: number | null } {
    return {
      state: this.#current ? this.#current.last.result.state : this.#lastUpAt !== null ? 'up' : 'unknown',
      notServingSince: this.#current?.firstFailAt ?? null,
      lastUpAt: this.#lastUpAt,
    };
  }

  /** Outages overlapping [since, now]; the current one ends at `now`. */
  outages(since: number, now: number): Outage[] {
    const all = [...this.#ended, ...(this.#current ? [{ from: this.#current.from, to: null }] : [])];
    return all.filter((o) => (o.to ?? now) >= since).map((o) => ({ from: o.from, to: o.to ?? now }));
  }

  /** The one issue while it does not serve, once that lasted DOWN_PROBES probes and DOWN_MIN_MS; else null. */
  finding(now: number): Finding | null {
    const c = this.#current;
    if (!c || c.failures < this.#probes || now - c.firstFailAt < this.#minMs) return null;
    const r = c.last.result;
    const lasted = formatGoDuration(Math.max(0, Math.round((now - c.firstFailAt) / 1000)) * 1000);
    const held = 'Bouncer and machine issues are held as they were until it serves again; its downtime will not count as their silence.';
    const prom =
      c.last.prometheusUp === null
        ? []
        : [
            c.last.prometheusUp
              ? "CrowdSec's Prometheus endpoint still answers: the crowdsec process runs"
              : "CrowdSec's Prometheus endpoint does not answer either",
          ];
    const notes = [
      `first seen at ${formatRfc3339(c.firstFailAt)}; last seen serving ${this.#lastUpAt === null ? 'never (since watch started)' : `at ${formatRfc3339(this.#lastUpAt)}`}`,
    ];
    if (r.state === 'replaced' || r.state === 'disabled') {
      const cause: LikelyCause =
        r.state === 'replaced'
          ? {
              cause: 'lapi_replaced_by_vigil',
              confidence: 'high',
              evidence: [`GET ${this.#url}health is answered by ${r.by}, not CrowdSec`, ...prom],
            }
          : { cause: 'lapi_disabled', confidence: 'high', evidence: ["CrowdSec's config has api.server.enable: false", ...prom] };
      return {
        kind: 'lapi_replaced',
        criticality: ISSUE_CATALOGUE.lapi_replaced.criticality,
        subject: 'lapi',
        bouncerName: null,
        since: c.firstFailAt,
        summary:
          r.state === 'replaced'
            ? `This CrowdSec's Local API was replaced: Vigil serves ${this.#url} (for ${lasted}), so bouncers pull from Vigil and CrowdSec no longer sees them. Stop this vigil watch, or repoint it. ${held}`
            : `This CrowdSec's Local API is disabled in its config (api.server.enable: false, for ${lasted}): its bouncers pull from another Local API, which this watch does not see. Stop this vigil watch, or repoint it. ${held}`,
        causes: [cause],
        notes,
      };
    }
    const error = r.state === 'down' ? r.error : 'no answer';
    const cause: LikelyCause =
      c.last.prometheusUp === true
        ? { cause: 'lapi_not_listening', confidence: 'medium', evidence: [`GET ${this.#url}health: ${error}`, ...prom] }
        : { cause: 'lapi_stopped', confidence: c.last.prometheusUp === false ? 'high' : 'medium', evidence: [`GET ${this.#url}health: ${error}`, ...prom] };
    return {
      kind: 'lapi_down',
      criticality: ISSUE_CATALOGUE.lapi_down.criticality,
      subject: 'lapi',
      bouncerName: null,
      since: c.firstFailAt,
      summary: `CrowdSec's Local API at ${this.#url} does not answer (${c.failures} probes over ${lasted}): bouncers get no new decisions and agents cannot send alerts. ${held}`,
      causes: [cause],
      notes: [`last error: ${error}`, ...notes],
    };
  }
}

/**
 * A last sign of life with the Local API's outages after it not counted as silence: each outage
 * between it and `now` moves it later by the outage's length. Only for a client that was healthy
 * when the outage began (silent for less than `lateAfterMs`); one already late stays as it was, so
 * its open issue is neither resolved nor delayed by an outage.
 */
export function creditOutages(lastSeen: number | null, outages: readonly Outage[], now: number, lateAfterMs: number | null): number | null {
  if (lastSeen === null) return null;
  let credited = lastSeen;
  for (const o of [...outages].sort((a, b) => a.from - b.from)) {
    const to = Math.min(o.to ?? now, now);
    if (to <= lastSeen) continue;
    // Already late when this outage began: its silence was its own.
    if (lateAfterMs !== null && o.from - credited > lateAfterMs) break;
    credited += to - Math.max(o.from, lastSeen);
  }
  return Math.min(credited, now);
}
