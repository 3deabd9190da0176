import { Hono } from 'hono';
import { BODY_CAPS } from '../../config/listener-limits.ts';
import { allowlistJson, bulkCheckJson, checkJson } from '../../core/allowlists/wire.ts';
import { isVigilError } from '../../lib/errors.ts';
import { allowlistItems, allowlistMatcher, getAllowlist, listAllowlists } from '../../store/allowlists.ts';
import { bodyText, goJsonError, json, type WatcherApp, type WatcherContext, type WatcherEnv } from './context.ts';

/**
 * Allowlists (CrowdSec 1.6.6+'s controllers/v1/allowlist.go at v1.7.8; docs/allowlists.md): the
 * lists, the check cscli makes before `decisions add`, the bulk check of `decisions import`, and
 * the content AppSec polls every 60 s (`?with_content=true`). Machines only (JWT), as CrowdSec.
 */
export function allowlistRoutes(ctx: WatcherContext): WatcherApp {
  const app = new Hono<WatcherEnv>();
  app.get('/v1/allowlists', ctx.machine, async (c) => {
    const withContent = c.req.query('with_content') === 'true';
    const lists = await listAllowlists(ctx.store);
    const items = withContent
      ? await allowlistItems(
          ctx.store,
          lists.map((l) => l.id),
        )
      : [];
    const now = c.get('now');
    return json(
      c,
      lists.map((l) => allowlistJson(l, withContent ? items.filter((i) => i.allowlistId === l.id) : null, now)),
      200,
    );
  });
  app.get('/v1/allowlists/check/:value', ctx.machine, async (c) => {
    const value = c.req.param('value');
    let reasons: string[];
    try {
      reasons = (await allowlistMatcher(ctx.store, c.get('now'))).reasonsFor(value);
    } catch (e) {
      // CrowdSec's HandleDBErrors answers a value that is neither an IP nor a range with a 500.
      if (isVigilError(e) && (e.code === 'E_BAD_IP' || e.code === 'E_BAD_RANGE')) return json(c, { message: e.message }, 500);
      throw e;
    }
    if (c.req.method === 'HEAD') return c.body(null, reasons.length > 0 ? 200 : 204);
    return json(c, checkJson(reasons), 200);
  });
  app.get('/v1/allowlists/:name', ctx.machine, async (c) => {
    const name = c.req.param('name');
    const list = await getAllowlist(ctx.store, name);
    // CrowdSec's GetAllowList error is not its ItemNotFound, so HandleDBErrors answers 500 (v1.6.6–v1.7.8).
    if (!list) return json(c, { message: `allowlist '${name}' not found` }, 500);
    const withContent = c.req.query('with_content') === 'true';
    return json(c, allowlistJson(list, withContent ? await allowlistItems(ctx.store, [list.id]) : null, c.get('now')), 200);
  });
  app.post('/v1/allowlists/check', ctx.machine, async (c) => {
    const text = await bodyText(c, BODY_CAPS.watcher);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return json(c, { message: text.trim() === '' ? 'EOF' : goJsonError(text) }, 400);
    }
    const targets = (body as { targets?: unknown } | null)?.targets;
    if (targets !== undefined && targets !== null && (!Array.isArray(targets) || targets.some((t) => typeof t !== 'string'))) {
      return json(c, { message: 'json: cannot unmarshal into Go struct field BulkCheckAllowlistRequest.targets of type []string' }, 400);
    }
    if (!Array.isArray(targets) || targets.length === 0) return json(c, { message: 'targets list cannot be empty' }, 400);
    const matcher = await allowlistMatcher(ctx.store, c.get('now'));
    const results: { target: string; reasons: string[] }[] = [];
    for (const target of targets as string[]) {
      try {
        results.push({ target, reasons: matcher.reasonsFor(target) });
      } catch (e) {
        // One bad target fails the whole check, as in CrowdSec (a 500 naming it).
        if (isVigilError(e) && (e.code === 'E_BAD_IP' || e.code === 'E_BAD_RANGE')) return json(c, { message: e.message }, 500);
        throw e;
      }
    }
    return json(c, bulkCheckJson(results), 200);
  });
  return app;
}
