import type { IncomingMessage, ServerResponse } from 'node:http';
import { gateRequestOf, type BouncerGate, type GateResult } from './bouncer-gate.ts';
import { isStoreDown } from './store-health.ts';
import type { ClientCertSource } from './client-cert.ts';
import { bodyCapAt, bodyRouteAt, routeFor, type Route } from './routes.ts';

/**
 * Request bodies on the Local API listener: capped per route, never read for a refused key, and
 * never drained. A body left unread when the answer goes out closes the connection, so an upload
 * that never ends costs one answer, not a socket that keeps reading (issue 15).
 */

const JSON_TYPE = 'application/json; charset=utf-8';

function tooLarge(path: string, route: Route | undefined, cap: number): string {
  // A usage-metrics report is one per push; say so, as the route itself does once inflated.
  if (route?.auth === 'bouncer-key-or-machine-jwt') return JSON.stringify({ message: `body: larger than ${cap} bytes; send one report per push` });
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

/** A body over this many bytes is kept in the chunks it came in: one Buffer.concat of 28 MB held the loop for 30–60 ms. */
const CONCAT_UP_TO = 1024 * 1024;

/** The body, read here under the cap, in the chunks it came in. */
function readCapped(req: IncomingMessage, cap: number): Promise<{ chunks: Buffer[]; size: number } | 'too_large' | 'gone'> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (v: { chunks: Buffer[]; size: number } | 'too_large' | 'gone') => {
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
    const onEnd = () => done({ chunks, size });
    // The request timeout (limits.request_timeout) or the client ended the connection mid-body.
    const onClose = () => done('gone');
    req.on('data', onData).on('end', onEnd).on('close', onClose).on('error', onClose);
  });
}

/**
 * Leaves the body where the Hono app finds it: `rawBody` (@hono/node-server reads it instead of
 * the socket). A big one stays in its chunks (`bodyChunks`, what watcher/context.ts reads) and
 * `rawBody` joins them only if something asks for it.
 */
function keepBody(req: GuardedRequest, chunks: Buffer[], size: number): void {
  if (chunks.length <= 1 || size <= CONCAT_UP_TO) {
    req.rawBody = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
    return;
  }
  req.bodyChunks = chunks;
  let joined: Buffer | undefined;
  Object.defineProperty(req, 'rawBody', {
    configurable: true,
    enumerable: true,
    get: () => (joined ??= Buffer.concat(chunks, size)),
  });
}

/** A request as the guard leaves it for Hono: the body read (or none; a big one also in its chunks), and a bouncer's admission when the guard already asked the gate. */
export type GuardedRequest = IncomingMessage & { rawBody?: Buffer; bodyChunks?: readonly Buffer[]; admitted?: GateResult };

/**
 * Runs before the Hono app for every request that carries a body, by the route table (routes.ts):
 * refuses one declared over its path's cap (413) and a body on a DELETE whose filters go in the
 * query (400); checks the caller before reading (a bouncer's key, a machine's token, an admin's
 * credentials: a refused caller's body is never read); reads the body itself, under the cap, only
 * for routes that use one (node-server's own reading buffers a whole upload before any route
 * runs); and makes sure an unread body ends the connection. Calls `next` when the request may go on.
 */
export function createBodyGuard(deps: BodyGuardDeps) {
  return function guard(req: GuardedRequest, res: ServerResponse, next: () => void): void {
    if (!hasBody(req)) {
      next();
      return;
    }
    const url = req.url ?? '';
    const mark = url.indexOf('?');
    const path = mark < 0 ? url : url.slice(0, mark);
    const method = req.method ?? '';
    const route = routeFor(method, path);
    if (route?.filtersInQuery) {
      refuseFiltersInBody(req, res, path);
      return;
    }
    const capRoute = bodyRouteAt(path);
    const cap = capRoute?.bodyCap ?? bodyCapAt(path);
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > cap) {
      deps.onRefused?.('too_large');
      refuse(req, res, 413, tooLarge(path, capRoute, cap));
      return;
    }
    closeWhenUnread(req, res);
    if (route === undefined || route.bodyCap === null) return void unread(req, next);
    checkCallerThenRead(deps, { req, res, next, route, path, url, mark, method, cap });
  };
}

export interface BodyGuardDeps {
  gate: BouncerGate;
  onRefused?: (reason: 'too_large' | 'unauthenticated') => void;
  /** Whether a machine's JWT is valid: a machine's upload (alerts: up to 64 MiB) is read only for one. */
  machineToken?: (token: string) => Promise<boolean>;
  /** On a TLS listener: client certificates stand for bouncers, as on the decision routes. */
  clientCerts?: ClientCertSource;
}

/** One request with a body on a route that reads one, as the guard parsed it. */
interface BodyRequest {
  req: GuardedRequest;
  res: ServerResponse;
  next: () => void;
  route: Route;
  path: string;
  url: string;
  /** Where the query starts in `url` (-1 without one). */
  mark: number;
  method: string;
  cap: number;
}

