import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';
import { DIALECTS, freshDbUrl, type TestDialect } from './support/databases.ts';
import { freePort } from './support/processes.ts';
import { until } from './support/wait.ts';
import { loadConfig } from '../src/config/config.ts';
import { loadNotificationsConfig } from '../src/notify/config.ts';
import { createLogger, startServer } from '../src/app/serve.ts';
import { useCleanups } from './support/cleanups.ts';

/**
 * A start that fails (a port taken by another program: CrowdSec's Prometheus on the metrics port,
 * CrowdSec's LAPI on 8080) stops everything it started and the process exits at once, non-zero,
 * with one line naming the port and the fix. Before, serve logged level=fatal and stayed up with
 * the store, the sync loop and notifications open, and ignored the first SIGTERM.
 */
const BIN = path.resolve('bin/vigil.js');

async function occupy(): Promise<{ port: number; close(): Promise<void> }> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', () => resolve()));
  return { port: (s.address() as net.AddressInfo).port, close: () => new Promise((r) => s.close(() => r())) };
}

/** What this process holds on the store: open SQLite files, or PostgreSQL sessions on the database. */
async function storeHandles(dialect: TestDialect, url: string): Promise<number> {
  if (dialect === 'sqlite') {
    const file = url.slice('sqlite:'.length);
    return fs.readdirSync('/proc/self/fd').filter((fd) => {
      try {
        return fs.readlinkSync(`/proc/self/fd/${fd}`).startsWith(file);
      } catch {
        return false;
      }
    }).length;
  }
  const c = new pg.Client({ connectionString: inject('pgUrl') });
  await c.connect();
  try {
    const name = new URL(url).pathname.slice(1);
    const r = await c.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1', [name]);
    return r.rows[0].n as number;
  } finally {
    await c.end();
  }
}

const cleanups = useCleanups();

for (const dialect of DIALECTS) {
  describe(`${dialect}: startServer with its port taken`, () => {
    it('rejects, and closes what it had started: the store, the sync loop, notifications', async () => {
      const db = await freshDbUrl(dialect);
      cleanups.push(db.cleanup);
      const taken = await occupy();
      cleanups.push(taken.close);
      const config = loadConfig({ flags: { listen: `127.0.0.1:${taken.port}`, db: db.url, metricsListen: 'off' }, env: {}, cwd: '/nonexistent' });
      config.health.evaluateEveryMs = 100;
      config.notifications = loadNotificationsConfig({ channels: { hook: { type: 'webhook', url: 'http://127.0.0.1:9/hook' } } }, null);
      const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
      const timersBefore = timers();
      const log = createLogger('silent');
      await expect(startServer(config, { log })).rejects.toThrow(new RegExp(`listen 127\\.0\\.0\\.1:${taken.port}: address already in use`));
      expect(await storeHandles(dialect, db.url)).toBe(0);
      // The sync loop, the store's checkpointer, the key cache and the dispatcher's poll are all timers.
      expect(timers()).toBeLessThanOrEqual(timersBefore);
    });
  });
}

describe('vigil serve (real process) when a port is taken', () => {
  function configIn(lines: string[]): string {
    const dir = cleanups.tempDir('vigil-startfail-');
    const configPath = path.join(dir, 'vigil.yaml');
    fs.writeFileSync(configPath, ['db: sqlite:./vigil.db', ...lines, ''].join('\n'));
    return configPath;
  }

  /** Runs serve to its exit (SIGKILL after 15 s: a hang fails the test, it does not outlive it). */
  function serve(configPath: string): { output: () => string; exited: Promise<{ code: number | null; signal: string | null }>; child: ChildProcess } {
    let out = '';
    const child = spawn(process.execPath, [BIN, 'serve', '--config', configPath], { cwd: path.dirname(configPath), stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
      child.on('exit', (code, signal) => {
        clearTimeout(killer);
        resolve({ code, signal });
      }),
    );
    cleanups.push(async () => {
      child.kill('SIGKILL');
      await exited;
    });
    return { output: () => out, exited, child };
  }

  for (const which of ['metrics_listen', 'listen'] as const) {
    it(`${which} taken: exits non-zero within seconds, one line naming the port and the fix`, async () => {
      const taken = await occupy();
      cleanups.push(taken.close);
      const free = await freePort();
      const lines =
        which === 'listen'
          ? [`listen: 127.0.0.1:${taken.port}`, `metrics_listen: 127.0.0.1:${free}`]
          : [`listen: 127.0.0.1:${free}`, `metrics_listen: 127.0.0.1:${taken.port}`];
      const t0 = Date.now();
      const run = serve(configIn(lines));
      const { code, signal } = await run.exited;
      expect(signal).toBe(null);
      expect(code).toBe(1);
      expect(Date.now() - t0).toBeLessThan(8000);
      const fatal = run
        .output()
        .split('\n')
        .filter((l) => l.includes('level=fatal'));
      expect(fatal).toHaveLength(1);
      expect(fatal[0]).toContain(`${which} 127.0.0.1:${taken.port}: address already in use`);
      expect(fatal[0]).toMatch(which === 'listen' ? /pick another with --listen/ : /metrics_listen: off/);
    });
  }

  it('SIGTERM while starting: stops and exits 0 at once', async () => {
    const free = await freePort();
    const run = serve(configIn([`listen: 127.0.0.1:${free}`, 'metrics_listen: "off"']));
    // The store is created early in the start, before anything listens.
    await until('the store to be created', () => (run.output().includes('created a new store') ? true : undefined), run.output, 20_000, 5);
    const t0 = Date.now();
    run.child.kill('SIGTERM');
    const { code } = await run.exited;
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(code).toBe(0);
    expect(run.output()).toMatch(/"msg":"stopped"/);
  });
});
