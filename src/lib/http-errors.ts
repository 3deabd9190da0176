import type { Env, Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Logger } from 'pino';
import { isVigilError, type VigilErrorCode } from './errors.ts';
import { DISK_FULL_MESSAGE, isDiskFull } from './disk-full.ts';

/**
 * The HTTP edge's one table: the status each error code answers with. A code not listed is the
 * client's input (400); anything that is not a VigilError is ours (500, logged, never shown).
 */
export const HTTP_STATUS_BY_CODE: Partial<Record<VigilErrorCode, ContentfulStatusCode>> = {
  E_NO_ISSUE: 404,
  E_NO_BOUNCER: 404,
  E_NO_MACHINE: 404,
  E_NO_SILENCE: 404,
  E_ISSUE_RESOLVED: 409,
  E_SILENCE_ENDED: 409,
  E_BOUNCER_EXISTS: 409,
  E_MACHINE_EXISTS: 409,
  E_KEY_IN_USE: 409,
  E_TOO_LONG: 400,
  // A body over its cap once gunzipped (a gzip bomb): the same 413 as one over its cap as sent.
  E_BODY_TOO_LARGE: 413,
  // An unknown key while the store is down: retry shortly, never "access forbidden".
  E_STORE_DOWN: 503,
  // The store's file was deleted or replaced under the server: nothing is acknowledged until a restart.
  E_STORE_LOST: 503,
  // No space for the write: 507 Insufficient Storage, nothing written, retry once space is freed.
  E_STORE_FULL: 507,
};

/** The status and `{"message": …}` body CrowdSec clients expect for an error, or null for a bug of ours. */
export function httpErrorOf(err: unknown): { status: ContentfulStatusCode; body: string } | null {
  if (isDiskFull(err)) return { status: 507, body: JSON.stringify({ message: DISK_FULL_MESSAGE }) };
  // A SQLite store that refuses writes: lost under the server (store-health.ts), or a file vigil may not write.
  if ((err as { code?: unknown } | null)?.code === 'SQLITE_READONLY') return { status: 503, body: STORE_READ_ONLY };
  if (!isVigilError(err)) return null;
  return { status: HTTP_STATUS_BY_CODE[err.code] ?? 400, body: JSON.stringify({ message: err.message }) };
}

const INTERNAL = JSON.stringify({ message: 'internal error' });
const STORE_READ_ONLY = JSON.stringify({
  message: 'store read-only: nothing was written; its file was deleted or replaced under the server (see /health and the log) or is not writable by vigil',
});

/** Installs the one error handler on a Hono app (Local API, admin API, dashboard): caught here only. */
export function installErrorHandler<E extends Env>(app: Hono<E>, log: Logger, what: string): void {
  app.onError((err, c) => {
    const known = httpErrorOf(err);
    if (known) return c.body(known.body, known.status, { 'Content-Type': 'application/json; charset=utf-8' });
    log.error({ err }, `${what} request failed`);
    return c.body(INTERNAL, 500, { 'Content-Type': 'application/json; charset=utf-8' });
  });
}

/** The same answer for the node:http hot path (decision routes), which does not run through Hono. */
export function errorAnswer(err: unknown, log: Logger): { status: number; body: string } {
  const known = httpErrorOf(err);
  if (known) return known;
  log.error({ err }, 'request failed');
  return { status: 500, body: INTERNAL };
}