/**
 * CrowdSec reads these filters from the query only, so a client that sends them as a body
 * (crowdsec-client 1.0.0's delete({ip})) deletes everything there. Refused: nothing is deleted.
 */
function refuseFiltersInBody(req: IncomingMessage, res: ServerResponse, path: string): void {
  const what = path.slice(path.lastIndexOf('/') + 1).replace(/s$/, '');
  refuse(
    req,
    res,
    400,
    JSON.stringify({
      message: `DELETE ${path}: filters go in the query string (e.g. ${path}?ip=192.0.2.1); a body is not read, and without a filter this would delete every ${what}`,
    }),
  );
}

/** Checks the caller by the route's auth kind, then reads the body; a refused caller's body is never read. */
function checkCallerThenRead(deps: BodyGuardDeps, r: BodyRequest): void {
  const { req, res, next, route, path, url, mark, method } = r;
  const fail = failWith(res);
  const readIt = () => read(deps, r).catch(fail);
  /** A machine's token first: a bogus one never gets its upload read. The route answers gin-jwt's 401. */
  const asMachine = () => {
    const token = machineTokenOf(req, url, mark);
    // Without any credentials there is nothing to check: the route answers 401 as it would.
    if (token === undefined) return void unread(req, next);
    if (!deps.machineToken) return void readIt();
    deps
      .machineToken(token)
      .then((ok) => {
        if (ok) return read(deps, r);
        deps.onRefused?.('unauthenticated');
        unread(req, next);
      })
      .catch(fail);
  };
  switch (route.auth) {
    case 'none':
      return void readIt();
    case 'admin-session':
      // The admin API and the dashboard check credentials before they read: without any, none is read either.
      if (req.headers.authorization === undefined && req.headers.cookie === undefined) return void unread(req, next);
      return void readIt();
    case 'machine-jwt':
      return void asMachine();
    case 'bouncer-key-or-machine-jwt':
      // CrowdSec's eitherAuthMiddleware: no API key and a JWT (or an agent's User-Agent) is an agent.
      if (!req.headers['x-api-key'] && (req.headers.authorization !== undefined || /^crowdsec\//.test(req.headers['user-agent'] ?? '')))
        return void asMachine();
      break;
    case 'bouncer-key':
      break;
  }
  // The key first: a refused key's body is never read. The gate records the request (or the
  // refusal) here, once: the route reuses the admission.
  deps.gate
    .admit(gateRequestOf(req, method, path, deps.clientCerts), 'none')
    .then((admitted) => {
      if (!admitted.ok) {
        deps.onRefused?.('unauthenticated');
        return refuse(req, res, 403, FORBIDDEN);
      }
      req.admitted = admitted;
      return read(deps, r);
    })
    .catch(fail);
}

/** A failure before the route ran: 503 while the store is down (an unknown key: retry later, as on the decision routes), else 500. */
function failWith(res: ServerResponse): (err: unknown) => void {
  return (err) => {
    if (res.headersSent) return void res.destroy();
    const down = isStoreDown(err);
    res.writeHead(down ? 503 : 500, { 'Content-Type': JSON_TYPE, Connection: 'close' });
    res.end(down ? '{"message":"store unavailable: retry shortly"}' : '{"message":"internal error"}');
  };
}

async function read(deps: BodyGuardDeps, { req, res, path, cap, next }: BodyRequest): Promise<void> {
  const body = await readCapped(req, cap);
  if (body === 'gone') return;
  if (body === 'too_large') {
    deps.onRefused?.('too_large');
    refuse(req, res, 413, tooLarge(path, bodyRouteAt(path), cap));
    return;
  }
  keepBody(req, body.chunks, body.size);
  next();
}

/** The route answers without a body (404, 405, 401): it gets an empty one, the connection closes after. */
function unread(req: GuardedRequest, next: () => void): void {
  req.rawBody = Buffer.alloc(0);
  next();
}

/**
 * A machine's token as the watcher routes read it (machine-auth.ts `tokenOf`): `Authorization:
 * Bearer`, `?token=`, or the `jwt` cookie; '' when credentials are there but name no token (refused),
 * undefined without any.
 */
function machineTokenOf(req: IncomingMessage, url: string, mark: number): string | undefined {
  const auth = req.headers.authorization;
  const bearer = auth === undefined ? undefined : /^Bearer (.+)$/.exec(auth)?.[1]?.trim();
  if (bearer) return bearer;
  const query = mark < 0 ? null : new URLSearchParams(url.slice(mark + 1)).get('token');
  if (query) return query;
  const cookie = req.headers.cookie;
  const jwt = cookie === undefined ? undefined : /(?:^|;\s*)jwt=([^;]+)/.exec(cookie)?.[1];
  if (jwt) return jwt;
  return auth !== undefined || cookie !== undefined || query !== null ? '' : undefined;
}
