import { formatGoDuration, formatRfc3339 } from '../../lib/duration.ts';
import type { RefusedSummary } from '../model/records.ts';
import type { BouncerHealthInput, HealthRules, LikelyCause } from './types.ts';
import { crowdsecRegisteredEvidence } from './crowdsec-registered.ts';

/**
 * Fail-open (issue 25 item 2): a registered bouncer whose requests are all refused. A live-mode
 * bouncer then lets every client through (the npm, Lua and Traefik bouncers fail open on a 403), a
 * stream-mode one keeps stale decisions. Pure: the evaluator hands over the refusals it tied to the
 * bouncer (evaluate.ts `matchOf`: own key, then address + User-Agent product) and `now`.
 */

/**
 * How long refusals must have gone on, with nothing of the bouncer's succeeding, before it is
 * raised: 1 min, so with `evaluate_every` (10 s) and the activity flush (1 s) the Critical issue is
 * open within ~71 s, inside the 2 min goal, and one stray refusal followed by a success never pages.
 */
export const DEFAULT_FAIL_OPEN_AFTER_MS = 60_000;

/** How surely a refusal is this bouncer's (evaluate.ts). Only `own` and `pair` may page Critical. */
export type RefusalMatch = 'own' | 'pair' | 'ip' | 'agent' | 'shared';

export interface TiedRefusal {
  r: RefusedSummary;
  match: RefusalMatch;
}

export interface FailOpenVerdict {
  /** The bouncer's last successful request (pull, live query, report, key check): the incident's `since`. */
  lastSuccess: number;
  /** The first refusal after the last success, as far as the summaries tell (see `firstKnown`). */
  firstRefusedAt: number;
  /** False when the summary began before the last success: the first refusal after it is not known, only bounded by it. */
  firstKnown: boolean;
  lastRefusedAt: number;
  /** Refused requests in the summaries that reach past the last success (they may include older ones: `firstKnown`). */
  refused: number;
  cause: LikelyCause;
}

/** The bouncer's last request that succeeded: any sign of life other than its registration. */
export function lastSuccessOf(b: BouncerHealthInput): number | null {
  const t = Math.max(b.lastPullAt ?? 0, b.lastRequestAt ?? 0, b.lastUsageMetricsAt ?? 0);
  return t > 0 ? t : null;
}

/**
 * Failing open: refusals surely this bouncer's (its own key, or its address with its User-Agent
 * product when no other bouncer at that address has it) arrived after its last successful request,
 * the latest at least `failOpenAfterMs` after it, and nothing succeeded since. Address-only or
 * User-Agent-only matches (medium or low confidence) never page: a shared host or a flood could be
 * anyone. A revoked bouncer is not judged here (the evaluator skips it: switched off on purpose).
 */
export function failOpen(b: BouncerHealthInput, tied: readonly TiedRefusal[], now: number, rules: HealthRules): FailOpenVerdict | null {
  if (rules.mode === 'console' || b.revoked) return null;
  const lastSuccess = lastSuccessOf(b);
  // Never succeeded: its address and product are unknown, so nothing can be tied to it surely.
  if (lastSuccess === null) return null;
  const sure = tied.filter((t) => (t.match === 'own' || t.match === 'pair') && t.r.reason !== 'wrong-path' && t.r.lastAt > lastSuccess && t.r.lastAt <= now);
  if (sure.length === 0) return null;
  const lastRefusedAt = Math.max(...sure.map((t) => t.r.lastAt));
  const after = rules.failOpenAfterMs ?? DEFAULT_FAIL_OPEN_AFTER_MS;
  const firstAt = Math.min(...sure.map((t) => t.r.firstAt));
  const firstKnown = firstAt > lastSuccess;
  const firstRefusedAt = firstKnown ? firstAt : lastSuccess;
  // Refused since its last success, and nothing has succeeded for `after`: whether it keeps asking (a
  // live bouncer) or gave up after one refused pull (crowdsec-custom-bouncer 0.0.15 never retries).
  if (now - lastSuccess < after) return null;
  const refused = sure.reduce((n, t) => n + t.r.count, 0);
  return {
    lastSuccess,
    firstRefusedAt,
    firstKnown,
    lastRefusedAt,
    refused,
    cause: failOpenCause(b, sure, { lastSuccess, firstAt, firstKnown, lastRefusedAt, refused }),
  };
}

