import { createLogger, type RunningServer, startServer } from '../../src/app/serve.ts';
import { loadConfig, type VigilConfig } from '../../src/config/config.ts';
import type { Clock } from '../../src/lib/clock.ts';
import { resetDashboardPassword } from '../../src/web/credentials.ts';
import { freshDbUrl, type TestDialect } from './databases.ts';

/**
 * A real `vigil serve` (in process, on a fresh database, SQLite unless `dialect` says) with the
 * dashboard on a listener of its own, no health timer, and a known dashboard password: what the
 * dashboard's tests start from.
 */
export async function startDashboardServer(opts: {
  clock: Clock;
  password: string;
  dialect?: TestDialect;
  adjust?: (config: VigilConfig) => void;
}): Promise<{ server: RunningServer; cleanup: () => Promise<void> }> {
  const db = await freshDbUrl(opts.dialect ?? 'sqlite');
  const config = loadConfig({ flags: { listen: '127.0.0.1:0', db: db.url, metricsListen: 'off', adminListen: '127.0.0.1:0' }, env: {}, cwd: '/nonexistent' });
  config.health.evaluateEveryMs = 0;
  opts.adjust?.(config);
  const server = await startServer(config, { clock: opts.clock, log: createLogger('silent') });
  await resetDashboardPassword(server.store, opts.password);
  return { server, cleanup: db.cleanup };
}

/** The session cookie a login response sets, as a browser sends it back (`name=value`). */
export function cookieFrom(res: Response): string {
  const set = res.headers.get('set-cookie') ?? '';
  return set.split(';')[0]!;
}
