/** A persisted health issue: one row per opening, kept after it resolves (the flip history). */
export interface HealthIssue {
  id: number;
  kind: string;
  criticality: string;
  subject: string;
  bouncerName: string | null;
  openedAt: number;
  lastSeenAt: number;
  resolvedAt: number | null;
  since: number;
  summary: string;
  /** The ranked causes and notes as the evaluator produced them at the last evaluation. */
  evidence: { causes: unknown[]; notes: string[] };
}

export type NewHealthIssue = Omit<HealthIssue, 'id' | 'lastSeenAt' | 'resolvedAt'>;
