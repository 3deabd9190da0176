import type { Criticality, IssueKind, LikelyCause } from '../health/types.ts';

/** What the evaluator said about an issue at its last evaluation. */
export interface IssueEvidence {
  /** The ranked causes, most likely first (empty for fleet-level issues). */
  readonly causes: readonly LikelyCause[];
  readonly notes: readonly string[];
}

/** A persisted health issue: one row per opening, kept after it resolves (the flip history). */
export interface HealthIssue {
  readonly id: number;
  readonly kind: IssueKind;
  readonly criticality: Criticality;
  readonly subject: string;
  readonly bouncerName: string | null;
  readonly openedAt: number;
  readonly lastSeenAt: number;
  readonly resolvedAt: number | null;
  readonly since: number;
  readonly summary: string;
  /** The ranked causes and notes as the evaluator produced them at the last evaluation. */
  readonly evidence: IssueEvidence;
}

export type NewHealthIssue = Omit<HealthIssue, 'id' | 'lastSeenAt' | 'resolvedAt'>;
