import { Hono } from 'hono';
import { recordHeartbeat } from '../../store/machines.ts';
import type { WatcherApp, WatcherContext, WatcherEnv } from './context.ts';

/** An agent's heartbeat (CrowdSec's controllers/v1/heartbeat.go): its last sign of life. */
export function heartbeatRoutes(ctx: WatcherContext): WatcherApp {
  const app = new Hono<WatcherEnv>();
  app.get('/v1/heartbeat', ctx.machine, async (c) => {
    await recordHeartbeat(ctx.store, c.get('machine').machineId, c.get('now'));
    return c.body(null, 200, { 'Content-Length': '0' });
  });
  return app;
}
