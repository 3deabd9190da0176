import { z } from 'zod';
import { CRITICALITIES, ISSUE_KINDS } from '../../../core/health/types.ts';

const KINDS = ISSUE_KINDS;

/** Keys every channel section accepts: which issues it hears about, and its own reminder interval. */
export const filterKeys = {
  criticality: z.array(z.enum(CRITICALITIES)).optional().meta({ description: 'Only issues of these criticalities; empty or absent: all.' }),
  kinds: z.array(z.enum(KINDS)).optional().meta({ description: 'Only these issue kinds; empty or absent: all.' }),
  bouncers: z
    .array(z.string().min(1))
    .optional()
    .meta({ description: 'Only issues of these bouncers (`*` matches any run of characters); fleet-level issues are then left out.' }),
  remind_every: z
    .string()
    .meta({ format: 'duration' })
    .optional()
    .meta({ description: "This channel's reminder interval instead of notifications.remind_every." }),
};
