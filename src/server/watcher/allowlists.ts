import { Hono } from 'hono';
import { BODY_CAPS } from '../../config/listener-limits.ts';
import { bodyText, goJsonError, json, type WatcherApp, type WatcherContext, type WatcherEnv } from './context.ts';

/**
 * Allowlists (CrowdSec 1.6.8+'s controllers/v1/allowlist.go): Vigil keeps none, so every list is
 * empty and every check answers "not allowlisted" (docs/local-api.md). Agents still call these.
 */
export function allowlistRoutes(ctx: WatcherContext): WatcherApp {
  const app = new Hono<WatcherEnv>();
  app.get('/v1/allowlists', ctx.machine, (c) => json(c, '[]', 200));
  app.get('/v1/allowlists/check/:value', ctx.machine, (c) => (c.req.method === 'HEAD' ? c.body(null, 204) : json(c, { allowlisted: false, reason: '' }, 200)));
  app.get('/v1/allowlists/:name', ctx.machine, (c) => json(c, { message: `allowlist '${c.req.param('name').slice(0, 64)}' not found` }, 404));
  app.post('/v1/allowlists/check', ctx.machine, async (c) => {
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
  });
  return app;
}
