import { StringDecoder } from 'node:string_decoder';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import type { Context, Hono, MiddlewareHandler } from 'hono';
import type { Logger } from 'pino';
import type { Machine } from '../../core/model/records.ts';
import type { WatcherApiConfig } from '../../config/watcher-config.ts';
import type { DecisionSync } from '../../decisions/decision-sync.ts';
import type { Clock } from '../../lib/clock.ts';
import { VigilError } from '../../lib/errors.ts';
import { requestPeer } from '../client-address.ts';
import { fairTurn } from '../../lib/turns.ts';
import { TrustedProxies } from '../../remediation/client-ip.ts';
import type { Store } from '../../store/store.ts';
import type { ActivityRecorder } from '../activity.ts';
import type { ClientCertSource } from '../client-cert.ts';
import type { Env } from '../lapi.ts';
import { JWT_REALM, machineOfToken, PasswordChecks, tokenOf, type MachineTokens } from '../machine-auth.ts';
import { AlertParser } from './alert-parser.ts';
import { BigBodies, HeavyRequests } from './heavy-requests.ts';

/**
 * What every watcher handler needs (CrowdSec's controllers/v1 `Controller`): the store, the clock,
 * the tokens, the configuration, the log, the answers they share, and the machine middleware.
 */
export interface WatcherDeps {
  store: Store;
  clock: Clock;
  sync: DecisionSync;
  activity: ActivityRecorder;
  tokens: MachineTokens;
  config: WatcherApiConfig;
  log: Logger;
  passwords?: PasswordChecks;
  /** On a TLS listener: a client certificate with an allowed OU logs an agent in as `CN@ip`. */
  clientCerts?: ClientCertSource;
}

/** The Hono environment of a watcher route: after {@link WatcherContext.machine}, the machine and the time it was let in. */
export type WatcherEnv = Env & { Variables: { machine: Machine; now: number } };
export type WatcherApp = Hono<WatcherEnv>;

const JSON_TYPE = 'application/json; charset=utf-8';
export const MAX_MACHINE_ID = 255;
const gunzipAsync = promisify(gunzip);
// CrowdSec compares with exactly 127.0.0.1 and ::1 (not all of 127/8) for alert deletes and remote registration.
const LOOPBACK = new TrustedProxies(['127.0.0.1', '::1']);

/** The client's address: the socket's peer, or who a trusted balancer said it is (client-address.ts). */
export const peerOf = (c: Context<WatcherEnv>): string => requestPeer(c.env?.incoming);
export const isLoopback = (peer: string): boolean => LOOPBACK.hasText(peer);

/** A JSON answer; a string body is sent as is (already JSON). */
export function json(c: Context, body: unknown, status: number, headers: Record<string, string> = {}): Response {
  return c.body(typeof body === 'string' ? body : JSON.stringify(body), status as 200, { 'Content-Type': JSON_TYPE, ...headers });
}

/** gin-jwt's 401. */
export function unauthorized(c: Context, message: string): Response {
  return json(c, { code: 401, message }, 401, { 'Www-Authenticate': JWT_REALM });
}

export { goJsonError } from './go-json-error.ts';

/** Bytes of a body decoded between two turns of the event loop. */
const DECODE_SLICE = 2 * 1024 * 1024;

/** UTF-8 bytes as text, {@link DECODE_SLICE} at a time: one toString of 30 MB holds the loop for tens of ms. */
async function decodeInTurns(chunks: readonly Buffer[]): Promise<string> {
  if (chunks.length === 1 && chunks[0]!.length <= DECODE_SLICE) return chunks[0]!.toString('utf8');
  const decoder = new StringDecoder('utf8');
  let text = '';
  let sinceTurn = 0;
  for (const chunk of chunks) {
    for (let i = 0; i < chunk.length; i += DECODE_SLICE) {
      const part = chunk.subarray(i, i + DECODE_SLICE);
      text += decoder.write(part);
      sinceTurn += part.length;
      if (sinceTurn < DECODE_SLICE) continue;
      sinceTurn = 0;
      await fairTurn();
    }
  }
  return text + decoder.end();
}

/**
 * The body's bytes as sent, in the chunks the guard kept (a big one is never joined into one
 * Buffer: body-guard.ts keepBody), or the one Buffer it read.
 */
