import { VigilError } from '../lib/errors.ts';
import { parseDuration } from '../lib/duration.ts';
import type { Store } from '../store/store.ts';
import { NotifyStore } from '../store/notify-store.ts';
import { silenceActive, type Acknowledgement, type Silence } from '../core/notify/silences.ts';
import { getBouncer } from '../store/bouncers.ts';
import { healthIssue } from '../store/health-issues.ts';

/** What the CLI and the admin API do for silences and acknowledgements, with the same checks and errors. */

const MAX_SILENCE_MS = 366 * 24 * 3600_000;
const MAX_REASON = 1000;

function checkReason(reason: string | undefined, field: string, required: boolean): string {
  const r = (reason ?? '').trim();
  if (required && r === '')
    throw new VigilError('E_USAGE', `${field}: say why (it is shown to whoever wonders why no notification came), e.g. "planned nginx upgrade"`);
  if (r.length > MAX_REASON) throw new VigilError('E_USAGE', `${field}: at most ${MAX_REASON} characters`);
  return r;
}

function checkFor(text: string | undefined, field: string): number {
  if (text === undefined || text.trim() === '') throw new VigilError('E_USAGE', `${field}: how long, e.g. 8h or 2d`);
  const ms = parseDuration(text, field);
  if (ms > MAX_SILENCE_MS) throw new VigilError('E_USAGE', `${field} "${text}": at most 366d; a silence is for a while, not for ever`);
  return ms;
}

export interface SilenceRequest {
  issueId?: number;
  bouncer?: string;
  for: string | undefined;
  reason: string | undefined;
  createdBy: string;
  now: number;
  /** How the fields are named to the caller (`--for` on the CLI, `for` in JSON). */
  fields?: { for: string; reason: string };
}

export async function createSilence(store: Store, req: SilenceRequest): Promise<Silence> {
  const fields = req.fields ?? { for: 'for', reason: 'reason' };
  const durationMs = checkFor(req.for, fields.for);
  const reason = checkReason(req.reason, fields.reason, true);
  if ((req.issueId === undefined) === (req.bouncer === undefined))
    throw new VigilError('E_USAGE', 'name one issue or one bouncer to silence, not both or neither');
  if (req.issueId !== undefined) {
    const issue = await healthIssue(store, req.issueId);
    if (!issue) throw new VigilError('E_NO_ISSUE', `issue ${req.issueId} doesn't exist (see: vigil issues list)`);
    if (issue.resolvedAt !== null) {
      const hint = issue.bouncerName ? `; to hold back its next openings, silence the bouncer: --bouncer ${issue.bouncerName}` : '';
      throw new VigilError('E_ISSUE_RESOLVED', `issue ${req.issueId} is already resolved${hint}`);
    }
  } else if (!(await getBouncer(store, req.bouncer!))) {
    throw new VigilError('E_NO_BOUNCER', `bouncer '${req.bouncer}' doesn't exist (see: vigil bouncers list)`);
  }
  return await new NotifyStore(store).createSilence({
    issueId: req.issueId ?? null,
    bouncerName: req.bouncer ?? null,
    reason,
    createdBy: req.createdBy,
    createdAt: req.now,
    endsAt: req.now + durationMs,
  });
}

export async function acknowledgeIssue(
  store: Store,
  req: { issueId: number; reason: string | undefined; createdBy: string; now: number },
): Promise<{ ack: Acknowledgement; created: boolean }> {
  const reason = checkReason(req.reason, 'reason', false);
  const issue = await healthIssue(store, req.issueId);
  if (!issue) throw new VigilError('E_NO_ISSUE', `issue ${req.issueId} doesn't exist (see: vigil issues list)`);
  if (issue.resolvedAt !== null) throw new VigilError('E_ISSUE_RESOLVED', `issue ${req.issueId} is already resolved; nothing to acknowledge`);
  return await new NotifyStore(store).acknowledge({ issueId: req.issueId, reason, createdBy: req.createdBy, createdAt: req.now });
}

/** A silence as the admin API and `-o json` show it. */
export function silenceJson(s: Silence, now: number) {
  return {
    id: s.id,
    issueId: s.issueId,
    bouncer: s.bouncerName,
    reason: s.reason,
    createdBy: s.createdBy,
    createdAt: new Date(s.createdAt).toISOString(),
    endsAt: new Date(s.endsAt).toISOString(),
    removedAt: s.removedAt === null ? null : new Date(s.removedAt).toISOString(),
    active: silenceActive(s, now),
  };
}

export function ackJson(a: Acknowledgement) {
  return { issueId: a.issueId, reason: a.reason, createdBy: a.createdBy, createdAt: new Date(a.createdAt).toISOString() };
}
