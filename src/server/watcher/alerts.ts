import { Hono, type Context } from 'hono';
import { alertJson } from '../../core/alerts/alert-json.ts';
import { buildAlerts } from '../../core/alerts/build.ts';
import { parseAlertsPayloadInTurns, type AlertsPayload, type IncomingAlert } from '../../core/alerts/payload.ts';
import { alertAllowlistedBy } from '../../core/allowlists/allowlists.ts';
import { allowlistMatcher } from '../../store/allowlists.ts';
import { parseAlertFilter } from '../../core/alerts/query.ts';
import type { NewAlertWithDecisions } from '../../core/model/records.ts';
import { BODY_CAPS } from '../../config/listener-limits.ts';
import { parseJsonInTurns } from '../../lib/json-in-turns.ts';
import { runInTurns } from '../../lib/turns.ts';
import { decisionsOfAlerts, deleteAlerts, getAlert } from '../../store/alerts.ts';
import { alertsAnswer, selectAlerts } from './alert-search.ts';
import { bodyChunks, bodyText, goJsonError, isLoopback, json, peerOf, type WatcherApp, type WatcherContext, type WatcherEnv } from './context.ts';
import { addAlerts } from '../../store/decisions.ts';
import { HEAVY_RETRY_AFTER_S, isBigBody } from './heavy-requests.ts';

/**
 * Alerts (CrowdSec's controllers/v1/alerts.go): an agent's or cscli's push, the reads behind
 * `cscli alerts list` and `cscli decisions list`, and the deletes. Pushes, searches and deletes
 * are bounded per machine (heavy-requests.ts) and done in slices, so no machine holds the event
 * loop that answers bouncers (issue 27).
 */

/** `:id` as a safe integer, or undefined. */
function alertIdOf(c: Context): number | undefined {
  const id = Number(c.req.param('id'));
  return /^\d+$/.test(c.req.param('id') ?? '') && Number.isSafeInteger(id) ? id : undefined;
}

export function alertRoutes(ctx: WatcherContext): WatcherApp {
  const app = new Hono<WatcherEnv>();
  // A small push (an agent's, < 1 MiB) is cheap and never waits; a big one counts as heavy.
  app.post('/v1/alerts', ctx.machine, (c) =>
    isBigBody(c.req.header('content-length'), c.req.header('content-encoding')) ? heavy(ctx, c, () => pushBigAlerts(ctx, c)) : storePush(ctx, c),
  );
  app.get('/v1/alerts', ctx.machine, (c) => heavy(ctx, c, (release) => listAlerts(ctx, c, release), true));
  app.get('/v1/alerts/:id', ctx.machine, (c) => showAlert(ctx, c));
  app.delete('/v1/alerts', ctx.machine, (c) => heavy(ctx, c, () => deleteMatchingAlerts(ctx, c)));
  app.delete('/v1/alerts/:id', ctx.machine, (c) => deleteOneAlert(ctx, c));
  return app;
}

/**
 * Runs `handle` within the machine's share of heavy requests, or answers 429 with Retry-After.
 * `keeps`: the handler takes the release (an answer written after it returns).
 */
async function heavy(ctx: WatcherContext, c: Context<WatcherEnv>, handle: (release: () => void) => Promise<Response>, keeps = false): Promise<Response> {
  const machineId = c.get('machine').machineId;
  const release = ctx.heavy.enter(machineId);
  if (!release) return tooMany(c, `too many alerts requests at once from machine ${machineId}`);
  try {
    return await handle(release);
  } catch (e) {
    release();
    throw e;
  } finally {
    if (!keeps) release();
  }
}

/** A push over 1 MiB: big pushes are processed in turn, all machines together (heavy-requests.ts BigBodies). */
async function pushBigAlerts(ctx: WatcherContext, c: Context<WatcherEnv>): Promise<Response> {
  const release = await ctx.bigBodies.enter();
  if (!release) return tooMany(c, 'too many large alert pushes waiting');
  try {
    return await storePush(ctx, c, true);
  } finally {
    release();
  }
}

/**
 * The push's alerts, checked. A big one is parsed and checked on a worker thread (alert-parser.ts):
 * on the event loop, even in slices, its parse and its garbage held pulls for 40–60 ms at a time.
 */
async function checkedPush(ctx: WatcherContext, c: Context<WatcherEnv>, big: boolean): Promise<AlertsPayload> {
  if (big) return ctx.alertParser.parse(await bodyChunks(c), /gzip/i.test(c.req.header('content-encoding') ?? ''), BODY_CAPS.alerts);
  let text: string | undefined = await bodyText(c, BODY_CAPS.alerts);
  let data: unknown;
  try {
    data = await runInTurns(parseJsonInTurns(text));
  } catch {
    return { ok: false, status: 400, message: goJsonError(text) };
  }
  text = undefined;
  return runInTurns(parseAlertsPayloadInTurns(data));
}

