import { z } from 'zod';
import { ISSUE_CATALOGUE, type Criticality, type IssueKind } from '../../../core/health/types.ts';

const CRITICALITIES = ['critical', 'high', 'warning', 'recommended'] as const satisfies readonly Criticality[];
const KINDS = Object.keys(ISSUE_CATALOGUE) as [IssueKind, ...IssueKind[]];

/** Keys every channel section accepts: which issues it hears about, and its own reminder interval. */
export const filterKeys = {
  criticality: z.array(z.enum(CRITICALITIES)).optional(),
  kinds: z.array(z.enum(KINDS)).optional(),
  bouncers: z.array(z.string().min(1)).optional(),
  remind_every: z.string().optional(),
};
