import type { IncomingAlert } from '../../core/alerts/payload.ts';

/** What the server sends the alert parser's worker, per push (`id`). */
export type ToParser =
  | { id: number; kind: 'bytes'; bytes: Uint8Array }
  | { id: number; kind: 'end'; gzip: boolean; cap: number }
  | { id: number; kind: 'next' }
  | { id: number; kind: 'drop' };

/** What the worker answers. */
export type ToServer =
  /** Checked: `count` alerts wait to be asked for. */
  | { id: number; kind: 'parsed'; count: number }
  /** The body is not JSON (400) or not what CrowdSec takes (payload.ts's status and words). */
  | { id: number; kind: 'refused'; status: 400 | 413 | 500; message: string }
  /** gzip that does not inflate, or inflates past the cap: context.ts bodyText's errors. */
  | { id: number; kind: 'failed'; code: 'E_BODY_TOO_LARGE' | 'E_BAD_BODY' }
  | { id: number; kind: 'alerts'; alerts: IncomingAlert[] }
  | { id: number; kind: 'crashed'; message: string };
