import { timingSafeEqual } from 'node:crypto';
import { Hono, type Context } from 'hono';
import type { ClientCertVerdict } from '../../core/tls/client-cert.ts';
import { BODY_CAPS } from '../../config/listener-limits.ts';
import { isVigilError } from '../../lib/errors.ts';
import { hashMachinePassword } from '../../lib/password.ts';
import { countPendingMachines, createMachine, deleteExpiredPending, deleteMachines, getMachine, recordLogin } from '../../store/machines.ts';
import { JWT_REALM, machineOfToken, tokenOf } from '../machine-auth.ts';
import {
  bodyText,
  goJsonError,
  isLoopback,
  json,
  MAX_MACHINE_ID,
  peerOf,
  unauthorized,
  type WatcherApp,
  type WatcherContext,
  type WatcherEnv,
} from './context.ts';

/**
 * A machine's identity (CrowdSec's controllers/v1/machines.go and gin-jwt's login and refresh):
 * login by password or client certificate, token refresh, registration and self-delete.
 */

/** bcrypt reads only the first 72 bytes: a longer password is refused rather than silently cut. */
const MAX_PASSWORD_BYTES = 72;

export function loginRoutes(ctx: WatcherContext): WatcherApp {
  const app = new Hono<WatcherEnv>();
  app.post('/v1/watchers/login', (c) => login(ctx, c));
  app.get('/v1/refresh_token', (c) => refreshToken(ctx, c));
  app.post('/v1/watchers', (c) => register(ctx, c));
  app.delete('/v1/watchers/self', ctx.machine, async (c) => {
    await deleteMachines(ctx.store, [c.get('machine').machineId]);
    return c.body(null, 204);
  });
  return app;
}

/** POST /v1/watchers/login: a password (or, on TLS, a client certificate) for a JWT. */
async function login(ctx: WatcherContext, c: Context<WatcherEnv>): Promise<Response> {
  const { store, clock, tokens, passwords } = ctx;
  let text: string;
  try {
    text = await bodyText(c, BODY_CAPS.watcherLogin);
  } catch (e) {
    if (isVigilError(e)) {
      ctx.refused(c, 'login:bad-input', '');
      return json(c, { code: 401, message: e.message }, e.code === 'E_BODY_TOO_LARGE' ? 413 : 401, { 'Www-Authenticate': JWT_REALM });
    }
    throw e;
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    ctx.refused(c, 'login:bad-input', '');
    return unauthorized(c, `missing: ${goJsonError(text)}`);
  }
  const b = (typeof body === 'object' && body !== null && !Array.isArray(body) ? body : {}) as Record<string, unknown>;
  const socket = c.env?.incoming?.socket;
  const verdict = socket ? ctx.clientCerts?.agent(socket) : undefined;
  if (verdict !== undefined) return loginByCertificate(ctx, c, verdict, b);
  const machineId = b.machine_id;
  const password = b.password;
  const scenarios = b.scenarios;
  const scenariosOk = scenarios === undefined || scenarios === null || (Array.isArray(scenarios) && scenarios.every((s) => typeof s === 'string'));
  if (
    typeof machineId !== 'string' ||
    typeof password !== 'string' ||
    machineId === '' ||
    password === '' ||
    !scenariosOk ||
    machineId.length > MAX_MACHINE_ID
  ) {
    ctx.refused(c, 'login:bad-input', typeof machineId === 'string' ? machineId : '');
    return unauthorized(c, 'input format error');
  }
  // CrowdSec takes the version from `name/version` and refuses any other User-Agent.
  const ua = c.req.header('user-agent') ?? '';
  const uaParts = ua.split('/');
  if (uaParts.length !== 2 || uaParts[0] === '' || uaParts[1] === '') {
    ctx.refused(c, 'login:bad-user-agent', machineId);
    return unauthorized(c, 'incorrect Username or Password');
  }
  const m = await getMachine(store, machineId);
  const ok = Buffer.byteLength(password) <= MAX_PASSWORD_BYTES ? await passwords.verify(password, m) : false;
  if (ok === undefined) {
    // The bcrypt budget is spent: the agent retries; nothing was checked, nothing is recorded.
    return json(c, { code: 429, message: 'too many logins in progress; retry in a few seconds' }, 429, { 'Retry-After': '2' });
  }
  if (!m || !ok || !m.isValidated) {
    ctx.refused(c, !m ? 'login:unknown-machine' : !ok ? 'login:bad-password' : 'login:not-validated', machineId);
    return unauthorized(c, 'incorrect Username or Password');
  }
  const now = clock.now();
  await recordLogin(store, machineId, {
    ipAddress: peerOf(c),
    version: uaParts[1]!.slice(0, 255),
    scenarios: Array.isArray(scenarios) ? (scenarios as string[]).join(',').slice(0, 64 * 1024) : m.scenarios,
    now,
  });
  if (m.ipAddress !== '' && m.ipAddress !== peerOf(c))
    ctx.log.warn({ machine: machineId }, `new IP address detected for machine '${machineId}': ${peerOf(c)} (old: ${m.ipAddress})`);
  const issued = await tokens.issue(machineId);
  return json(c, { code: 200, expire: issued.expire, token: issued.token }, 200);
}

