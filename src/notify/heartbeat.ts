import type { Logger } from 'pino';
import type { Clock } from '../lib/clock.ts';

/**
 * Watch the watcher: after an evaluation of the health engine, at most once per `everyMs`, Vigil
 * sends a ping to a URL the operator's own dead-man's switch watches (a healthchecks.io ping URL, an
 * Uptime Kuma push monitor, Cronitor, any HTTP endpoint). The ping follows evaluations, not a
 * timer of its own: a wedged engine (a stuck store, a blocked loop) stops the pings, and the
 * switch pages. The body says what the engine saw, for receivers that keep it.
 */
export interface HeartbeatSettings {
  /** Resolved (`${VAR}` expanded); http or https. */
  url: string;
  everyMs: number;
  timeoutMs: number;
}

export interface HeartbeatBody {
  status: 'evaluating';
  evaluated_at: string;
  open_issues: { critical: number; high: number; warning: number; recommended: number };
}

export interface OpenIssueLike {
  criticality: string;
}

/** The ping's body for one evaluation: the open issues by criticality. Pure. */
export function heartbeatBody(evaluatedAt: number, open: readonly OpenIssueLike[]): HeartbeatBody {
  const counts = { critical: 0, high: 0, warning: 0, recommended: 0 };
  for (const i of open) if (i.criticality in counts) counts[i.criticality as keyof typeof counts]++;
  return { status: 'evaluating', evaluated_at: new Date(evaluatedAt).toISOString(), open_issues: counts };
}

export class Heartbeat {
  readonly #settings: HeartbeatSettings;
  readonly #clock: Clock;
  readonly #log: Logger;
  /** When the last ping was sent (or tried); pings are at least everyMs apart. */
  #lastAt = Number.NEGATIVE_INFINITY;
  #inFlight: Promise<void> | undefined;
  /** The receiver failed last time: the next success is logged, failures in between are not. */
  #failing = false;
  #sent = 0;

  constructor(settings: HeartbeatSettings, clock: Clock, log: Logger) {
    this.#settings = settings;
    this.#clock = clock;
    this.#log = log;
  }

  /** Pings sent that the receiver accepted (2xx). */
  get sent(): number {
    return this.#sent;
  }

  /** Called after each evaluation; sends when the last ping is at least everyMs old and none is in flight. */
  evaluated(open: readonly OpenIssueLike[]): void {
    const now = this.#clock.now();
    if (this.#inFlight || now - this.#lastAt < this.#settings.everyMs) return;
    this.#lastAt = now;
    this.#inFlight = this.#send(heartbeatBody(now, open)).finally(() => {
      this.#inFlight = undefined;
    });
  }

  /** Waits for a ping in flight (stop, tests). */
  async idle(): Promise<void> {
    await this.#inFlight;
  }

  async #send(body: HeartbeatBody): Promise<void> {
    const shown = shownUrl(this.#settings.url);
    try {
      const res = await fetch(this.#settings.url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'User-Agent': 'vigil-heartbeat' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.#settings.timeoutMs),
        redirect: 'manual',
      });
      await res.arrayBuffer().catch(() => undefined);
      if (res.status < 200 || res.status > 299) throw new Error(`answered ${res.status}`);
      this.#sent++;
      if (this.#failing) this.#log.info({ heartbeat: shown }, `heartbeat to ${shown} accepted again`);
      this.#failing = false;
    } catch (e) {
      if (!this.#failing) {
        this.#log.warn(
          { heartbeat: shown, err: (e as Error).message },
          `heartbeat to ${shown} failed (${(e as Error).message}); the receiver will page if this goes on. Next try after the next evaluation`,
        );
      }
      this.#failing = true;
    }
  }
}

/** The URL as logs show it: its origin only (a ping URL's path is its secret: anyone holding it can ping). */
export function shownUrl(url: string): string {
  try {
    return `${new URL(url).origin}/…`;
  } catch {
    return '(heartbeat URL)';
  }
}
