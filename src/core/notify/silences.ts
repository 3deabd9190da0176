import type { HealthIssue } from '../model/health-issue.ts';

/** A silence: no open and no reminder for the issue (or every issue of the bouncer) until it ends. */
export interface Silence {
  id: number;
  /** Exactly one of issueId and bouncerName is set. */
  issueId: number | null;
  bouncerName: string | null;
  reason: string;
  createdBy: string;
  createdAt: number;
  endsAt: number;
  /** Set when removed before its end (`vigil issues unsilence`). */
  removedAt: number | null;
}

/** An operator saw the issue: no more reminders for it. A new opening is a new issue, so this ends with it. */
export interface Acknowledgement {
  issueId: number;
  reason: string;
  createdBy: string;
  createdAt: number;
}

export function silenceActive(s: Silence, now: number): boolean {
  return s.removedAt === null && s.endsAt > now && s.createdAt <= now;
}

export function silencing(issue: Pick<HealthIssue, 'id' | 'bouncerName'>, silences: Silence[], now: number): Silence | undefined {
  return silences.find((s) => silenceActive(s, now) && (s.issueId === issue.id || (s.bouncerName !== null && s.bouncerName === issue.bouncerName)));
}
