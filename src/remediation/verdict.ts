/** What the bouncer answers, and the request it answers about: the types its adapters and the forward-auth daemon share. */
import type { IncomingHttpHeaders } from 'node:http';
import type { Decision } from '../core/model/records.ts';
import type { Remediation } from './decision-cache.ts';
import { wantsJson } from './pages.ts';

export type VerdictReason = 'none' | 'decision' | 'lapi_unavailable' | 'invalid_address';

/** What the bouncer decided for one address. */
export interface Verdict {
  remediation: Remediation;
  reason: VerdictReason;
  /** The decision applied, when reason is `decision`. */
  decision?: Decision;
}

export const ALLOW: Verdict = Object.freeze({ remediation: 'bypass', reason: 'none' });
export const INVALID: Verdict = Object.freeze({ remediation: 'ban', reason: 'invalid_address' });

/** A request as the adapters see it. */
export interface RequestView {
  method: string;
  /** Path and query as this server received them. */
  url: string;
  /** Lower-case names, as node:http gives them. */
  headers: IncomingHttpHeaders;
  /** The TCP peer's address. */
  peer: string;
  /** The connection to us is TLS. */
  secure?: boolean;
}

/**
 * How a request is being asked about:
 * - `middleware`: in the application; allowed requests go on to it.
 * - `forward-auth`: a proxy asks (nginx auth_request, Traefik forwardAuth, Caddy forward_auth); the
 *   original URI is in X-Forwarded-Uri or X-Original-URI; allowed = 200 with no body.
 * - `render`: nginx redirected a 401/403 here to show the page; nothing to allow.
 */
export type HandleMode = 'middleware' | 'forward-auth' | 'render';

export type Outcome =
  | { action: 'allow'; ip: string; verdict: Verdict }
  | { action: 'respond'; ip: string | null; verdict: Verdict | null; status: number; headers: Record<string, string>; body: string };

export type PushResult = 'sent' | 'unsupported' | 'failed' | 'disabled';

export const first = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);
/** Whether the client asked for JSON (read only when a remediation is rendered). */
export const acceptsJson = (req: RequestView): boolean => wantsJson(first(req.headers.accept));

export const isPromise = <T>(x: T | Promise<T>): x is Promise<T> => typeof (x as Promise<T>)?.then === 'function';
