import { z } from 'zod';
import { formatGoDuration, parseDuration } from '../lib/duration.ts';
import { VigilError } from '../lib/errors.ts';
import { DEFAULT_RETENTION, MIN_HISTORY_MAX_AGE_MS, type RetentionSettings } from '../core/retention/plan.ts';

/**
 * `flush:` in vigil.yaml: how long the store keeps what it no longer needs (docs/retention.md).
 * `max_age` and `max_items` are CrowdSec's `db_config.flush` keys, with the values of CrowdSec's
 * shipped config.yaml; the rest is Vigil's own.
 */
const duration = z.string().meta({ format: 'duration' });
const DAY_MS = 24 * 3600_000;
const days = (ms: number) => (ms % DAY_MS === 0 ? `${ms / DAY_MS}d` : formatGoDuration(ms));

/** CrowdSec runs its flush every minute (pkg/database/flush.go). */
export const DEFAULT_FLUSH_EVERY_MS = 60_000;

export interface FlushConfig extends RetentionSettings {
  /** How often the purge runs. */
  everyMs: number;
}

export const DEFAULT_FLUSH: FlushConfig = { ...DEFAULT_RETENTION, everyMs: DEFAULT_FLUSH_EVERY_MS };

export const flushFileSchema = z
  .object({
    max_age: duration.optional().meta({
      description:
        "CrowdSec's `flush.max_age`: a decision expired longer ago is deleted (until then a startup stream sends it under `deleted`), and an alert created longer ago once none of its decisions is left.",
      default: days(DEFAULT_RETENTION.maxAgeMs),
    }),
    max_items: z
      .number()
      .int()
      .min(1)
      .optional()
      .meta({
        description: "CrowdSec's `flush.max_items`: alerts beyond the newest N are deleted once none of their decisions is left.",
        default: String(DEFAULT_RETENTION.maxItems),
      }),
    history_max_age: duration.optional().meta({
      description:
        "Resolved health issues (with their acknowledgements) and bouncers' address and version changes are kept this long; at least 7d, what the health engine looks back at.",
      default: days(DEFAULT_RETENTION.historyMaxAgeMs),
    }),
    every: duration.optional().meta({
      description: 'How often the purge runs (on one replica at a time, 1,000 rows per transaction).',
      default: '1m',
    }),
  })
  .strict();

export type FlushFileSection = z.infer<typeof flushFileSchema>;

/** The `flush:` block with its defaults; a bad value fails naming the key and the fix. */
export function loadFlushConfig(f: FlushFileSection | undefined, usedFile: string | null): FlushConfig {
  const where = (key: string) => `${usedFile ? `${usedFile}: ` : ''}flush.${key}`;
  const dur = (key: string, text: string | undefined, fallback: number) => (text === undefined ? fallback : parseDuration(text, where(key)));
  const out: FlushConfig = {
    maxAgeMs: dur('max_age', f?.max_age, DEFAULT_FLUSH.maxAgeMs),
    maxItems: f?.max_items ?? DEFAULT_FLUSH.maxItems,
    historyMaxAgeMs: dur('history_max_age', f?.history_max_age, DEFAULT_FLUSH.historyMaxAgeMs),
    everyMs: dur('every', f?.every, DEFAULT_FLUSH.everyMs),
  };
  if (out.maxAgeMs <= 0) throw new VigilError('E_CONFIG', `${where('max_age')}: must be more than 0 (CrowdSec ships 7d)`);
  if (out.everyMs <= 0) throw new VigilError('E_CONFIG', `${where('every')}: must be more than 0 (e.g. 1m)`);
  if (out.historyMaxAgeMs < MIN_HISTORY_MAX_AGE_MS) {
    throw new VigilError('E_CONFIG', `${where('history_max_age')}: at least 7d (the health engine looks back a week), e.g. 30d`);
  }
  return out;
}