/**
 * An agent with a client certificate (CrowdSec's JWT.authTLS, docs/reference/crowdsec-1.6-1.7.md §2): the
 * body carries only scenarios; the machine is `CN@ip`, created validated with auth type tls. A
 * password machine of that name is refused, as in CrowdSec.
 */
async function loginByCertificate(ctx: WatcherContext, c: Context<WatcherEnv>, verdict: ClientCertVerdict, body: Record<string, unknown>): Promise<Response> {
  const { store, clock, tokens } = ctx;
  const peer = peerOf(c);
  if (!verdict.ok) {
    ctx.refused(c, verdict.reason, verdict.cn ? `${verdict.cn}@${peer}` : '');
    ctx.log.warn({ ip: peer, reason: verdict.reason }, `agent certificate refused: ${verdict.detail}`);
    return unauthorized(c, 'incorrect Username or Password');
  }
  const machineId = `${verdict.cn}@${peer}`.slice(0, MAX_MACHINE_ID);
  const scenarios = body.scenarios;
  if (!(scenarios === undefined || scenarios === null || (Array.isArray(scenarios) && scenarios.every((s) => typeof s === 'string')))) {
    ctx.refused(c, 'login:bad-input', machineId);
    return unauthorized(c, 'input format error');
  }
  const ua = (c.req.header('user-agent') ?? '').split('/');
  if (ua.length !== 2 || ua[0] === '' || ua[1] === '') {
    ctx.refused(c, 'login:bad-user-agent', machineId);
    return unauthorized(c, 'incorrect Username or Password');
  }
  const now = clock.now();
  let m = await getMachine(store, machineId);
  if (!m) {
    try {
      m = await createMachine(store, { machineId, passwordHash: '', now, isValidated: true, authType: 'tls', ipAddress: peer });
      ctx.log.info({ machine: machineId }, `machine ${machineId} created by its TLS client certificate`);
    } catch (e) {
      // Two first logins at once (or two replicas): the loser uses the winner's row.
      if (!isVigilError(e) || e.code !== 'E_MACHINE_EXISTS') throw e;
      m = await getMachine(store, machineId);
    }
  }
  if (m?.authType !== 'tls') {
    ctx.refused(c, 'tls:password-machine', machineId);
    return unauthorized(c, 'incorrect Username or Password');
  }
  await recordLogin(store, machineId, {
    ipAddress: peer,
    version: ua[1]!.slice(0, 255),
    scenarios: Array.isArray(scenarios) ? (scenarios as string[]).join(',').slice(0, 64 * 1024) : m.scenarios,
    now,
  });
  const issued = await tokens.issue(machineId);
  return json(c, { code: 200, expire: issued.expire, token: issued.token }, 200);
}

/** GET /v1/refresh_token: a new token for one still within gin-jwt's MaxRefresh. */
async function refreshToken(ctx: WatcherContext, c: Context<WatcherEnv>): Promise<Response> {
  const { store, tokens } = ctx;
  const token = tokenOf(c);
  if (token === undefined) return unauthorized(c, 'cookie token is empty');
  const checked = await tokens.check(token, true);
  if (!checked.ok) {
    ctx.refused(c, checked.reason, '');
    return unauthorized(c, checked.message);
  }
  if (!(await machineOfToken(store, checked.machineId))) return unauthorized(c, 'incorrect Username or Password');
  const issued = await tokens.issue(checked.machineId);
  return json(c, { code: 200, expire: issued.expire, token: issued.token }, 200);
}

