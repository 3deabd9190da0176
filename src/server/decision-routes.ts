import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Store } from '../store/store.ts';
import type { Decision } from '../core/model/records.ts';
import { errorAnswer } from '../lib/http-errors.ts';
import type { DecisionSync } from '../decisions/decision-sync.ts';
import { lookupLive } from '../core/decisions/live-lookup.ts';
import { longestPerValue, matchesStream, parseLiveQueryString, parseStreamQuery } from '../core/decisions/query.ts';
import { decisionsJson, streamBodyChunks, streamJson } from '../core/decisions/wire.ts';
import { startupBodyChunks, startupBodyJson, type StartupBody } from '../core/decisions/startup-body.ts';
import { StartupBodies } from '../decisions/startup-bodies.ts';
import { ChunkBuffers, writeChunks } from './chunked-write.ts';
import type { ActivityRecorder } from './activity.ts';
import { gateRequestOf, type BouncerGate, type GateRequest, type GateResult } from './bouncer-gate.ts';
import type { LapiMetrics } from './metrics.ts';
import { isStoreDown, type StoreHealth } from './store-health.ts';
import type { ClientCertSource } from './client-cert.ts';
import { decisionsChangedSince } from '../store/decisions.ts';
import { ownPullReads, sharedPullReads, type PullReads } from './shared-reads.ts';
import { FAST_ROUTES } from './routes.ts';
import { DEFAULT_RETENTION, expiredSentSince } from '../core/retention/plan.ts';

export interface DecisionRoutesDeps {
  store: Store;
  sync: DecisionSync;
  activity: ActivityRecorder;
  gate: BouncerGate;
  log: Logger;
  metrics?: LapiMetrics;
  /** Bounds the store calls of a pull; when the store is down, pulls are answered from memory. */
  storeHealth?: StoreHealth;
  /** On a TLS listener: the verdict on a connection's client certificate, used instead of the API key. */
  clientCerts?: ClientCertSource;
  /** `flush.max_age`: expired decisions are sent under `deleted` for this long after they expire (then purged). */
  expiredKeptMs?: number;
}

/** A request handler that takes the request (true) or leaves it to the next one (false). */
export type RawRoute = (req: IncomingMessage, res: ServerResponse) => boolean;

const JSON_TYPE = 'application/json; charset=utf-8';
const FORBIDDEN = '{"message":"access forbidden"}';
/** Deltas re-send deletions from 2 s before the last pull, as CrowdSec does (docs/reference/crowdsec-wire-protocol.md §4). */
const DELETED_OVERLAP_MS = 2_000;
/** Bodies up to this many decisions go out in one write with a Content-Length; larger ones chunked, as Go does. */
const DECISIONS_PER_CHUNK = 2000;
/** A larger body is built and written this many decisions per turn of the event loop (about a millisecond). */
const DECISIONS_PER_TURN = 500;
/** A shared startup body is written this many decisions per turn (copies of serialized bytes: well under a millisecond). */
const STARTUP_DECISIONS_PER_TURN = 2000;
/** A delta this large waits for its turn before it is computed (a few ms of work). */
const LARGE_DELTA = 1000;

/**
 * Large stream bodies take turns: one piece per turn of the event loop for all of them together.
 * Fifty firewall bouncers pulling a 10k-decision delta at once is half a million decisions to
 * write; taking turns keeps every small answer (a live query, a short delta) behind at most one
 * piece instead of behind all of them.
 */
class Turns {
  #waiting: Array<() => void> = [];
  #scheduled = false;

