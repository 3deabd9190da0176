// The likely causes of one bouncer's silence, with their evidence: refused keys, wrong paths, a
// Local API restart, never pulled, or a plain stop (with what its neighbours on the host did).
import { formatRfc3339 } from '../../lib/duration.ts';
import { crowdsecRegisteredEvidence } from './crowdsec-registered.ts';
import type { RefusedSummary } from '../model/records.ts';
import { describeProbe } from '../bouncers/probe.ts';
import { MATCH_CONFIDENCE, userAgentOf, type Attributed } from './attribution.ts';
import { relatedRequests, type EvidenceIndex, type Related } from './evidence-index.ts';
import type { BouncerHealthInput, LikelyCause } from './types.ts';
import { lapiRestartCause } from './lapi-restart-cause.ts';

export { roundToSecond } from './lapi-restart-cause.ts';

/** A silence that began this close before a LAPI restart is blamed on the restart. */
const RESTART_WINDOW_MIN_MS = 2 * 60_000;

const CONFIDENCE_RANK: Record<LikelyCause['confidence'], number> = { high: 0, medium: 1, low: 2 };

/**
 * Other bouncers on this bouncer's address that pulled after it went silent: the host and the
 * network are up, which points at this bouncer's own process. Undefined when none did.
 */
function neighboursPulling(b: BouncerHealthInput, since: number, idx: EvidenceIndex): string | undefined {
  const others = (idx.pullersByIp.get(b.ipAddress) ?? []).filter((p) => p.name !== b.name && p.lastPullAt > since);
  if (others.length === 0) return undefined;
  const shown = others
    .slice(0, 3)
    .map((p) => `'${p.name}' at ${formatRfc3339(p.lastPullAt)}`)
    .join(', ');
  return `other bouncers on ${b.ipAddress} kept pulling (last: ${shown}): the host and the network are up, so this bouncer's own process is the likely fault`;
}

/** The best confidence among these matches, and a line naming the candidates when the address is shared. */
function confidenceOf(
  b: BouncerHealthInput,
  matches: Array<{ r: RefusedSummary; match: Attributed }>,
  idx: EvidenceIndex,
): { confidence: LikelyCause['confidence']; shared?: string } {
  let confidence: LikelyCause['confidence'] = 'low';
  for (const m of matches) if (CONFIDENCE_RANK[MATCH_CONFIDENCE[m.match]] < CONFIDENCE_RANK[confidence]) confidence = MATCH_CONFIDENCE[m.match];
  if (confidence !== 'low') return { confidence };
  const names = idx.bouncersByIp.get(b.ipAddress) ?? [];
  const shown =
    names
      .slice(0, 5)
      .map((n) => `'${n}'`)
      .join(', ') + (names.length > 5 ? `, and ${names.length - 5} more` : '');
  return {
    confidence,
    shared: `its address ${b.ipAddress} is shared by ${names.length} bouncers (${shown}) and nothing in these requests (key, User-Agent) tells which one sent them: they could come from any of them`,
  };
}

export function likelyCauses(b: BouncerHealthInput, since: number, idx: EvidenceIndex): LikelyCause[] {
  const causes: LikelyCause[] = [];
  const related = relatedRequests(b, since, idx);

  const refused = related.blamed.filter((m) => m.r.reason !== 'wrong-path');
  if (refused.length > 0) {
    const rows = refused.map((m) => m.r);
    const { confidence, shared } = confidenceOf(b, refused, idx);
    const revoked = rows.filter((r) => r.reason === 'revoked' && r.bouncerName === b.name).reduce((n, r) => n + r.count, 0);
    const fingerprints = new Set(rows.map((r) => r.keyFingerprint).filter(Boolean));
    const total = rows.reduce((n, r) => n + r.count, 0);
    const evidence = describeRequests(rows, 'refused');
    if (revoked > 0) evidence.unshift(`its own key was refused ${revoked} time(s) because the bouncer is revoked`);
    if (fingerprints.size === 1 && total > 1 && rows.every((r) => !r.severalKeys))
      evidence.push('every refused request carried the same key: a stale or mistyped key in its configuration');
    if (rows.some((r) => r.reason === 'missing')) evidence.push('some requests carried no X-Api-Key header at all: the key is missing from its configuration');
    if (shared) evidence.push(shared);
    evidence.unshift(...crowdsecRegisteredEvidence(rows));
    causes.push({ cause: 'authentication', confidence, evidence });
  }

  const misrouted = related.blamed.filter((m) => m.r.reason === 'wrong-path');
  if (misrouted.length > 0) {
    const rows = misrouted.map((m) => m.r);
    const { confidence, shared } = confidenceOf(b, misrouted, idx);
    const evidence = describeRequests(rows, 'answered 404');
    if (rows.some((r) => r.bouncerName === b.name)) evidence.unshift('they carried its own key');
    evidence.push(`the Local API serves /v1/decisions and /v1/decisions/stream: check api_url (it should look like http://HOST:8080/)`);
    if (shared) evidence.push(shared);
    causes.push({ cause: 'configuration', confidence, evidence });
  }

  if (b.lastPullAt !== null) {
    const silence = { since, cadenceMs: b.pullCadenceMs, minWindowMs: RESTART_WINDOW_MIN_MS };
    const restart = lapiRestartCause(idx.lapiStarts, silence, causes.length, {
      after: "this bouncer's last pull",
      notBack: 'it has not pulled since: it did not reconnect',
    });
    if (restart) causes.push(restart);
  }

  if (b.lastPullAt === null && b.lastUsageMetricsAt === null) {
    causes.push({
      cause: 'never_pulled',
      confidence: causes.length === 0 ? 'high' : 'low',
      evidence: [
        `registered at ${formatRfc3339(b.createdAt)} and never pulled${b.lastRequestAt === null ? ', and no request with its key ever arrived' : ''}: the key was probably never put in the bouncer's configuration, or the bouncer never started`,
      ],
    });
  }

  // Evidence that could be another bouncer's (low confidence) does not rule out a plain stop.
  if (causes.every((c) => c.cause === 'lapi_restart' || c.confidence === 'low') && !causes.some((c) => c.cause === 'never_pulled'))
    causes.push(plainStop(b, since, idx, related, causes));
  // Most likely first; equal confidences keep the order above.
  causes.sort((x, y) => CONFIDENCE_RANK[x.confidence] - CONFIDENCE_RANK[y.confidence]);
  // A check of its key (doctor, curl) since the silence began: shown, so nobody takes it for the bouncer.
  if (b.lastProbe && b.lastProbe.at > since && causes.length > 0) causes[0]!.evidence.push(describeProbe(b.lastProbe));
  return causes;
}

