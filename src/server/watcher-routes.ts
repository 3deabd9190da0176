import { timingSafeEqual } from 'node:crypto';
import type { Env } from './lapi.ts';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { Hono, type Context } from 'hono';
import type { Logger } from 'pino';
import { alertJson, extraOf } from '../core/alerts/alert-json.ts';
import { parseAlertsPayload, type IncomingAlert } from '../core/alerts/payload.ts';
import { decisionsFromProfiles, type Profile } from '../core/alerts/profiles.ts';
import { alertMatches, decisionsToDelete, parseAlertFilter, parseDecisionDeleteFilter, type AlertFilter } from '../core/alerts/query.ts';
import type { Decision, Machine } from '../core/model/records.ts';
import type { DecisionSync } from '../decisions/decision-sync.ts';
import { buildDecision } from '../decisions/new-decisions.ts';
import type { Clock } from '../lib/clock.ts';
import { VigilError, isVigilError } from '../lib/errors.ts';
import { installErrorHandler } from '../lib/http-errors.ts';
import { foldPeerAddress } from '../lib/ip.ts';
import { hashMachinePassword } from '../lib/password.ts';
import { TrustedProxies } from '../remediation/client-ip.ts';
import { alertsByIds, alertsPage, decisionsOfAlerts, deleteAlerts, getAlert, type StoredAlert } from '../store/alerts.ts';
import { createMachine, deleteMachines, getMachine, recordHeartbeat, recordLogin } from '../store/machines.ts';
import type { NewDecision, Store } from '../store/store.ts';
import type { ActivityRecorder } from './activity.ts';
import type { ClientCertSource } from './client-cert.ts';
import type { ClientCertVerdict } from '../core/tls/client-cert.ts';
import { JWT_REALM, machineOfToken, PasswordChecks, tokenOf, type MachineTokens } from './machine-auth.ts';
import { BODY_CAPS } from '../config/listener-limits.ts';
import type { WatcherApiConfig } from '../config/watcher-config.ts';
import { nextTurn } from '../lib/turns.ts';

/**
 * The watcher (machine) side of the Local API, wire-compatible with CrowdSec 1.4.6 and the 1.6/1.7
 * clients (docs/reference/crowdsec-1.6-1.7.md §3, §8; docs/reference/crowdsec-wire-protocol.md §3, §5):
 * register, login, heartbeat, alerts in and out, decision deletes, and empty allowlists.
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

const JSON_TYPE = 'application/json; charset=utf-8';
// CrowdSec compares with exactly 127.0.0.1 and ::1 (not all of 127/8) for alert deletes and remote registration.
const LOOPBACK = new TrustedProxies(['127.0.0.1', '::1']);
const gunzipAsync = promisify(gunzip);
/** bcrypt reads only the first 72 bytes: a longer password is refused rather than silently cut. */
const MAX_PASSWORD_BYTES = 72;
const MAX_MACHINE_ID = 255;
/** Decisions checked between two turns of the event loop (a few ms of work). */
const BUILD_SLICE = 5_000;

const peerOf = (c: Context<Env>): string => foldPeerAddress(c.env?.incoming?.socket?.remoteAddress);

/** JS's JSON.parse message in Go's words, for the common case (a body that does not start like JSON). */
function goJsonError(text: string): string {
  const first = text.trimStart()[0];
  if (first === undefined) return 'unexpected end of JSON input';
  if (!'{["tfn-0123456789'.includes(first)) return `invalid character '${first}' looking for beginning of value`;
  return 'invalid JSON: the body does not parse';
}

