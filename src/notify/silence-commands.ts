import { VigilError } from '../lib/errors.ts';
import { formatGoDuration, parseDuration } from '../lib/duration.ts';
import type { Store } from '../store/store.ts';
import { NotifyStore } from '../store/notify-store.ts';
import { LABEL_NAMES, matchesSomething, silenceActive, type Acknowledgement, type Silence } from '../core/notify/silences.ts';
import { checkSchedule, windowAt, nextWindow } from '../core/notify/schedule.ts';
import { isGlob } from '../core/notify/glob.ts';
import { ISSUE_CATALOGUE } from '../core/health/types.ts';
import { getMachine } from '../store/machines.ts';
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
  /** A bouncer name or glob (`edge-*`). */
  bouncer?: string;
  kind?: string;
  /** A machine name or glob. */
  machine?: string;
  /** `name=glob` pairs (LABEL_NAMES). */
  labels?: string[];
  /** A future start: an RFC 3339 time, or a duration from now (`in`); neither: now. */
  start?: string;
  in?: string;
  /** Holds only inside this recurring window (between its start and its end). */
  every?: { at: string; lasting: string; days: string[]; timeZone: string };
  for: string | undefined;
  reason: string | undefined;
  createdBy: string;
  now: number;
  /** How the fields are named to the caller (`--for` on the CLI, `for` in JSON). */
  fields?: Partial<Record<'for' | 'reason' | 'start' | 'in' | 'label' | 'kind' | 'every', string>>;
}

const FIELD_NAMES = { for: 'for', reason: 'reason', start: 'start', in: 'in', label: 'labels', kind: 'kind', every: 'every' };

export async function createSilence(store: Store, req: SilenceRequest): Promise<Silence> {
  const fields = { ...FIELD_NAMES, ...req.fields };
  const durationMs = checkFor(req.for, fields.for);
  const reason = checkReason(req.reason, fields.reason, true);
  const startsAt = checkStart(req, fields);
  const match = {
    issueId: req.issueId ?? null,
    bouncerName: blankToNull(req.bouncer),
    kind: blankToNull(req.kind),
    machineName: blankToNull(req.machine),
    labels: checkLabels(req.labels ?? [], fields.label),
  };
  if (!matchesSomething(match))
    throw new VigilError('E_USAGE', 'say what to silence: an issue id, a bouncer (name or glob, e.g. edge-*), a kind, a machine or a label');
  if (match.issueId !== null && matchesSomething({ ...match, issueId: null }))
    throw new VigilError('E_USAGE', 'an issue id silences that one issue: give it alone, not both it and a bouncer, kind, machine or label');
  if (match.kind !== null && !(match.kind in ISSUE_CATALOGUE))
    throw new VigilError('E_USAGE', `${fields.kind} "${match.kind}": not an issue kind; one of ${Object.keys(ISSUE_CATALOGUE).join(', ')}`);
  if (match.issueId !== null) {
    const issue = await healthIssue(store, match.issueId);
    if (!issue) throw new VigilError('E_NO_ISSUE', `issue ${match.issueId} doesn't exist (see: vigil issues list)`);
    if (issue.resolvedAt !== null) {
      const hint = issue.bouncerName ? `; to hold back its next openings, silence the bouncer: --bouncer ${issue.bouncerName}` : '';
      throw new VigilError('E_ISSUE_RESOLVED', `issue ${match.issueId} is already resolved${hint}`);
    }
  }
  // An exact name must exist (a typo would silence nothing); a glob may match bouncers added later.
  if (match.bouncerName !== null && !isGlob(match.bouncerName) && !(await getBouncer(store, match.bouncerName))) {
    throw new VigilError(
      'E_NO_BOUNCER',
      `bouncer '${match.bouncerName}' doesn't exist (see: vigil bouncers list; a glob such as 'edge-*' matches later ones too)`,
    );
  }
  if (match.machineName !== null && !isGlob(match.machineName) && !(await getMachine(store, match.machineName))) {
    throw new VigilError('E_USAGE', `machine '${match.machineName}' doesn't exist (see: vigil machines list; a glob such as 'agent-*' matches later ones too)`);
  }
  const schedule = req.every
    ? checkSchedule(
        { at: req.every.at, lastingMs: parseDuration(req.every.lasting, `${fields.every} lasting`), days: req.every.days, timeZone: req.every.timeZone },
        (key) => `${fields.every} ${key}`,
        'E_USAGE',
      )
    : null;
  return await new NotifyStore(store).createSilence({
    ...match,
    reason,
    createdBy: req.createdBy,
    createdAt: req.now,
    startsAt,
    endsAt: startsAt + durationMs,
    schedule,
  });
}

