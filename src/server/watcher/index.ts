import { Hono } from 'hono';
import { installErrorHandler } from '../../lib/http-errors.ts';
import type { Env } from '../lapi.ts';
import { alertRoutes } from './alerts.ts';
import { allowlistRoutes } from './allowlists.ts';
import { WatcherContext, type WatcherDeps } from './context.ts';
import { decisionRoutes } from './decisions.ts';
import { heartbeatRoutes } from './heartbeat.ts';
import { loginRoutes } from './login.ts';

export type { WatcherDeps } from './context.ts';

/**
 * The watcher (machine) side of the Local API, wire-compatible with CrowdSec 1.4.6 and the 1.6/1.7
 * clients (docs/reference/crowdsec-1.6-1.7.md §3, §8; docs/reference/crowdsec-wire-protocol.md §3, §5),
 * one module per resource as CrowdSec's pkg/apiserver/controllers/v1/. The order is the match
 * order: `/v1/allowlists/:name` after `/v1/allowlists/check/…`. Every route has its line in the
 * route table (../routes.ts), which also holds the 405s the Local API app answers after these.
 */
export function createWatcherApp(deps: WatcherDeps): Hono<Env> {
  const ctx = new WatcherContext(deps);
  const app = new Hono<Env>();
  installErrorHandler(app, deps.log, 'watcher API');
  app.route('/', loginRoutes(ctx));
  app.route('/', heartbeatRoutes(ctx));
  app.route('/', alertRoutes(ctx));
  app.route('/', decisionRoutes(ctx));
  app.route('/', allowlistRoutes(ctx));
  return app;
}