export function createWatcherApp(deps: WatcherDeps): Hono<Env> {
  const { store, clock, activity, tokens, config } = deps;
  const passwords = deps.passwords ?? new PasswordChecks();
  const trusted = new TrustedProxies(config.trustedIps);
  const allowedRanges = new TrustedProxies(config.autoRegistration.allowedRanges);
  const app = new Hono<Env>();
  installErrorHandler(app, deps.log, 'watcher API');

  const json = (c: Context, body: unknown, status: number, headers: Record<string, string> = {}) =>
    c.body(typeof body === 'string' ? body : JSON.stringify(body), status as 200, { 'Content-Type': JSON_TYPE, ...headers });
  const unauthorized = (c: Context, message: string) => json(c, { code: 401, message }, 401, { 'Www-Authenticate': JWT_REALM });

  function refused(c: Context<Env>, reason: string, machineId: string): void {
    activity.refused({
      at: clock.now(),
      peerIp: peerOf(c),
      userAgent: c.req.header('user-agent') ?? '',
      method: c.req.method,
      path: c.req.path,
      reason,
      keyFingerprint: '',
      bouncerName: machineId.slice(0, MAX_MACHINE_ID),
    });
  }

  /** The body, inflated when gzip, under `cap` bytes once inflated. */
  async function bodyText(c: Context, cap: number): Promise<string> {
    let raw = Buffer.from(await c.req.arrayBuffer());
    if (/gzip/i.test(c.req.header('content-encoding') ?? '')) {
      try {
        raw = await gunzipAsync(raw, { maxOutputLength: cap });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE')
          throw new VigilError('E_TOO_LONG', `body: larger than ${cap} bytes once decompressed`);
        throw new VigilError('E_BAD_BODY', 'body: Content-Encoding says gzip but the body is not valid gzip');
      }
    }
    if (raw.byteLength > cap) throw new VigilError('E_TOO_LONG', `body: larger than ${cap} bytes`);
    return raw.toString('utf8');
  }

  /** Runs `run` for the machine the request's JWT names; answers 401 as gin-jwt does otherwise. */
  async function withMachine(c: Context<Env>, run: (m: Machine, now: number) => Promise<Response>): Promise<Response> {
    const token = tokenOf(c);
    if (token === undefined) return unauthorized(c, 'cookie token is empty');
    const checked = await tokens.check(token);
    if (!checked.ok) {
      refused(c, checked.reason, '');
      return unauthorized(c, checked.message);
    }
    const m = await machineOfToken(store, checked.machineId);
    if (!m) {
      // Deleted or invalidated since the token was issued: the agent logs in again on a 401.
      refused(c, 'jwt:invalid', checked.machineId);
      return unauthorized(c, 'incorrect Username or Password');
    }
    return run(m, clock.now());
  }

  const isLocal = (peer: string) => LOOPBACK.hasText(peer);

  // ------------------------------------------------------------ login, register, identity

  /**
   * An agent with a client certificate (CrowdSec's JWT.authTLS, docs/reference/crowdsec-1.6-1.7.md §2): the
   * body carries only scenarios; the machine is `CN@ip`, created validated with auth type tls. A
   * password machine of that name is refused, as in CrowdSec.
   */
  async function loginByCertificate(c: Context<Env>, verdict: ClientCertVerdict, body: Record<string, unknown>): Promise<Response> {
    const peer = peerOf(c);
    if (!verdict.ok) {
      refused(c, verdict.reason, verdict.cn ? `${verdict.cn}@${peer}` : '');
      deps.log.warn({ ip: peer, reason: verdict.reason }, `agent certificate refused: ${verdict.detail}`);
      return unauthorized(c, 'incorrect Username or Password');
    }
    const machineId = `${verdict.cn}@${peer}`.slice(0, MAX_MACHINE_ID);
    const scenarios = body.scenarios;
    if (!(scenarios === undefined || scenarios === null || (Array.isArray(scenarios) && scenarios.every((s) => typeof s === 'string')))) {
      refused(c, 'login:bad-input', machineId);
      return unauthorized(c, 'input format error');
    }
    const ua = (c.req.header('user-agent') ?? '').split('/');
    if (ua.length !== 2 || ua[0] === '' || ua[1] === '') {
      refused(c, 'login:bad-user-agent', machineId);
      return unauthorized(c, 'incorrect Username or Password');
    }
    const now = clock.now();
    let m = await getMachine(store, machineId);
    if (!m) {
      try {
        m = await createMachine(store, { machineId, passwordHash: '', now, isValidated: true, authType: 'tls', ipAddress: peer });
        deps.log.info({ machine: machineId }, `machine ${machineId} created by its TLS client certificate`);
      } catch (e) {
        // Two first logins at once (or two replicas): the loser uses the winner's row.
        if (!isVigilError(e) || e.code !== 'E_MACHINE_EXISTS') throw e;
        m = await getMachine(store, machineId);
      }
    }
    if (m?.authType !== 'tls') {
      refused(c, 'tls:password-machine', machineId);
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

  app.post('/v1/watchers/login', async (c) => {
    let text: string;
    try {
      text = await bodyText(c, BODY_CAPS.watcherLogin);
    } catch (e) {
      if (isVigilError(e)) {
        refused(c, 'login:bad-input', '');
        return json(c, { code: 401, message: e.message }, e.code === 'E_TOO_LONG' ? 413 : 401, { 'Www-Authenticate': JWT_REALM });
      }
      throw e;
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      refused(c, 'login:bad-input', '');
      return unauthorized(c, `missing: ${goJsonError(text)}`);
    }
    const b = (typeof body === 'object' && body !== null && !Array.isArray(body) ? body : {}) as Record<string, unknown>;
    const socket = c.env?.incoming?.socket;
    const verdict = socket ? deps.clientCerts?.agent(socket) : undefined;
    if (verdict !== undefined) return loginByCertificate(c, verdict, b);
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
      refused(c, 'login:bad-input', typeof machineId === 'string' ? machineId : '');
      return unauthorized(c, 'input format error');
    }
    // CrowdSec takes the version from `name/version` and refuses any other User-Agent.
    const ua = c.req.header('user-agent') ?? '';
    const uaParts = ua.split('/');
    if (uaParts.length !== 2 || uaParts[0] === '' || uaParts[1] === '') {
      refused(c, 'login:bad-user-agent', machineId);
      return unauthorized(c, 'incorrect Username or Password');
    }
    const m = await getMachine(store, machineId);
    const ok = Buffer.byteLength(password) <= MAX_PASSWORD_BYTES ? await passwords.verify(password, m) : false;
    if (ok === undefined) {
      // The bcrypt budget is spent: the agent retries; nothing was checked, nothing is recorded.
      return json(c, { code: 429, message: 'too many logins in progress; retry in a few seconds' }, 429, { 'Retry-After': '2' });
    }
    if (!m || !ok || !m.isValidated) {
      refused(c, !m ? 'login:unknown-machine' : !ok ? 'login:bad-password' : 'login:not-validated', machineId);
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
      deps.log.warn({ machine: machineId }, `new IP address detected for machine '${machineId}': ${peerOf(c)} (old: ${m.ipAddress})`);
    const issued = await tokens.issue(machineId);
    return json(c, { code: 200, expire: issued.expire, token: issued.token }, 200);
  });

  app.get('/v1/refresh_token', async (c) => {
    const token = tokenOf(c);
    if (token === undefined) return unauthorized(c, 'cookie token is empty');
    const checked = await tokens.check(token, true);
    if (!checked.ok) {
      refused(c, checked.reason, '');
      return unauthorized(c, checked.message);
    }
    if (!(await machineOfToken(store, checked.machineId))) return unauthorized(c, 'incorrect Username or Password');
    const issued = await tokens.issue(checked.machineId);
    return json(c, { code: 200, expire: issued.expire, token: issued.token }, 200);
  });

  app.post('/v1/watchers', async (c) => {
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
    if (config.disableRemoteRegistration && !isLocal(peer)) return json(c, { message: 'remote registration is disabled' }, 403);
    let autoValidate = false;
    const token = typeof b.registration_token === 'string' ? b.registration_token : '';
    if (token !== '' && config.autoRegistration.enabled) {
      if (!constantTimeEqual(token, config.autoRegistration.token)) return json(c, { message: 'invalid token for auto registration' }, 401);
      if (!allowedRanges.hasText(peer)) return json(c, { message: 'IP not in allowed range for auto registration' }, 401);
      autoValidate = true;
    }
    if (await getMachine(store, machineId)) return json(c, { message: `user '${machineId}': user already exist` }, 403);
    const hash = await passwords.bounded(() => hashMachinePassword(password));
    if (hash === undefined) return json(c, { message: 'too many registrations in progress; retry in a few seconds' }, 429, { 'Retry-After': '2' });
    try {
      await createMachine(store, { machineId, passwordHash: hash, now: clock.now(), isValidated: autoValidate, ipAddress: peer });
    } catch (e) {
      if (isVigilError(e) && e.code === 'E_MACHINE_EXISTS') return json(c, { message: e.message }, 403);
      throw e;
    }
    return c.body(null, autoValidate ? 202 : 201);
  });

  app.delete('/v1/watchers/self', (c) =>
    withMachine(c, async (m) => {
      await deleteMachines(store, [m.machineId]);
      return c.body(null, 204);
    }),
  );

  app.get('/v1/heartbeat', (c) =>
    withMachine(c, async (m, now) => {
      await recordHeartbeat(store, m.machineId, now);
      return c.body(null, 200, { 'Content-Length': '0' });
    }),
  );

  // ------------------------------------------------------------ alerts

  /**
   * Every decision of every alert, validated before anything is stored. A 100k import is checked
   * in slices with a turn of the event loop between them, so pulls are answered meanwhile.
   */
  async function decisionsFor(alerts: IncomingAlert[], profiles: readonly Profile[], now: number): Promise<NewDecision[][]> {
    const out: NewDecision[][] = [];
    let built = 0;
    for (const [i, a] of alerts.entries()) {
      if (a.decisions && a.decisions.length > BUILD_SLICE) {
        const list: NewDecision[] = [];
        for (let j = 0; j < a.decisions.length; j += BUILD_SLICE) {
          await nextTurn();
          list.push(...decisionsOf(a, i, profiles, now, j, j + BUILD_SLICE));
        }
        out.push(list);
        continue;
      }
      out.push(decisionsOf(a, i, profiles, now, 0, Number.POSITIVE_INFINITY));
      built += out[i]!.length;
      if (built >= BUILD_SLICE) {
        built = 0;
        await nextTurn();
      }
    }
    return out;
  }

  /** The decisions [from, to) of alert `i`: its own, or what the profiles make of it. */
  function decisionsOf(a: IncomingAlert, i: number, profiles: readonly Profile[], now: number, from: number, to: number): NewDecision[] {
    // An alert's stop_at anchors its decisions, as in CrowdSec; never in the future.
    const base = Math.min(a.stopAt, now);
    const built = (
      req: { scope: string; value: string; type: string; duration: string; reason: string; origin: string },
      field: string,
      simulated: boolean,
    ) => {
      if (req.origin === '') throw new VigilError('E_BAD_VALUE', `${field}: origin is empty; use e.g. cscli`);
      const d = buildDecision(req, base, field);
      return { ...d, createdAt: now, simulated: simulated || a.simulated };
    };
    if (a.decisions && a.decisions.length > 0) {
      const own = a.decisions.slice(from, to);
      return own.map((d, j) => built({ ...d, reason: d.scenario }, `${i}.decisions.${from + j}`, d.simulated));
    }
    return decisionsFromProfiles(a, profiles).map((d, j) => built(d, `${i}.profiles.${d.profile}.${j}`, false));
  }

  app.post('/v1/alerts', (c) =>
    withMachine(c, async (m, now) => {
      const text = await bodyText(c, BODY_CAPS.alerts);
      let data: unknown;
      try {
        data = JSON.parse(text);
      } catch {
        return json(c, { message: goJsonError(text) }, 400);
      }
      const parsed = parseAlertsPayload(data);
      if (!parsed.ok) return json(c, { message: parsed.message }, parsed.status);
      for (const [i, a] of parsed.alerts.entries()) {
        if (a.scenario.length > 1024) throw new VigilError('E_TOO_LONG', `${i}.scenario: ${a.scenario.length} characters; at most 1024`);
        if (a.message.length > 16 * 1024) throw new VigilError('E_TOO_LONG', `${i}.message: ${a.message.length} characters; at most 16384`);
        if (a.source.value.length > 1024 || a.source.scope.length > 64)
          throw new VigilError('E_TOO_LONG', `${i}.source: scope at most 64 and value at most 1024 characters`);
      }
      const decisions = await decisionsFor(parsed.alerts, config.profiles, now);
      // One transaction for the whole request: all or nothing, one revision for every decision.
      const written = await store.addAlerts(
        parsed.alerts.map((a, i) => ({
          alert: {
            createdAt: now,
            scenario: a.scenario,
            message: a.message,
            machineId: m.machineId,
            sourceScope: a.source.scope,
            sourceValue: a.source.value,
            sourceIp: a.source.ip,
            eventsCount: a.eventsCount,
            leakspeed: a.leakspeed,
            startAt: a.startAt,
            stopAt: a.stopAt,
            simulated: a.simulated,
            capacity: a.capacity,
            scenarioHash: a.scenarioHash,
            scenarioVersion: a.scenarioVersion,
            remediation: a.remediation,
            kind: a.kind,
            extra: extraOf(a),
          },
          decisions: decisions[i]!,
        })),
        undefined,
        // The machine's last push goes in the same transaction: one commit per POST, not two.
        { machineId: m.machineId, at: now },
      );
      // Bouncers on this replica see the decisions at once (taken from the write, not read back);
      // the others within one sync period.
      await deps.sync.applyWritten(written);
      const ids = written.alertIds.map(String);
      return json(c, ids, 201);
    }),
  );

  /** The alerts a filter selects, newest first by default, with all their decisions. */
  async function selectAlerts(f: AlertFilter, now: number, limit: number | null): Promise<Array<{ alert: StoredAlert; decisions: Decision[] }>> {
    const out: Array<{ alert: StoredAlert; decisions: Decision[] }> = [];
    const take = async (alerts: StoredAlert[]) => {
      const byAlert = await decisionsOfAlerts(
        store,
        alerts.map((a) => a.id),
      );
      for (const a of alerts) {
        const ds = byAlert.get(a.id) ?? [];
        if (alertMatches(a, ds, f, now)) out.push({ alert: a, decisions: ds });
        if (limit !== null && out.length >= limit) return true;
      }
      return false;
    };
    if (f.hasActiveDecision === true) {
      // cscli decisions list: only alerts with an active decision can match; start from those.
      const ids = [...new Set((await store.activeDecisions(now)).map((d) => d.alertId).filter((id): id is number => id !== null))].sort((a, b) =>
        f.sort === 'desc' ? b - a : a - b,
      );
      for (let i = 0; i < ids.length; i += 500) if (await take(await alertsByIds(store, ids.slice(i, i + 500)))) break;
      return out;
    }
    let cursor: number | null = null;
    for (;;) {
      const page = await alertsPage(store, { sort: f.sort, afterId: cursor, limit: 500 });
      if (page.length === 0 || (await take(page))) break;
      cursor = page[page.length - 1]!.id;
    }
    return out;
  }

  app.get('/v1/alerts', (c) =>
    withMachine(c, async (_m, now) => {
      const f = parseAlertFilter(new URL(c.req.url).searchParams, now);
      const found = await selectAlerts(f, now, f.limit);
      const body = found.length === 0 ? 'null' : `[${found.map((x) => alertJson(x.alert, f.withDecisions ? x.decisions : [], now)).join(',')}]`;
      return json(c, body, 200);
    }),
  );

  app.get('/v1/alerts/:id', (c) =>
    withMachine(c, async (_m, now) => {
      const id = Number(c.req.param('id'));
      if (!/^\d+$/.test(c.req.param('id')) || !Number.isSafeInteger(id)) return json(c, { message: 'alert_id must be valid integer' }, 400);
      const a = await getAlert(store, id);
      if (!a) return json(c, { message: 'object not found' }, 404);
      const ds = (await decisionsOfAlerts(store, [id])).get(id) ?? [];
      return json(c, alertJson(a, ds, now), 200);
    }),
  );

  const forbiddenFrom = (c: Context<Env>): Response | undefined => {
    const peer = peerOf(c);
    // CrowdSec: only loopback (or its Unix socket) and trusted_ips may delete alerts.
    if (isLocal(peer) || trusted.hasText(peer)) return undefined;
    return json(c, { message: `access forbidden from this IP (${peer})` }, 403);
  };

  app.delete('/v1/alerts', (c) =>
    withMachine(c, async (_m, now) => {
      const no = forbiddenFrom(c);
      if (no) return no;
      const f = parseAlertFilter(new URL(c.req.url).searchParams, now);
      // A delete takes every match (limit is a read's paging), simulated alerts included.
      const found = await selectAlerts({ ...f, simulated: true }, now, null);
      const n = await deleteAlerts(
        store,
        found.map((x) => x.alert.id),
        now,
      );
      await deps.sync.refresh();
      return json(c, { nbDeleted: String(n) }, 200);
    }),
  );

  app.delete('/v1/alerts/:id', (c) =>
    withMachine(c, async (_m, now) => {
      const no = forbiddenFrom(c);
      if (no) return no;
      const id = Number(c.req.param('id'));
      if (!/^\d+$/.test(c.req.param('id')) || !Number.isSafeInteger(id)) return json(c, { message: 'alert_id must be valid integer' }, 400);
      const n = await deleteAlerts(store, [id], now);
      if (n === 0) return json(c, { message: 'object not found' }, 404);
      await deps.sync.refresh();
      return json(c, { nbDeleted: String(n) }, 200);
    }),
  );

  // ------------------------------------------------------------ decisions (deletes; reads are decision-routes.ts)

  app.delete('/v1/decisions', (c) =>
    withMachine(c, async (_m, now) => {
      const f = parseDecisionDeleteFilter(new URL(c.req.url).searchParams);
      const chosen = decisionsToDelete(await store.activeDecisions(now), f);
      const n = await store.softDeleteDecisions(
        chosen.map((d) => d.id),
        now,
      );
      await deps.sync.refresh();
      return json(c, { nbDeleted: String(n) }, 200);
    }),
  );

  app.delete('/v1/decisions/:id', (c) =>
    withMachine(c, async (_m, now) => {
      const id = Number(c.req.param('id'));
      if (!/^\d+$/.test(c.req.param('id')) || !Number.isSafeInteger(id)) return json(c, { message: 'decision_id must be valid integer' }, 400);
      const n = await store.softDeleteDecisions([id], now);
      await deps.sync.refresh();
      return json(c, { nbDeleted: String(n) }, 200);
    }),
  );

  // ------------------------------------------------------------ allowlists (none here: docs/local-api.md)

  app.get('/v1/allowlists', (c) => withMachine(c, async () => json(c, '[]', 200)));
  app.get('/v1/allowlists/check/:value', (c) =>
    withMachine(c, async () => (c.req.method === 'HEAD' ? c.body(null, 204) : json(c, { allowlisted: false, reason: '' }, 200))),
  );
  app.get('/v1/allowlists/:name', (c) => withMachine(c, async () => json(c, { message: `allowlist '${c.req.param('name').slice(0, 64)}' not found` }, 404)));
  app.post('/v1/allowlists/check', (c) =>
    withMachine(c, async () => {
      const text = await bodyText(c, BODY_CAPS.watcher);
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        return json(c, { message: goJsonError(text) }, 400);
      }
      const targets = (body as { targets?: unknown } | null)?.targets;
      if (!Array.isArray(targets) || targets.length === 0) return json(c, { message: 'targets: give at least one IP or range to check' }, 400);
      return json(c, { results: [] }, 200);
    }),
  );

  // ------------------------------------------------------------ wrong methods on known paths (CrowdSec 1.7: 405)

  const notAllowed = (c: Context) => c.body(null, 405);
  const all = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
  const except = (...allowed: string[]) => all.filter((m) => !allowed.includes(m));
  app.on(except('POST'), ['/v1/watchers', '/v1/watchers/login', '/v1/allowlists/check'], notAllowed);
  app.on(except('DELETE'), '/v1/watchers/self', notAllowed);
  app.on(except('GET'), ['/v1/heartbeat', '/v1/refresh_token', '/v1/allowlists', '/v1/allowlists/check/:value'], notAllowed);
  app.on(except('GET', 'POST', 'DELETE'), '/v1/alerts', notAllowed);
  app.on(except('GET', 'DELETE'), '/v1/alerts/:id', notAllowed);
  app.on(except('DELETE'), '/v1/decisions/:id', notAllowed);
  return app;
}

function constantTimeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  // Lengths may differ: compare against itself so the time does not depend on where they differ.
  return x.length === y.length ? timingSafeEqual(x, y) : (timingSafeEqual(x, x), false);
}