/** A plain stop or a network cut: what was (not) heard since, and where to look. */
function plainStop(b: BouncerHealthInput, since: number, idx: EvidenceIndex, related: Related, causes: LikelyCause[]): LikelyCause {
  const ua = userAgentOf(b);
  const evidence: string[] = [];
  const strong = causes.some((c) => c.confidence !== 'low');
  const lowOnly = causes.length > 0 && !strong;
  if (b.lastRequestAt !== null && b.lastRequestAt > since) {
    evidence.push(`it still makes requests that are not pulls (last ${formatRfc3339(b.lastRequestAt)}): the process runs but does not pull decisions`);
  } else if (!idx.requestsRecorded) {
    evidence.push(
      `no pull since ${formatRfc3339(since)}; refused keys and wrong URLs are not recorded where this was read from (CrowdSec's database keeps none), so they would look the same: check the Local API's log for requests from ${b.ipAddress || 'the bouncer'}`,
    );
  } else if (related.others.length > 0 || lowOnly) {
    evidence.push(`nothing that is surely this bouncer's has arrived since ${formatRfc3339(since)}`);
  } else {
    // Its own traffic only: on a shared host (127.0.0.1) other bouncers' pulls still arrive from its address.
    evidence.push(
      `nothing with its key${ua ? ` or its User-Agent ${ua}` : ''} has arrived since ${formatRfc3339(since)}, and nothing was refused from its address${b.ipAddress ? ` ${b.ipAddress}` : ''}: no refused key, no wrong path`,
    );
  }
  const neighbours = b.ipAddress ? neighboursPulling(b, since, idx) : undefined;
  if (neighbours) evidence.push(neighbours);
  if (related.others.length > 0) {
    const n = related.others.reduce((k, r) => k + r.count, 0);
    const agents = [...new Set(related.others.map((r) => r.userAgent))].slice(0, 3).join(', ');
    evidence.push(
      `${n} refused request(s) from its address ${b.ipAddress} came with other User-Agents (${agents}) and keys that are not its own: another client on that host, not this bouncer`,
    );
  }
  evidence.push(
    b.kind === 'firewall'
      ? 'check that the firewall bouncer service runs and can reach the Local API'
      : 'check that the bouncer service or web-server module runs, is loaded, and can reach the Local API',
  );
  return { cause: 'stopped_or_network', confidence: strong ? 'low' : 'medium', evidence };
}

function describeRequests(list: RefusedSummary[], verb: string): string[] {
  const groups = new Map<string, { n: number; first: number; last: number; r: RefusedSummary }>();
  for (const r of list) {
    const key = `${r.reason}|${r.peerIp}|${r.userAgent}|${r.path}`;
    const g = groups.get(key);
    if (g) {
      g.n += r.count;
      g.last = Math.max(g.last, r.lastAt);
      g.first = Math.min(g.first, r.firstAt);
    } else groups.set(key, { n: r.count, first: r.firstAt, last: r.lastAt, r });
  }
  const reasonText: Record<string, string> = {
    unknown: 'unknown key',
    missing: 'no key',
    revoked: 'revoked key',
    'wrong-path': 'wrong path',
    'too-many-instances': 'new address past limits.max_instances_per_key',
  };
  return [...groups.values()]
    .sort((a, b) => b.n - a.n)
    .slice(0, 5)
    .map(
      ({ n, first, last, r }) =>
        `${n} request(s) ${verb} (${reasonText[r.reason] ?? r.reason}) ${r.method} ${r.path} from ${r.peerIp}` +
        `${r.userAgent ? ` with User-Agent ${r.userAgent}` : ''}, ${n > 1 ? `from ${formatRfc3339(first)} to ${formatRfc3339(last)}` : `at ${formatRfc3339(first)}`}`,
    );
}