/** POST /v1/watchers: a new machine, pending unless the auto-registration token and address say otherwise. */
async function register(ctx: WatcherContext, c: Context<WatcherEnv>): Promise<Response> {
  const { store, clock, config, passwords } = ctx;
  const text = await bodyText(c, BODY_CAPS.watcherLogin);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return json(c, { message: goJsonError(text) }, 400);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return json(c, { message: 'json: cannot unmarshal into Go value of type models.WatcherRegistrationRequest' }, 400);
  const b = body as Record<string, unknown>;
  for (const k of ['machine_id', 'password', 'registration_token'] as const) {
    if (b[k] !== undefined && b[k] !== null && typeof b[k] !== 'string') {
      return json(c, { message: `json: cannot unmarshal ${typeof b[k]} into Go struct field WatcherRegistrationRequest.${k} of type string` }, 400);
    }
  }
  const missing = (['machine_id', 'password'] as const).filter((k) => typeof b[k] !== 'string' || b[k] === '');
  if (missing.length > 0) return json(c, { message: `validation failure list:\n${missing.map((k) => `${k} in body is required`).join('\n')}` }, 422);
  const machineId = b.machine_id as string;
  const password = b.password as string;
  if (machineId.length > MAX_MACHINE_ID || !/^[\w.@:-]+$/.test(machineId)) {
    return json(c, { message: `machine_id: use at most ${MAX_MACHINE_ID} letters, digits, '_', '-', '.', '@' or ':'` }, 422);
  }
  if (Buffer.byteLength(password) > MAX_PASSWORD_BYTES) return json(c, { message: `password: at most ${MAX_PASSWORD_BYTES} bytes (bcrypt)` }, 422);
  const peer = peerOf(c);
  if (config.disableRemoteRegistration && !isLoopback(peer)) return json(c, { message: 'remote registration is disabled' }, 403);
  let autoValidate = false;
  const token = typeof b.registration_token === 'string' ? b.registration_token : '';
  if (token !== '' && config.autoRegistration.enabled) {
    if (!constantTimeEqual(token, config.autoRegistration.token)) return json(c, { message: 'invalid token for auto registration' }, 401);
    if (!ctx.registrationRanges.hasText(peer)) return json(c, { message: 'IP not in allowed range for auto registration' }, 401);
    autoValidate = true;
  }
  if (await getMachine(store, machineId)) return json(c, { message: `user '${machineId}': user already exist` }, 403);
  if (!autoValidate) {
    const refused = await pendingBound(ctx, peer);
    if (refused) return json(c, { message: refused }, 429, { 'Retry-After': '60' });
  }
  const hash = await passwords.bounded(() => hashMachinePassword(password));
  if (hash === undefined) return json(c, { message: 'too many registrations in progress; retry in a few seconds' }, 429, { 'Retry-After': '2' });
  try {
    await createMachine(store, { machineId, passwordHash: hash, now: clock.now(), isValidated: autoValidate, ipAddress: peer });
  } catch (e) {
    if (isVigilError(e) && e.code === 'E_MACHINE_EXISTS') return json(c, { message: e.message }, 403);
    throw e;
  }
  return c.body(null, autoValidate ? 202 : 201);
}

/**
 * Issue 27: remote registration is open by default (as in CrowdSec), so unvalidated machines are
 * bounded per address and in all (api.registration.*), and those older than pending_expire_after,
 * which never could log in, are deleted first. Returns the refusal, or undefined.
 */
let lastRefusalLogged = -Infinity;

async function pendingBound(ctx: WatcherContext, peer: string): Promise<string | undefined> {
  const { store, clock, config, log } = ctx;
  const limits = config.registration;
  const expired = await deleteExpiredPending(store, clock.now() - limits.pendingExpireAfterMs);
  if (expired > 0) log.info({ expired }, `deleted ${expired} unvalidated machine(s) older than api.registration.pending_expire_after`);
  const pending = await countPendingMachines(store, peer);
  let why: string | undefined;
  if (pending.fromAddress >= limits.maxPendingPerAddress)
    why = `${pending.fromAddress} machines registered from ${peer} wait for validation (api.registration.max_pending_per_address)`;
  else if (pending.total >= limits.maxPending) why = `${pending.total} machines wait for validation (api.registration.max_pending)`;
  if (why === undefined) return undefined;
  // One line a minute at most: a registration flood must not become a log flood.
  const now = clock.now();
  if (now - lastRefusalLogged >= 60_000 || now < lastRefusalLogged) {
    lastRefusalLogged = now;
    log.warn({ ip: peer }, `registration refused: ${why} (logged once a minute)`);
  }
  return `too many pending registrations: ${why}; an operator validates them (vigil machines validate NAME) or deletes them`;
}

function constantTimeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  // Lengths may differ: compare against itself so the time does not depend on where they differ.
  return x.length === y.length ? timingSafeEqual(x, y) : (timingSafeEqual(x, x), false);
}
