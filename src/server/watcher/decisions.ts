import { Hono } from 'hono';
import { decisionsToDelete, parseDecisionDeleteFilter } from '../../core/alerts/query.ts';
import { json, type WatcherApp, type WatcherContext, type WatcherEnv } from './context.ts';
import { activeDecisions, softDeleteDecisions } from '../../store/decisions.ts';

/**
 * A machine's decision deletes (CrowdSec's controllers/v1/decisions.go, `cscli decisions delete`).
 * Bouncers' reads are served before this app, on node:http (server/decision-routes.ts).
 */
export function decisionRoutes(ctx: WatcherContext): WatcherApp {
  const { store, sync } = ctx;
  const app = new Hono<WatcherEnv>();

  app.delete('/v1/decisions', ctx.machine, async (c) => {
    const now = c.get('now');
    const f = parseDecisionDeleteFilter(new URL(c.req.url).searchParams);
    const chosen = decisionsToDelete(await activeDecisions(store, now), f);
    const n = await softDeleteDecisions(
      store,
      chosen.map((d) => d.id),
      now,
    );
    await sync.refresh();
    return json(c, { nbDeleted: String(n) }, 200);
  });

  app.delete('/v1/decisions/:id', ctx.machine, async (c) => {
    const id = Number(c.req.param('id'));
    if (!/^\d+$/.test(c.req.param('id')) || !Number.isSafeInteger(id)) return json(c, { message: 'decision_id must be valid integer' }, 400);
    const n = await softDeleteDecisions(store, [id], c.get('now'));
    await sync.refresh();
    return json(c, { nbDeleted: String(n) }, 200);
  });

  return app;
}
