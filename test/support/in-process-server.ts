/**
 * An in-process `vigil serve` on a fresh store, started before a describe's tests and closed after
 * them (as useFreshStore does for a store): loopback on a free port, metrics off, no evaluation
 * loop (tests evaluate when they mean to), the given clock. `configure` changes the loaded config
 * (and may first start what it points at: a receiver for a notification channel);
 * `options` (read when the server starts, after the describe's earlier beforeAll hooks) adds to
 * startServer's, e.g. the environment vigil.yaml's `${VAR}` read from, or a logger.
 *
 *   const server = useInProcessServer(dialect, clock, (config) => { config.limits.maxInstancesPerKey = 20; });
 *   it('…', async () => { await get(server().url, '/v1/decisions'); });
 */
import { afterAll, beforeAll } from 'vitest';
import { createLogger, startServer, type RunningServer, type StartOptions } from '../../src/app/serve.ts';
import { loadConfig, type VigilConfig } from '../../src/config/config.ts';
import type { Clock } from '../../src/lib/clock.ts';
import { freshDbUrl, type TestDialect } from './databases.ts';

export function useInProcessServer(
  dialect: TestDialect,
  clock: Clock,
  configure: (config: VigilConfig) => void | Promise<void> = () => {},
  options: () => Omit<StartOptions, 'clock'> = () => ({}),
): () => RunningServer {
  let server: RunningServer | undefined;
  let cleanup: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    const db = await freshDbUrl(dialect);
    cleanup = db.cleanup;
    const config = loadConfig({ flags: { listen: '127.0.0.1:0', db: db.url, metricsListen: 'off' }, env: {}, cwd: '/nonexistent' });
    config.health.evaluateEveryMs = 0;
    await configure(config);
    server = await startServer(config, { log: createLogger('silent'), ...options(), clock });
  });
  afterAll(async () => {
    await server?.close();
    await cleanup?.();
  });
  return () => {
    if (!server) throw new Error('the in-process server is not started: call useInProcessServer inside describe()');
    return server;
  };
}