const blankToNull = (v: string | undefined) => (v === undefined || v.trim() === '' ? null : v.trim());

function checkStart(req: SilenceRequest, fields: typeof FIELD_NAMES): number {
  if (req.start !== undefined && req.in !== undefined) throw new VigilError('E_USAGE', `${fields.start} or ${fields.in}, not both`);
  let at = req.now;
  if (req.in !== undefined) at = req.now + parseDuration(req.in, fields.in);
  if (req.start !== undefined) {
    // RFC 3339 with a zone, so "02:00" is never read in the server's local time by accident.
    if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/i.test(req.start) || Number.isNaN(Date.parse(req.start)))
      throw new VigilError('E_USAGE', `${fields.start} "${req.start}": an RFC 3339 time with its zone, e.g. 2026-12-08T02:00:00Z or 2026-12-08T02:00:00+01:00`);
    at = Date.parse(req.start);
    if (at < req.now) throw new VigilError('E_USAGE', `${fields.start} "${req.start}" is in the past; leave it out to start now`);
  }
  if (at - req.now > MAX_SILENCE_MS) throw new VigilError('E_USAGE', `${fields.start}: at most 366d ahead`);
  return at;
}

function checkLabels(pairs: string[], field: string): Record<string, string> | null {
  if (pairs.length === 0) return null;
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    const name = eq < 0 ? '' : pair.slice(0, eq).trim();
    const value = eq < 0 ? '' : pair.slice(eq + 1).trim();
    if (!(LABEL_NAMES as readonly string[]).includes(name) || value === '')
      throw new VigilError('E_USAGE', `${field} "${pair}": NAME=VALUE with NAME one of ${LABEL_NAMES.join(', ')}, e.g. bouncer_type=crowdsec-firewall-bouncer`);
    out[name] = value;
  }
  return out;
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
    kind: s.kind,
    machine: s.machineName,
    labels: s.labels,
    reason: s.reason,
    createdBy: s.createdBy,
    createdAt: new Date(s.createdAt).toISOString(),
    startsAt: new Date(s.startsAt).toISOString(),
    endsAt: new Date(s.endsAt).toISOString(),
    removedAt: s.removedAt === null ? null : new Date(s.removedAt).toISOString(),
    every: s.schedule,
    active: silenceActive(s, now),
    nextWindowAt: nextHold(s, now),
  };
}

/** What a silence holds, in words: `bouncer edge-* · kind rc_integration_offline · nightly 02:00 Europe/Paris for 30m`. */
export function silenceTarget(s: Silence): string {
  const parts: string[] = [];
  if (s.issueId !== null) parts.push(`issue ${s.issueId}`);
  if (s.bouncerName !== null) parts.push(`bouncer ${s.bouncerName}`);
  if (s.kind !== null) parts.push(`kind ${s.kind}`);
  if (s.machineName !== null) parts.push(`machine ${s.machineName}`);
  for (const [k, v] of Object.entries(s.labels ?? {})) parts.push(`${k}=${v}`);
  if (s.schedule !== null) {
    const days = s.schedule.days.length === 0 ? 'every day' : s.schedule.days.join(',');
    parts.push(`${days} ${s.schedule.at} ${s.schedule.timeZone} for ${formatGoDuration(s.schedule.lastingMs)}`);
  }
  return parts.join(' · ');
}

/** When the silence next starts holding (its start, or its next window), or null when it holds now or never again. */
export function nextHold(s: Silence, now: number): string | null {
  if (s.removedAt !== null || s.endsAt <= now || silenceActive(s, now)) return null;
  const from = Math.max(now, s.startsAt);
  if (s.schedule === null) return new Date(from).toISOString();
  const w = windowAt(s.schedule, from) ?? nextWindow(s.schedule, from);
  const start = Math.max(w.start, from);
  return start < s.endsAt ? new Date(start).toISOString() : null;
}

export function ackJson(a: Acknowledgement) {
  return { issueId: a.issueId, reason: a.reason, createdBy: a.createdBy, createdAt: new Date(a.createdAt).toISOString() };
}
