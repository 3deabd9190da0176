import { Hono, type Context } from 'hono';
import type { WatcherApp, WatcherEnv } from './context.ts';

/**
 * Wrong methods on the watcher paths: CrowdSec 1.7 answers 405 (gin's HandleMethodNotAllowed).
 * Mounted last, so a path's real routes match first.
 */
const ALL = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
const except = (...allowed: string[]) => ALL.filter((m) => !allowed.includes(m));

/** Path → the methods it answers; every other method is a 405. */
const ALLOWED: ReadonlyArray<[methods: string[], paths: string[]]> = [
  [['POST'], ['/v1/watchers', '/v1/watchers/login', '/v1/allowlists/check']],
  [['DELETE'], ['/v1/watchers/self']],
  [['GET'], ['/v1/heartbeat', '/v1/refresh_token', '/v1/allowlists', '/v1/allowlists/check/:value']],
  [['GET', 'POST', 'DELETE'], ['/v1/alerts']],
  [['GET', 'DELETE'], ['/v1/alerts/:id']],
  [['DELETE'], ['/v1/decisions/:id']],
];

export function methodNotAllowedRoutes(): WatcherApp {
  const app = new Hono<WatcherEnv>();
  const notAllowed = (c: Context) => c.body(null, 405);
  for (const [methods, paths] of ALLOWED) app.on(except(...methods), paths, notAllowed);
  return app;
}