const REASON_TEXT: Record<string, string> = {
  unknown: 'a key the Local API does not know (mistyped, regenerated, or its bouncer deleted)',
  missing: 'no X-Api-Key header at all',
  revoked: 'a revoked key',
};

function reasonText(reason: string): string {
  if (reason.startsWith('tls:')) return `a client certificate the Local API refused (${reason.slice(4)})`;
  return REASON_TEXT[reason] ?? reason;
}

function failOpenCause(
  b: BouncerHealthInput,
  sure: readonly TiedRefusal[],
  f: { lastSuccess: number; firstAt: number; firstKnown: boolean; lastRefusedAt: number; refused: number },
): LikelyCause {
  const evidence: string[] = [];
  const span = f.firstKnown
    ? `since ${formatRfc3339(f.firstAt)} (latest ${formatRfc3339(f.lastRefusedAt)})`
    : `since at least ${formatRfc3339(f.lastSuccess)}, its last successful request (latest ${formatRfc3339(f.lastRefusedAt)}; the count includes earlier refusals from the same address and User-Agent since ${formatRfc3339(f.firstAt)})`;
  evidence.push(`${f.refused} request(s) refused ${span}, and none of its requests has succeeded since ${formatRfc3339(f.lastSuccess)}`);
  const reasons = [...new Set(sure.map((t) => t.r.reason))];
  evidence.push(`they carried ${reasons.map(reasonText).join('; ')}`);
  const fingerprints = [...new Set(sure.map((t) => t.r.keyFingerprint).filter(Boolean))];
  if (fingerprints.length === 1 && sure.every((t) => !t.r.severalKeys)) {
    evidence.push(
      `every refused request carried the same key, fingerprint ${fingerprints[0]} (the key itself is never stored): a stale or mistyped key in its configuration`,
    );
  } else if (fingerprints.length > 0) {
    evidence.push(
      `key fingerprints ${fingerprints.slice(0, 3).join(', ')}${fingerprints.length > 3 ? ', …' : ''}${sure.some((t) => t.r.severalKeys) ? ' (more than one key)' : ''}`,
    );
  }
  const sources = [
    ...new Set(sure.map((t) => `${t.r.method} ${t.r.path} from ${t.r.peerIp}${t.r.userAgent ? ` with User-Agent ${t.r.userAgent}` : ''}`)),
  ].slice(0, 3);
  const how = sure.some((t) => t.match === 'own') ? 'its own key' : `its address and User-Agent (no other bouncer at ${b.ipAddress} has that product)`;
  evidence.push(`tied to it by ${how}: from ${sources.join('; ')}`);
  // Where the refused key lives, when CrowdSec's database has it: the likeliest story, said first.
  evidence.unshift(...crowdsecRegisteredEvidence(sure.map((t) => t.r)));
  evidence.push(
    b.kind === 'firewall'
      ? 'a firewall bouncer keeps the rules it had: new bans are not applied'
      : `a live-mode bouncer lets every client through when the Local API refuses it (fails open); a stream-mode one keeps stale decisions. Silent for ${formatGoDuration(Math.round((f.lastRefusedAt - f.lastSuccess) / 1000) * 1000)} of successful requests so far`,
  );
  return { cause: 'fail_open', confidence: 'high', evidence };
}

/** The issue's summary line for a bouncer failing open. */
export function failOpenSummary(b: BouncerHealthInput, v: FailOpenVerdict): string {
  const label = b.type ? `bouncer '${b.name}' (${b.type})` : `bouncer '${b.name}'`;
  const what =
    b.kind === 'firewall'
      ? 'it is blocked from updates (its rules go stale)'
      : 'it is failing open (a live-mode bouncer lets every client through) or blocked from updates';
  return `${label}: every request since ${formatRfc3339(v.lastSuccess)} was refused (${v.refused}, the latest at ${formatRfc3339(v.lastRefusedAt)}) and none succeeded: ${what}.`;
}
