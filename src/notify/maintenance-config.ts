import { z } from 'zod';
import { VigilError } from '../lib/errors.ts';
import { parseDuration } from '../lib/duration.ts';
import { checkSchedule } from '../core/notify/schedule.ts';
import { LABEL_NAMES, type Silence } from '../core/notify/silences.ts';
import { ISSUE_CATALOGUE } from '../core/health/types.ts';

/** One `notifications.maintenance:` entry of vigil.yaml. */
export const maintenanceWindowSchema = z
  .object({
    name: z.string().meta({ description: 'Shown as the reason in `vigil issues show` and the dashboard, e.g. `nightly nftables reload`.' }),
    every: z.union([z.string(), z.array(z.string())]).meta({ description: '`day` (every day), or the days the window opens: `sun`, `[sat, sun]`, `monday`.' }),
    at: z.string().meta({ description: 'When the window opens, `HH:MM` on the wall clock of `timezone`.' }),
    lasting: z.string().meta({ format: 'duration', description: 'How long each window lasts, e.g. `30m` (real time, also across a DST change; at most 7d).' }),
    timezone: z.string().optional().meta({ description: 'IANA time zone of `at`, e.g. `Europe/Paris`.', default: 'UTC' }),
    bouncer: z.string().optional().meta({ description: "Only these bouncers' issues: a name or a glob (`edge-*`, `fw-?`)." }),
    kind: z.string().optional().meta({ description: 'Only issues of this kind, e.g. `rc_integration_offline`.' }),
    machine: z.string().optional().meta({ description: "Only this machine's (agent's) issues: a name or a glob." }),
    labels: z
      .record(z.string(), z.string())
      .optional()
      .meta({ description: `Only issues with these labels (each value a name or glob): ${LABEL_NAMES.join(', ')}.` }),
  })
  .strict();

export type MaintenanceWindowSection = z.infer<typeof maintenanceWindowSchema>;

/**
 * The windows as silences that never end, holding only inside their schedule: the planner treats
 * them as it treats `vigil issues silence --every` (ids are negative, so never confused with a stored one).
 */
export function loadMaintenanceWindows(sections: MaintenanceWindowSection[] | undefined, where: string): Silence[] {
  return (sections ?? []).map((w, i) => {
    const at = (key: string) => `${where}.maintenance[${i}].${key}`;
    if (w.name.trim() === '') throw new VigilError('E_CONFIG', `${at('name')}: say what the window is for, e.g. nightly nftables reload`);
    if (w.kind !== undefined && !(w.kind in ISSUE_CATALOGUE))
      throw new VigilError('E_CONFIG', `${at('kind')} "${w.kind}": not an issue kind; one of ${Object.keys(ISSUE_CATALOGUE).join(', ')}`);
    for (const name of Object.keys(w.labels ?? {}))
      if (!(LABEL_NAMES as readonly string[]).includes(name))
        throw new VigilError('E_CONFIG', `${at('labels')}.${name}: not a label; use ${LABEL_NAMES.join(', ')}`);
    const every = typeof w.every === 'string' ? w.every.split(',') : w.every;
    const days = every.length === 1 && every[0]!.trim().toLowerCase() === 'day' ? [] : every;
    const schedule = checkSchedule({ at: w.at, lastingMs: parseDuration(w.lasting, at('lasting')), days, timeZone: w.timezone ?? 'UTC' }, (key) =>
      at(key === 'days' ? 'every' : key),
    );
    return {
      id: -(i + 1),
      issueId: null,
      bouncerName: w.bouncer ?? null,
      kind: w.kind ?? null,
      machineName: w.machine ?? null,
      labels: w.labels && Object.keys(w.labels).length > 0 ? w.labels : null,
      reason: `maintenance window: ${w.name}`,
      createdBy: 'vigil.yaml',
      createdAt: 0,
      startsAt: 0,
      endsAt: Number.MAX_SAFE_INTEGER,
      removedAt: null,
      schedule,
    };
  });
}
