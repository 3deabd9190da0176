import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BouncerGate } from './bouncer-gate.ts';
import { foldPeerAddress } from '../lib/ip.ts';
import { USAGE_METRICS_MAX_BYTES } from './usage-metrics.ts';
import { isStoreDown } from './store-health.ts';
import { BODY_CAPS } from '../config/listener-limits.ts';

/**
 * Request bodies on the Local API listener: capped per route, never read for a refused key, and
 * never drained. A body left unread when the answer goes out closes the connection, so an upload
 * that never ends costs one answer, not a socket that keeps reading (issue 15).
 */

/** The largest body a route may receive, in bytes (measured as sent; gzip is capped again once inflated). */
export function bodyCapFor(path: string): number {
  if (path === '/v1/usage-metrics') return USAGE_METRICS_MAX_BYTES;
  if (path === '/ui/login') return BODY_CAPS.login;
  if (path === '/v1/alerts') return BODY_CAPS.alerts;
  if (PRE_LOGIN_PATHS.has(path)) return BODY_CAPS.watcherLogin;
  if (WATCHER_BODY_PATHS.has(path)) return BODY_CAPS.watcher;
  if (path === '/ui' || path.startsWith('/ui/') || path === '/admin/v1' || path.startsWith('/admin/v1/')) return BODY_CAPS.admin;
  return BODY_CAPS.other;
}

const JSON_TYPE = 'application/json; charset=utf-8';

function tooLarge(path: string, cap: number): string {
  if (path === '/v1/usage-metrics') return JSON.stringify({ message: `body: larger than ${cap} bytes; send one report per push` });
  return JSON.stringify({ message: `body: larger than ${cap} bytes (the limit for ${path.slice(0, 64)})` });
}
const FORBIDDEN = '{"message":"access forbidden"}';
/** After the answer, how long a half-closed connection with an unread body may linger before it is destroyed. */
const UNREAD_LINGER_MS = 1_000;
/** ... and how much of the unread body is read and dropped meanwhile. */
const UNREAD_DROP_BYTES = 64 * 1024;

function hasBody(req: IncomingMessage): boolean {
  const te = req.headers['transfer-encoding'];
  if (te !== undefined) return true;
  const cl = req.headers['content-length'];
  return cl !== undefined && cl !== '0';
}

/** Closes the connection once the answer is out when the body was not (entirely) read. */
function closeWhenUnread(req: IncomingMessage, res: ServerResponse): void {
  const writeHead = res.writeHead;
  res.writeHead = function (this: ServerResponse, ...args: Parameters<ServerResponse['writeHead']>) {
    if (!req.complete) this.shouldKeepAlive = false;
    return writeHead.apply(this, args);
  } as ServerResponse['writeHead'];
  res.once('finish', () => {
    if (req.complete) return;
    const socket = req.socket;
    // As Go's net/http: FIN after the answer so the client can read it, a little more of the body
    // read and dropped (closing with unread data would reset the connection), then closed.
    socket.end();
    let dropped = 0;
    req.on('data', (chunk: Buffer) => {
      dropped += chunk.length;
      if (dropped > UNREAD_DROP_BYTES) socket.destroy();
    });
    setTimeout(() => socket.destroy(), UNREAD_LINGER_MS).unref();
  });
}

function refuse(req: IncomingMessage, res: ServerResponse, status: 400 | 403 | 413, body: string): void {
  closeWhenUnread(req, res);
  res.writeHead(status, { 'Content-Type': JSON_TYPE, 'Content-Length': Buffer.byteLength(body), Connection: 'close' });
  res.end(body);
}

/** Watcher routes that read a body besides /v1/alerts (server/watcher/). */
const WATCHER_BODY_PATHS = new Set(['/v1/watchers', '/v1/watchers/login', '/v1/allowlists/check']);
/** Those a machine sends before it has a token. */
const PRE_LOGIN_PATHS = new Set(['/v1/watchers', '/v1/watchers/login']);

/** Paths whose handlers read a body; anywhere else (404, 405) the body is never read. */
function readsBody(path: string): boolean {
  return (
    path === '/v1/usage-metrics' ||
    path === '/v1/alerts' ||
    WATCHER_BODY_PATHS.has(path) ||
    path === '/ui' ||
    path.startsWith('/ui/') ||
    path === '/admin/v1' ||
    path.startsWith('/admin/v1/')
  );
}

/** The body, read here under the cap: the Hono app then finds it in `rawBody` (@hono/node-server) and never streams the socket. */
function readCapped(req: IncomingMessage, cap: number): Promise<Buffer | 'too_large' | 'gone'> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (v: Buffer | 'too_large' | 'gone') => {
      req.off('data', onData).off('end', onEnd).off('close', onClose).off('error', onClose);
      resolve(v);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > cap) {
        req.pause();
        return done('too_large');
      }
      chunks.push(chunk);
    };
    const onEnd = () => done(Buffer.concat(chunks, size));
    // The request timeout (limits.request_timeout) or the client ended the connection mid-body.
    const onClose = () => done('gone');
    req.on('data', onData).on('end', onEnd).on('close', onClose).on('error', onClose);
  });
}