export async function bodyChunks(c: Context): Promise<readonly Buffer[]> {
  const incoming = (c.env as { incoming?: { rawBody?: Buffer; bodyChunks?: readonly Buffer[] } } | undefined)?.incoming;
  if (incoming?.bodyChunks) return incoming.bodyChunks;
  // The guard's buffer as is (c.req.arrayBuffer() would copy it once more).
  return [incoming?.rawBody ?? Buffer.from(await c.req.arrayBuffer())];
}

/**
 * The body, inflated when gzip, under `cap` bytes once inflated. The bytes as sent were already
 * capped by the listener's body guard (the route table's caps, routes.ts), so only the
 * inflated size is checked here.
 */
export async function bodyText(c: Context, cap: number): Promise<string> {
  const chunks = await bodyChunks(c);
  if (!/gzip/i.test(c.req.header('content-encoding') ?? '')) return decodeInTurns(chunks);
  try {
    return await decodeInTurns([await gunzipAsync(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks), { maxOutputLength: cap })]);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE')
      throw new VigilError('E_BODY_TOO_LARGE', `body: larger than ${cap} bytes once decompressed`);
    throw new VigilError('E_BAD_BODY', 'body: Content-Encoding says gzip but the body is not valid gzip');
  }
}

export class WatcherContext {
  readonly store: Store;
  readonly clock: Clock;
  readonly sync: DecisionSync;
  readonly tokens: MachineTokens;
  readonly config: WatcherApiConfig;
  readonly log: Logger;
  readonly passwords: PasswordChecks;
  readonly clientCerts: ClientCertSource | undefined;
  /** config.trusted_ips: besides loopback, who may delete alerts. */
  readonly trusted: TrustedProxies;
  /** Where auto-registration is accepted from. */
  readonly registrationRanges: TrustedProxies;
  /** Alerts pushes, searches and deletes in flight, per machine. */
  readonly heavy = new HeavyRequests();
  /** Big alert pushes in turn, all machines together. */
  readonly bigBodies = new BigBodies();
  /** Big alert pushes parsed and checked off the event loop (a worker thread, started on the first). */
  readonly alertParser = new AlertParser();
  readonly #activity: ActivityRecorder;

  constructor(deps: WatcherDeps) {
    this.store = deps.store;
    this.clock = deps.clock;
    this.sync = deps.sync;
    this.tokens = deps.tokens;
    this.config = deps.config;
    this.log = deps.log;
    this.passwords = deps.passwords ?? new PasswordChecks();
    this.clientCerts = deps.clientCerts;
    this.trusted = new TrustedProxies(deps.config.trustedIps);
    this.registrationRanges = new TrustedProxies(deps.config.autoRegistration.allowedRanges);
    this.#activity = deps.activity;
  }

  /** Records a refused request (the dashboard's and the health engine's trace of it). */
  refused(c: Context<WatcherEnv>, reason: string, machineId: string): void {
    this.#activity.refused({
      at: this.clock.now(),
      peerIp: peerOf(c),
      userAgent: c.req.header('user-agent') ?? '',
      method: c.req.method,
      path: c.req.path,
      reason,
      keyFingerprint: '',
      bouncerName: machineId.slice(0, MAX_MACHINE_ID),
    });
  }

  /**
   * CrowdSec's jwtMiddleware: lets the request on with the machine its JWT names (`c.get('machine')`)
   * and the time (`c.get('now')`); answers 401 as gin-jwt does otherwise.
   */
  readonly machine: MiddlewareHandler<WatcherEnv> = async (c, next) => {
    const token = tokenOf(c);
    if (token === undefined) return unauthorized(c, 'cookie token is empty');
    const checked = await this.tokens.check(token);
    if (!checked.ok) {
      this.refused(c, checked.reason, '');
      return unauthorized(c, checked.message);
    }
    const m = await machineOfToken(this.store, checked.machineId);
    if (!m) {
      // Deleted or invalidated since the token was issued: the agent logs in again on a 401.
      this.refused(c, 'jwt:invalid', checked.machineId);
      return unauthorized(c, 'incorrect Username or Password');
    }
    c.set('machine', m);
    c.set('now', this.clock.now());
    await next();
  };
}
