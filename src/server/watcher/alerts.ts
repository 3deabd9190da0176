import { Hono, type Context } from 'hono';
import { alertJson } from '../../core/alerts/alert-json.ts';
import { buildAlerts } from '../../core/alerts/build.ts';
import { parseAlertsPayload } from '../../core/alerts/payload.ts';
import { alertMatches, parseAlertFilter, type AlertFilter } from '../../core/alerts/query.ts';
import type { Decision } from '../../core/model/records.ts';
import { BODY_CAPS } from '../../config/listener-limits.ts';
import { runInTurns } from '../../lib/turns.ts';
import { alertsByIds, alertsPage, decisionsOfAlerts, deleteAlerts, getAlert, type StoredAlert } from '../../store/alerts.ts';
import type { Store } from '../../store/store.ts';
import { bodyText, goJsonError, isLoopback, json, peerOf, type WatcherApp, type WatcherContext, type WatcherEnv } from './context.ts';
import { activeDecisions, addAlerts } from '../../store/decisions.ts';

/**
 * Alerts (CrowdSec's controllers/v1/alerts.go): an agent's or cscli's push, the reads behind
 * `cscli alerts list` and `cscli decisions list`, and the deletes.
 */

type Found = { alert: StoredAlert; decisions: Decision[] };
/** Alerts read per page while a filter is applied. */
const PAGE = 500;

/** The alerts a filter selects, newest first by default, with all their decisions. */
async function selectAlerts(store: Store, f: AlertFilter, now: number, limit: number | null): Promise<Found[]> {
  const out: Found[] = [];
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
    const ids = [...new Set((await activeDecisions(store, now)).map((d) => d.alertId).filter((id): id is number => id !== null))].sort((a, b) =>
      f.sort === 'desc' ? b - a : a - b,
    );
    for (let i = 0; i < ids.length; i += PAGE) if (await take(await alertsByIds(store, ids.slice(i, i + PAGE)))) break;
    return out;
  }
  let cursor: number | null = null;
  for (;;) {
    const page = await alertsPage(store, { sort: f.sort, afterId: cursor, limit: PAGE });
    if (page.length === 0 || (await take(page))) break;
    cursor = page[page.length - 1]!.id;
  }
  return out;
}

/** `:id` as a safe integer, or undefined. */
function alertIdOf(c: Context): number | undefined {
  const id = Number(c.req.param('id'));
  return /^\d+$/.test(c.req.param('id') ?? '') && Number.isSafeInteger(id) ? id : undefined;
}

export function alertRoutes(ctx: WatcherContext): WatcherApp {
  const app = new Hono<WatcherEnv>();
  app.post('/v1/alerts', ctx.machine, (c) => pushAlerts(ctx, c));
  app.get('/v1/alerts', ctx.machine, (c) => listAlerts(ctx, c));
  app.get('/v1/alerts/:id', ctx.machine, (c) => showAlert(ctx, c));
  app.delete('/v1/alerts', ctx.machine, (c) => deleteMatchingAlerts(ctx, c));
  app.delete('/v1/alerts/:id', ctx.machine, (c) => deleteOneAlert(ctx, c));
  return app;
}

/** POST /v1/alerts: an agent's alerts (decisions from the profiles) or cscli's (their own decisions). */
async function pushAlerts(ctx: WatcherContext, c: Context<WatcherEnv>): Promise<Response> {
  const now = c.get('now');
  const text = await bodyText(c, BODY_CAPS.alerts);
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return json(c, { message: goJsonError(text) }, 400);
  }
  const parsed = parseAlertsPayload(data);
  if (!parsed.ok) return json(c, { message: parsed.message }, parsed.status);
  // Every decision checked before anything is stored; a 100k import in slices, pulls answered meanwhile.
  const machineId = c.get('machine').machineId;
  const batch = await runInTurns(buildAlerts(parsed.alerts, ctx.config.profiles, machineId, now));
  // One transaction for the whole request: all or nothing, one revision for every decision.
  // The machine's last push goes in the same transaction: one commit per POST, not two.
  const written = await addAlerts(ctx.store, batch, undefined, { machineId, at: now });
  // Bouncers on this replica see the decisions at once (taken from the write, not read back);
  // the others within one sync period.
  await ctx.sync.applyWritten(written);
  return json(c, written.alertIds.map(String), 201);
}

/** GET /v1/alerts: `cscli alerts list` and `cscli decisions list`; `null` when none, as CrowdSec. */
async function listAlerts(ctx: WatcherContext, c: Context<WatcherEnv>): Promise<Response> {
  const now = c.get('now');
  const f = parseAlertFilter(new URL(c.req.url).searchParams, now);
  const found = await selectAlerts(ctx.store, f, now, f.limit);
  const body = found.length === 0 ? 'null' : `[${found.map((x) => alertJson(x.alert, f.withDecisions ? x.decisions : [], now)).join(',')}]`;
  return json(c, body, 200);
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