/**
 * Runs before the Hono app for every request that carries a body: refuses one declared over its
 * route's cap (413) and a usage-metrics push with a refused key (403) without reading a byte;
 * reads the body itself, under the cap, only for routes that use one (node-server's own reading
 * buffers a whole upload before any route runs); and makes sure an unread body ends the
 * connection. Calls `next` when the request may go on.
 */
export function createBodyGuard(deps: {
  gate: BouncerGate;
  onRefused?: (reason: 'too_large' | 'unauthenticated') => void;
  /** Whether a machine's JWT is valid: an alerts upload (up to 64 MiB) is read only for one. */
  machineToken?: (token: string) => Promise<boolean>;
}) {
  async function read(req: IncomingMessage, res: ServerResponse, path: string, cap: number, next: () => void): Promise<void> {
    const body = await readCapped(req, cap);
    if (body === 'gone') return;
    if (body === 'too_large') {
      deps.onRefused?.('too_large');
      refuse(req, res, 413, tooLarge(path, cap));
      return;
    }
    (req as IncomingMessage & { rawBody?: Buffer }).rawBody = body;
    next();
  }

  return function guard(req: IncomingMessage, res: ServerResponse, next: () => void): void {
    if (!hasBody(req)) {
      next();
      return;
    }
    const url = req.url ?? '';
    const mark = url.indexOf('?');
    const path = mark < 0 ? url : url.slice(0, mark);
    if (req.method === 'DELETE' && (path === '/v1/decisions' || path === '/v1/alerts')) {
      // CrowdSec reads these filters from the query only, so a client that sends them as a body
      // (crowdsec-client 1.0.0's delete({ip})) deletes everything there. Refused: nothing is deleted.
      const what = path === '/v1/decisions' ? 'decision' : 'alert';
      refuse(
        req,
        res,
        400,
        JSON.stringify({
          message: `DELETE ${path}: filters go in the query string (e.g. ${path}?ip=192.0.2.1); a body is not read, and without a filter this would delete every ${what}`,
        }),
      );
      return;
    }
    const cap = bodyCapFor(path);
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > cap) {
      deps.onRefused?.('too_large');
      refuse(req, res, 413, tooLarge(path, cap));
      return;
    }
    closeWhenUnread(req, res);
    const fail = (err: unknown) => {
      if (res.headersSent) return void res.destroy();
      // An unknown key while the store is down: retry later, as on the decision routes.
      const down = isStoreDown(err);
      res.writeHead(down ? 503 : 500, { 'Content-Type': JSON_TYPE, Connection: 'close' });
      res.end(down ? '{"message":"store unavailable: retry shortly"}' : '{"message":"internal error"}');
    };
    // Admin and dashboard routes check credentials before they read: without any, none is read either.
    const anonymous =
      path !== '/ui/login' &&
      path !== '/v1/usage-metrics' &&
      !PRE_LOGIN_PATHS.has(path) &&
      req.headers.authorization === undefined &&
      req.headers.cookie === undefined &&
      !(path === '/v1/alerts' && /[?&]token=/.test(url));
    if (!readsBody(path) || anonymous) {
      // The route answers without a body (404, 405, 401): it gets an empty one, the connection closes after.
      (req as IncomingMessage & { rawBody?: Buffer }).rawBody = Buffer.alloc(0);
      next();
      return;
    }
    if (path === '/v1/alerts' && req.method === 'POST' && deps.machineToken) {
      // The token first, as the key on usage metrics: a bogus one never gets 64 MiB read.
      const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
      const token = m ? m[1]!.trim() : (new URLSearchParams(url.slice(mark + 1)).get('token') ?? '');
      deps
        .machineToken(token)
        .then((ok) => {
          if (ok) return read(req, res, path, cap, next);
          deps.onRefused?.('unauthenticated');
          // The route answers the 401 (gin-jwt's body); the body stays unread.
          (req as IncomingMessage & { rawBody?: Buffer }).rawBody = Buffer.alloc(0);
          next();
        })
        .catch(fail);
      return;
    }
    if (path !== '/v1/usage-metrics' || req.method !== 'POST') return void read(req, res, path, cap, next).catch(fail);
    const key = req.headers['x-api-key'];
    if (!key && (req.headers.authorization !== undefined || /^crowdsec\//.test(req.headers['user-agent'] ?? '')) && deps.machineToken) {
      // An agent's report (JWT): the token first, as the key for a bouncer's.
      const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
      deps
        .machineToken(m ? m[1]!.trim() : '')
        .then((ok) => {
          if (ok) return read(req, res, path, cap, next);
          deps.onRefused?.('unauthenticated');
          // The route answers gin-jwt's 401; the body stays unread.
          (req as IncomingMessage & { rawBody?: Buffer }).rawBody = Buffer.alloc(0);
          next();
        })
        .catch(fail);
      return;
    }
    // The key first: a refused key's body is never read. The gate records the refusal, as on any route.
    deps.gate
      .admit(
        {
          method: 'POST',
          path,
          apiKey: typeof key === 'string' ? key : undefined,
          userAgent: req.headers['user-agent'],
          peer: foldPeerAddress(req.socket.remoteAddress),
        },
        'none',
      )
      .then((admitted) => {
        if (admitted.ok) return read(req, res, path, cap, next);
        deps.onRefused?.('unauthenticated');
        refuse(req, res, 403, FORBIDDEN);
      })
      .catch(fail);
  };
}
