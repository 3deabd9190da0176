/** What `vigil verify` is given (the options, the decision backend, the requester) and what it answers. */
import type { Clock } from '../lib/clock.ts';
import type { HttpAnswer, NetFailure } from './network-probe.ts';

export type RemediationType = 'ban' | 'captcha';

/** Where the test decision is written: Vigil's store, or a real CrowdSec through cscli. */
export interface DecisionBackend {
  /** For messages: "Vigil store sqlite:…", "cscli". */
  describe: string;
  /** Active decisions that already cover `ip` (they would make the test meaningless). */
  existingDecisions(ip: string, now: number): Promise<string[]>;
  /** Adds the decision; resolves once it is committed, with its id. */
  addDecision(d: { ip: string; type: RemediationType; durationMs: number; reason: string; now: number }): Promise<{ id: string }>;
  /** Removes exactly that decision; false when it was already gone. */
  removeDecision(id: string, d: { ip: string; reason: string; now: number }): Promise<boolean>;
  /** The bouncer's last pull (null: never), or undefined when no bouncer has that name. */
  lastPull(name: string): Promise<{ lastPullAt: number | null } | undefined>;
}

export type Requester = (url: string, headers: Record<string, string>, timeoutMs: number) => Promise<HttpAnswer | NetFailure>;

export interface VerifyOptions {
  url: string;
  ip: string;
  type: RemediationType;
  /** Wait for this bouncer's pull; without it, wait `updatePeriodMs`. */
  bouncer?: string;
  /** The bouncer's update period (go-cs-bouncer's default is 10 s): waited when no bouncer is named. */
  updatePeriodMs: number;
  /** Give up waiting for the pull after this long. */
  timeoutMs: number;
  /** How often the last pull is read, and the URL retried after the wait. */
  pollMs: number;
  /** After the pull (or period), keep retrying the URL this long: the bouncer applies what it pulled. */
  settleMs: number;
  /** Each HTTP request's time limit. */
  requestTimeoutMs: number;
  /** The decision's own lifetime: it expires by itself even if removal never runs (kill -9). */
  decisionDurationMs: number;
}

export interface VerifyDeps {
  backend: DecisionBackend;
  request: Requester;
  clock: Clock;
  /** Waits `ms`; rejects when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  signal?: AbortSignal;
  /** Progress lines as they happen (stderr in the CLI). */
  progress?(line: string): void;
}

export interface VerifyStep {
  step: 'baseline' | 'add' | 'wait' | 'check' | 'remove';
  ok: boolean;
  ms: number;
  detail: string;
}

export interface VerifyResult {
  verdict: 'pass' | 'fail' | 'aborted';
  /** One line: why. */
  summary: string;
  url: string;
  ip: string;
  type: RemediationType;
  bouncer?: string;
  decisionId?: string;
  /** The test decision is gone (or was never added). */
  decisionRemoved: boolean;
  steps: VerifyStep[];
  /** Time from the decision's commit to the first blocked answer. */
  enforcedAfterMs?: number;
  totalMs: number;
  fix?: string;
}
