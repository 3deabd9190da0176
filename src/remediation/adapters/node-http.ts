/**
 * node:http adapters: a connect-style middleware `(req, res, next)` (node:http, Connect, Express,
 * Polka…) and a wrapper for a plain request listener. The bouncer decides; this only translates.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Bouncer, Outcome, RequestView } from '../bouncer.ts';

export type NextFunction = (err?: unknown) => void;
export type ConnectMiddleware = (req: IncomingMessage, res: ServerResponse, next: NextFunction) => void;

/** The request as the bouncer sees it. */
export function requestView(req: IncomingMessage): RequestView {
  return {
    method: req.method ?? 'GET',
    // Express rewrites req.url inside mounted routers; originalUrl is what the client asked for.
    url: (req as IncomingMessage & { originalUrl?: string }).originalUrl ?? req.url ?? '/',
    headers: req.headers,
    peer: req.socket?.remoteAddress ?? '',
    secure: (req.socket as TLSSocket | undefined)?.encrypted === true,
  };
}

/** Writes a remediation (ban page, captcha page, captcha redirect). */
export function writeOutcome(req: IncomingMessage, res: ServerResponse, o: Extract<Outcome, { action: 'respond' }>): void {
  res.writeHead(o.status, { ...o.headers, 'Content-Length': String(Buffer.byteLength(o.body)) });
  res.end(req.method === 'HEAD' ? undefined : o.body);
}

const isPromise = <T>(x: T | Promise<T>): x is Promise<T> => typeof (x as Promise<T>)?.then === 'function';

/** Connect-style middleware: allowed requests call `next()`, the others get their remediation. */
export function nodeMiddleware(bouncer: Bouncer): ConnectMiddleware {
  return (req, res, next) => {
    let out: Outcome | Promise<Outcome>;
    try {
      out = bouncer.handle(requestView(req));
    } catch (e) {
      next(e);
      return;
    }
    // The usual answer is synchronous: no closure per request for it.
    if (!isPromise(out)) applyOutcome(req, res, out, next);
    else out.then((o) => applyOutcome(req, res, o, next), next);
  };
}

function applyOutcome(req: IncomingMessage, res: ServerResponse, o: Outcome, next: NextFunction): void {
  if (o.action === 'allow') next();
  else writeOutcome(req, res, o);
}

/** `http.createServer(withBouncer(bouncer, app))`: the listener runs only for allowed requests. */
export function withBouncer(bouncer: Bouncer, listener: RequestListener): RequestListener {
  const failed = (res: ServerResponse) => {
    // The bouncer itself failed: say so and answer 500 rather than let the request through silently.
    if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('internal error\n');
  };
  const settle = (req: IncomingMessage, res: ServerResponse, o: Outcome) => {
    if (o.action === 'allow') listener(req, res);
    else writeOutcome(req, res, o);
  };
  return (req, res) => {
    let out: Outcome | Promise<Outcome>;
    try {
      out = bouncer.handle(requestView(req));
    } catch {
      failed(res);
      return;
    }
    if (!isPromise(out)) settle(req, res, out);
    else
      out.then(
        (o) => settle(req, res, o),
        () => failed(res),
      );
  };
}
