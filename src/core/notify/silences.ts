import type { HealthIssue } from '../model/health-issue.ts';
import type { Bouncer } from '../model/records.ts';
import { resolveKind } from '../health/bouncer-kind.ts';
import { globToRegExp } from './glob.ts';
import { windowAt, type Schedule } from './schedule.ts';

/**
 * What a silence or a maintenance window matches. Every field that is set must match (so
 * `--bouncer 'edge-*' --kind rc_integration_offline` holds only edge bouncers' offline issues); at least one is set.
 */
export interface SilenceMatch {
  issueId: number | null;
  /** A bouncer name or glob (`edge-*`, `fw-?`). */
  bouncerName: string | null;
  /** An issue kind, e.g. `rc_integration_offline`. */
  kind: string | null;
  /** A machine (agent) name or glob, for machine issues (`machine:<name>`). */
  machineName: string | null;
  /** Labels of the issue (see issueLabels), each value a name or glob. */
  labels: Record<string, string> | null;
}

/** A silence: no open, no update and no reminder for the issues it matches from its start until it ends. */
export interface Silence extends SilenceMatch {
  id: number;
  reason: string;
  createdBy: string;
  createdAt: number;
  /** When it starts holding (createdAt unless a future start was given). */
  startsAt: number;
  endsAt: number;
  /** Set when removed before its end (`vigil issues unsilence`). */
  removedAt: number | null;
  /** Set: it holds only inside this recurring window (between startsAt and endsAt). */
  schedule: Schedule | null;
}

/** An operator saw the issue: no more reminders for it. A new opening is a new issue, so this ends with it. */
export interface Acknowledgement {
  issueId: number;
  reason: string;
  createdBy: string;
  createdAt: number;
}

/** The labels a silence can match (`--label bouncer_type=crowdsec-firewall-bouncer`). */
export const LABEL_NAMES = ['kind', 'criticality', 'bouncer', 'machine', 'bouncer_type', 'bouncer_kind'] as const;

/** The issue's machine name, for `machine:<name>` issues. */
function machineOf(issue: Pick<HealthIssue, 'subject'>): string | null {
  return issue.subject.startsWith('machine:') ? issue.subject.slice('machine:'.length) : null;
}

/** An issue's labels; the bouncer's (its User-Agent type and resolved kind) when the bouncer is known. */
export function issueLabels(
  issue: Pick<HealthIssue, 'kind' | 'criticality' | 'bouncerName' | 'subject'>,
  bouncer?: Pick<Bouncer, 'type' | 'kindOverride'>,
): Record<string, string> {
  const labels: Record<string, string> = { kind: issue.kind, criticality: issue.criticality };
  if (issue.bouncerName) labels.bouncer = issue.bouncerName;
  const machine = machineOf(issue);
  if (machine) labels.machine = machine;
  if (bouncer) {
    if (bouncer.type) labels.bouncer_type = bouncer.type;
    labels.bouncer_kind = resolveKind(bouncer.type, bouncer.kindOverride);
  }
  return labels;
}

const compiled = new Map<string, RegExp>();
function globMatches(glob: string, value: string | null | undefined): boolean {
  if (value === null || value === undefined) return false;
  let re = compiled.get(glob);
  if (!re) {
    if (compiled.size > 1000) compiled.clear();
    compiled.set(glob, (re = globToRegExp(glob)));
  }
  return re.test(value);
}

/** What a silence looks at in an issue. */
export type SilencedIssue = Pick<HealthIssue, 'id' | 'kind' | 'criticality' | 'bouncerName' | 'subject'>;

/** Whether the match takes the issue (every field set agrees). */
export function matchesIssue(m: SilenceMatch, issue: SilencedIssue, labels?: Record<string, string>): boolean {
  if (m.issueId !== null && m.issueId !== issue.id) return false;
  if (m.kind !== null && m.kind !== issue.kind) return false;
  if (m.bouncerName !== null && !globMatches(m.bouncerName, issue.bouncerName)) return false;
  if (m.machineName !== null && !globMatches(m.machineName, machineOf(issue))) return false;
  if (m.labels !== null) {
    const have = labels ?? issueLabels(issue);
    for (const [k, v] of Object.entries(m.labels)) if (!globMatches(v, have[k])) return false;
  }
  return true;
}

/** Holding now: started, not ended nor removed, and (recurring) inside one of its windows. */
export function silenceActive(s: Silence, now: number): boolean {
  if (s.removedAt !== null || s.endsAt <= now || s.startsAt > now) return false;
  return s.schedule === null || windowAt(s.schedule, now) !== null;
}

/** The first silence holding the issue now, if any. `labelsOf` gives the issue's labels (with its bouncer's). */
export function silencing<I extends SilencedIssue>(
  issue: I,
  silences: Silence[],
  now: number,
  labelsOf?: (issue: I) => Record<string, string>,
): Silence | undefined {
  return silences.find((s) => silenceActive(s, now) && matchesIssue(s, issue, s.labels !== null && labelsOf ? labelsOf(issue) : undefined));
}

/** Whether a silence names anything to match (a silence of everything is refused: stop the channel instead). */
export function matchesSomething(m: SilenceMatch): boolean {
  return m.issueId !== null || m.bouncerName !== null || m.kind !== null || m.machineName !== null || (m.labels !== null && Object.keys(m.labels).length > 0);
}