/** POST /v1/alerts: an agent's alerts (decisions from the profiles) or cscli's (their own decisions). */
async function storePush(ctx: WatcherContext, c: Context<WatcherEnv>, big = false): Promise<Response> {
  const now = c.get('now');
  const parsed = await checkedPush(ctx, c, big);
  if (!parsed.ok) return json(c, { message: parsed.message }, parsed.status);
  const machineId = c.get('machine').machineId;
  const cut = parsed.alerts.reduce((n, a) => n + a.cut, 0);
  // CrowdSec logs the same when it cuts an alert's events or meta to its columns.
  if (cut > 0) ctx.log.warn({ machine: machineId, cut }, 'alerts pushed: events or meta over their bounds were cut (README "Security and limits")');
  await dropAllowlisted(ctx, parsed.alerts, machineId, now);
  // Every decision checked before anything is stored; a 100k import in slices, pulls answered meanwhile.
  let batch: NewAlertWithDecisions[] | undefined = await runInTurns(buildAlerts(parsed.alerts, ctx.config.profiles, machineId, now));
  parsed.alerts.length = 0;
  // One transaction for the whole request: all or nothing, one revision for every decision.
  // The machine's last push goes in the same transaction: one commit per POST, not two.
  const written = await addAlerts(ctx.store, batch, undefined, { machineId, at: now });
  batch = undefined;
  // Bouncers on this replica see the decisions at once (taken from the write, not read back);
  // the others within one sync period.
  await ctx.sync.applyWritten(written);
  return json(c, written.alertIds.map(String), 201);
}

/**
 * Drops, in place, an agent's alerts whose source an allowlist covers (CrowdSec 1.6.6+'s
 * isAllowListed): only alerts without decisions of their own (cscli checked those) on an Ip or
 * Range source. The allowlists are read only when such an alert is in the push.
 */
async function dropAllowlisted(ctx: WatcherContext, alerts: IncomingAlert[], machineId: string, now: number): Promise<void> {
  const candidate = (a: IncomingAlert) => (!a.decisions || a.decisions.length === 0) && /^(ip|range)$/i.test(a.source.scope);
  if (!alerts.some(candidate)) return;
  const matcher = await allowlistMatcher(ctx.store, now);
  if (matcher.size === 0) return;
  let kept = 0;
  for (const a of alerts) {
    const reason = alertAllowlistedBy(matcher, a);
    if (reason === null) alerts[kept++] = a;
    else ctx.log.info({ machine: machineId }, `alert source ${a.source.value} is allowlisted by ${reason}, skipping`);
  }
  alerts.length = kept;
}

function tooMany(c: Context<WatcherEnv>, why: string): Response {
  return json(c, { message: `${why}; retry in ${HEAVY_RETRY_AFTER_S} s` }, 429, { 'Retry-After': String(HEAVY_RETRY_AFTER_S) });
}

/**
 * GET /v1/alerts: `cscli alerts list` and `cscli decisions list`; `null` when none, as CrowdSec.
 * The answer is streamed: the machine's share is released once it is written.
 */
async function listAlerts(ctx: WatcherContext, c: Context<WatcherEnv>, release: () => void): Promise<Response> {
  const now = c.get('now');
  const f = parseAlertFilter(new URL(c.req.url).searchParams, now);
  const found = await selectAlerts(ctx.store, f, now, f.limit);
  if (found.length === 0 || c.req.method === 'HEAD') {
    release();
    return json(c, found.length === 0 ? 'null' : '', 200);
  }
  const body = alertsAnswer(ctx.store, found, f.withDecisions, now, release);
  return c.body(body, 200, { 'Content-Type': 'application/json; charset=utf-8' });
}

/** GET /v1/alerts/:id. */
async function showAlert(ctx: WatcherContext, c: Context<WatcherEnv>): Promise<Response> {
  const id = alertIdOf(c);
  if (id === undefined) return json(c, { message: 'alert_id must be valid integer' }, 400);
  const a = await getAlert(ctx.store, id);
  if (!a) return json(c, { message: 'object not found' }, 404);
  const ds = (await decisionsOfAlerts(ctx.store, [id])).get(id) ?? [];
  return json(c, alertJson(a, ds, c.get('now')), 200);
}

/** DELETE /v1/alerts?filters: every alert the filter selects. */
async function deleteMatchingAlerts(ctx: WatcherContext, c: Context<WatcherEnv>): Promise<Response> {
  const no = forbiddenFrom(ctx, c);
  if (no) return no;
  const now = c.get('now');
  const f = parseAlertFilter(new URL(c.req.url).searchParams, now);
  // A delete takes every match (limit is a read's paging), simulated alerts included.
  const found = await selectAlerts(ctx.store, { ...f, simulated: true }, now, null);
  const n = await deleteAlerts(
    ctx.store,
    found.map((x) => x.alert.id),
    now,
  );
  await ctx.sync.refresh();
  return json(c, { nbDeleted: String(n) }, 200);
}

/** DELETE /v1/alerts/:id. */
async function deleteOneAlert(ctx: WatcherContext, c: Context<WatcherEnv>): Promise<Response> {
  const no = forbiddenFrom(ctx, c);
  if (no) return no;
  const id = alertIdOf(c);
  if (id === undefined) return json(c, { message: 'alert_id must be valid integer' }, 400);
  const n = await deleteAlerts(ctx.store, [id], c.get('now'));
  if (n === 0) return json(c, { message: 'object not found' }, 404);
  await ctx.sync.refresh();
  return json(c, { nbDeleted: String(n) }, 200);
}

/** CrowdSec: only loopback (or its Unix socket) and trusted_ips may delete alerts. */
function forbiddenFrom(ctx: WatcherContext, c: Context<WatcherEnv>): Response | undefined {
  const peer = peerOf(c);
  if (isLoopback(peer) || ctx.trusted.hasText(peer)) return undefined;
  return json(c, { message: `access forbidden from this IP (${peer})` }, 403);
}