  next(): Promise<void> {
    return new Promise((resolve) => {
      this.#waiting.push(resolve);
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    // An immediate queued from an immediate runs on the next turn: incoming requests are read in between.
    setImmediate(() => {
      this.#scheduled = false;
      const run = this.#waiting.shift();
      if (this.#waiting.length > 0) this.#schedule();
      run?.();
    });
  }
}

/**
 * The route table's fast paths (routes.ts: `GET`/`HEAD /v1/decisions` and `/v1/decisions/stream`),
 * the routes every bouncer hits many times a second, served straight on node:http: one parse of the
 * URL, one write of the answer. Everything else (wrong methods, trailing slash, 404s, usage
 * metrics, admin) goes to the Hono app. The wire
 * behaviour is CrowdSec 1.4.6's (docs/reference/crowdsec-wire-protocol.md §4, §7), checked by test/lapi.test.ts and golden tests.
 */
export function createDecisionRoutes(deps: DecisionRoutesDeps): RawRoute {
  const { sync, activity, gate, log, metrics, clientCerts } = deps;
  const streams = streamContext(deps);
  const { turns } = streams;
  const reply = responder(metrics);
  const { count, send } = reply;

  async function handle(
    req: IncomingMessage,
    res: ServerResponse,
    route: string,
    pull: Pull,
    search: string,
    gateReq: GateRequest,
    known: GateResult | undefined,
  ) {
    const admitted = known ?? (await gate.admit(gateReq, pull));
    if (answer(reply, sync, req, res, route, pull, search, admitted) || !admitted.ok) return;
    const { bouncer: b, at } = admitted;
    const q = parseStreamQuery(new URLSearchParams(search));
    const { rev, added, deleted, shared } = await streamChanges(streams, q, activity.cursor(b), at);
    gate.pulled(admitted, gateReq, rev, {
      scopes: q.scopes,
      origins: q.origins,
      scenariosContaining: q.scenariosContaining,
      scenariosNotContaining: q.scenariosNotContaining,
      dedup: q.dedup,
    });

    if (shared !== undefined) return await writeStartup(reply, turns, req, res, route, shared, at);
    if (added.length + deleted.length <= DECISIONS_PER_CHUNK) {
      // A string on V8's heap: 10k bouncers' startups of a few kB each are young garbage, where
      // buffers of their own (outside the heap) raised the peak RSS by 100 MB (bench:pull-load).
      send(req, res, route, 200, streamJson(deleted, added, at));
      return;
    }
    // A large startup: write it as it is built, and wait when the client reads slower than we write.
    res.writeHead(200, { 'Content-Type': JSON_TYPE });
    count(route, req.method!, 200);
    await writeChunks(res, streamBodyChunks(deleted, added, at, DECISIONS_PER_TURN), () => turns.next());
  }

  function fail(req: IncomingMessage, res: ServerResponse, route: string, err: unknown) {
    if (res.headersSent) {
      log.error({ err }, 'stream response failed midway');
      res.destroy();
      return;
    }
    // The same table as every Hono app (lib/http-errors.ts): 503 while the store is down, 400 for input.
    const answer = errorAnswer(err, log);
    send(req, res, route, answer.status, answer.body);
  }

  return (req, res) => {
    const method = req.method!;
    const url = req.url ?? '';
    const mark = url.indexOf('?');
    const path = mark < 0 ? url : url.slice(0, mark);
    const route = FAST_ROUTES.get(path);
    if (route === undefined || !route.methods.includes(method)) return false;
    const pull = route.fast;
    const search = mark < 0 ? '' : url.slice(mark + 1);
    const gateReq = gateRequestOf(req, method, path, clientCerts);
    try {
      // A bouncer whose key was checked within the last second is answered synchronously, in the
      // request's own tick, as a plain node:http handler would: no promise, no extra turn.
      const known = gate.admitNow(gateReq, pull);
      if (known !== undefined && answer(reply, sync, req, res, path, pull, search, known)) return true;
      handle(req, res, path, pull, search, gateReq, known).catch((err: unknown) => fail(req, res, path, err));
    } catch (err) {
      fail(req, res, path, err);
    }
    return true;
  };
}

type Pull = 'live' | 'stream';

interface Responder {
  count(route: string, method: string, status: number): void;
  send(req: IncomingMessage, res: ServerResponse, route: string, status: number, body: string, contentType?: string): void;
}

function responder(metrics: LapiMetrics | undefined): Responder {
  // One counter child per (route, method, status), looked up by a string: no label hashing per request.
  const counted = new Map<string, { inc(): void }>();
  function count(route: string, method: string, status: number): void {
    if (!metrics) return;
    const key = route + method + status;
    let child = counted.get(key);
    if (child === undefined) counted.set(key, (child = metrics.requests.labels(route, method, String(status))));
    child.inc();
  }

  function send(req: IncomingMessage, res: ServerResponse, route: string, status: number, body: string, contentType = JSON_TYPE) {
    res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
    count(route, req.method!, status);
  }
  return { count, send };
}

/** A shared startup body at `at`: small ones in one write with a Content-Length, large ones chunked with back-pressure. */
async function writeStartup(
  { count, send }: Responder,
  turns: Turns,
  req: IncomingMessage,
  res: ServerResponse,
  route: string,
  body: StartupBody,
  at: number,
): Promise<void> {
  if (body.count <= DECISIONS_PER_CHUNK) {
    send(req, res, route, 200, startupBodyJson(body, at));
    return;
  }
  res.writeHead(200, { 'Content-Type': JSON_TYPE });
  count(route, req.method!, 200);
  // One piece in memory per stream: the next is formatted only once the socket took the last.
  const buffers = new ChunkBuffers();
  await writeChunks(res, startupBodyChunks(body, at, STARTUP_DECISIONS_PER_TURN, buffers.alloc), () => turns.next(), buffers);
}

/**
 * Answers a refused key, a HEAD and a live query; returns false for a stream GET (which reads
 * the store and answers asynchronously).
 */
function answer(
  { count, send }: Responder,
  sync: DecisionSync,
  req: IncomingMessage,
  res: ServerResponse,
  route: string,
  pull: Pull,
  search: string,
  admitted: GateResult,
): boolean {
  const method = req.method!;
  if (!admitted.ok) {
    // Same status and body for missing, unknown and revoked keys, as CrowdSec (docs/reference/crowdsec-wire-protocol.md §7.3).
    if (method === 'HEAD') {
      res.writeHead(403, { 'Content-Type': JSON_TYPE, 'Content-Length': '30' });
      res.end();
      count(route, method, 403);
    } else send(req, res, route, 403, FORBIDDEN);
    return true;
  }
  if (method === 'HEAD') {
    // 200 text/plain, no body, no Content-Length (docs/reference/crowdsec-wire-protocol.md §4).
    res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end();
    count(route, method, 200);
    return true;
  }
  if (pull === 'live') {
    const at = admitted.at;
    send(req, res, route, 200, decisionsJson(lookupLive(sync.index, parseLiveQueryString(search), at), at));
    return true;
  }
  return false;
}

/**
 * What a stream pull gets: the whole active set at startup, else what changed since its cursor;
 * from memory while the store is down. Filtered by its query (scopes, origins, scenarios, dedup).
 */
/** What a stream pull's answer is computed with, built once per listener. */
function streamContext(deps: DecisionRoutesDeps): StreamContext {
  const { store, sync, storeHealth } = deps;
  const call = <T>(fn: () => Promise<T>): Promise<T> => (storeHealth ? storeHealth.call(fn) : fn());
  const callBulk = <T>(fn: () => Promise<T>): Promise<T> => (storeHealth ? storeHealth.callBulk(fn) : fn());
  const expiredKeptMs = deps.expiredKeptMs ?? DEFAULT_RETENTION.maxAgeMs;
  // PostgreSQL: pulls in flight share their reads (a round trip each otherwise); SQLite answers at once.
  const reads = store.dialect === 'postgres' ? sharedPullReads(store, call) : ownPullReads(store, call);
  // Startup bodies built once per revision and filters and shared (decisions/startup-bodies.ts).
  const startupBodies = new StartupBodies(sync, store, { expiredKeptMs });
  return { store, sync, call, callBulk, reads, turns: new Turns(), expiredKeptMs, startupBodies };
}

/** What a stream pull's answer is computed with (one per listener). */
interface StreamContext {
  store: Store;
  sync: DecisionSync;
  call: <T>(fn: () => Promise<T>) => Promise<T>;
  /** For the startup body's expired decisions: a large read, bounded by a longer deadline. */
  callBulk: <T>(fn: () => Promise<T>) => Promise<T>;
  reads: PullReads;
  turns: Turns;
  expiredKeptMs: number;
  startupBodies: StartupBodies;
}

async function streamChanges(
  ctx: StreamContext,
  q: ReturnType<typeof parseStreamQuery>,
  cursor: ReturnType<ActivityRecorder['cursor']>,
  at: number,
): Promise<{ rev: number; added: Decision[]; deleted: Decision[]; shared?: StartupBody }> {
  const { store, sync, call, reads, turns, expiredKeptMs } = ctx;
  let shared: StartupBody | undefined;
  let rev: number;
  let added: Decision[];
  let deleted: Decision[];
  const startup = q.startup || cursor.lastPullRev === null || cursor.lastPullAt === null;
  try {
    if (startup) {
      // The whole active set from memory, first brought up to the store's revision (one cheap
      // query) so a startup is as fresh as a database read; the cursor is the revision the index
      // reflects, so anything committed since reaches the bouncer in its next delta. The body is
      // built once per revision and filters and shared; its `deleted` holds the expired decisions
      // within the retention window (docs/retention.md).
      if ((await reads.decisionsRev()) !== sync.rev) await call(() => sync.refresh());
      rev = sync.rev;
      shared = await ctx.startupBodies.get(q, rev, at, ctx.callBulk);
      added = [];
      deleted = [];
    } else {
      // Read the revision first: anything committed after it is sent next time (perhaps twice, never lost).
      rev = await reads.decisionsRev();
      // At the store's revision, the index's recent changes are what the store would return.
      let changed = sync.changesSince(cursor.lastPullRev!, rev);
      if (changed === undefined) changed = await call(() => decisionsChangedSince(store, cursor.lastPullRev!));
      else if (changed.length > LARGE_DELTA) await turns.next();
      added = changed.filter((d) => d.until > at);
      const since = Math.max(cursor.lastPullAt! - DELETED_OVERLAP_MS, expiredSentSince(at, { maxAgeMs: expiredKeptMs }));
      const expired = await reads.expiredSince(at, since);
      const seen = new Set(expired.map((d) => d.id));
      deleted = expired.concat(changed.filter((d) => d.until <= at && !seen.has(d.id)));
      added.sort(byUntilThenId);
      deleted.sort(byUntilThenId);
    }
  } catch (e) {
    if (!isStoreDown(e)) throw e;
    // The store is down or slow: answer from memory. A startup gets the index's active set; a
    // delta gets nothing new and keeps its cursor, so the first delta after recovery sends
    // everything that changed meanwhile. Expired decisions the bouncer drops by their duration.
    rev = startup ? sync.rev : cursor.lastPullRev!;
    added = startup ? sync.index.active(at) : [];
    deleted = [];
  }
  if (shared !== undefined) return { rev, added, deleted, shared };
  if (q.dedup) {
    // A startup's candidates hold every active decision already: no lookups needed.
    const longest = longestPerValue(added.concat(deleted), startup ? () => [] : (v) => sync.index.byValue(v, at));
    added = added.filter((d) => longest.has(d));
    deleted = deleted.filter((d) => longest.has(d));
  }
  added = added.filter((d) => !d.simulated && matchesStream(d, q));
  deleted = deleted.filter((d) => !d.simulated && matchesStream(d, q));
  return { rev, added, deleted };
}

function byUntilThenId(a: Decision, b: Decision): number {
  return a.until - b.until || a.id - b.id;
}
