import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DIALECTS, freshDbUrl } from './support/databases.ts';
import { startHttpReceiver } from './support/receivers.ts';
import { ManualClock } from '../src/lib/clock.ts';
import { Store } from '../src/store/store.ts';
import { HealthEngine } from '../src/health/engine.ts';
import { DEFAULT_RULES } from '../src/core/health/evaluate.ts';
import { loadConfig } from '../src/config/config.ts';
import { loadNotificationsConfig } from '../src/notify/config.ts';
import { createLogger, startServer } from '../src/app/serve.ts';
import { useCleanups } from './support/cleanups.ts';

/**
 * A kill -9 loses no notification. A real `vigil serve` (child process) is killed with SIGKILL
 * while its webhook request is in flight, then started again: the receiver gets the message
 * again, with the same delivery id. And an issue opened by a process that died before queuing
 * its message is queued and sent when the server starts.
 */
const BIN = path.resolve('bin/vigil.js');

function startVigil(configFile: string, env: NodeJS.ProcessEnv): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  let out = '';
  const child = spawn(process.execPath, [BIN, 'serve', '--config', configFile], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

for (const dialect of DIALECTS) {
  describe(`${dialect}: a restart in the middle of delivery`, () => {
    const cleanups = useCleanups();

    it('kill -9 while the receiver holds the request: after restart it gets the same message, same delivery id', async () => {
      const db = await freshDbUrl(dialect);
      cleanups.push(db.cleanup);
      // First request: read, never answered (the server is killed meanwhile); then 200.
      const hook = await startHttpReceiver(['hang']);
      cleanups.push(() => hook.close());
      const dir = cleanups.tempDir('vigil-restart-');
      const configFile = path.join(dir, 'vigil.yaml');
      fs.writeFileSync(
        configFile,
        [
          'listen: 127.0.0.1:0',
          `db: ${db.url}`,
          'metrics_listen: "off"',
          'health:',
          '  evaluate_every: 200ms',
          'notifications:',
          '  timeout: 1s',
          '  channels:',
          '    hook:',
          '      type: webhook',
          '      url: ${HOOK_URL}',
          '',
        ].join('\n'),
      );
      const env = { HOOK_URL: hook.url };

      // No bouncer registered: se_no_rc opens at the first evaluation and is sent.
      const first = startVigil(configFile, env);
      cleanups.push(async () => void first.child.kill('SIGKILL'));
      await hook.waitFor(1);
      expect(hook.hanging()).toBe(1);
      first.child.kill('SIGKILL');
      expect(await first.exited).toBe(null);

      const second = startVigil(configFile, env);
      cleanups.push(async () => {
        second.child.kill('SIGTERM');
        await second.exited;
      });
      // The dead server's lease (2 × the 1 s timeout) runs out, the new one sends it again.
      const [a, b] = await hook.waitFor(2);
      expect(b!.headers['x-vigil-delivery']).toBe(a!.headers['x-vigil-delivery']);
      expect(b!.body).toBe(a!.body);
      expect(b!.json).toMatchObject({ event: 'opened', issues: [{ kind: 'se_no_rc' }] });
      // Delivered once after the restart: nothing more comes (the open is not queued twice). The
      // pause is the scenario (1.5 s in which no third request may arrive), not a wait for an event.
      await new Promise((r) => setTimeout(r, 1500));
      expect(hook.requests).toHaveLength(2);
      expect(second.output()).toContain('notification delivered to hook: HTTP 200 ok');
      expect(second.output()).not.toContain('secret-token-123');
      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);
    });

    it('an issue opened by a process that died before queuing its message is sent when the server starts', async () => {
      const db = await freshDbUrl(dialect);
      cleanups.push(db.cleanup);
      const hook = await startHttpReceiver();
      cleanups.push(() => hook.close());
      const clock = new ManualClock(Date.UTC(2026, 10, 9));
      // The "dead" process: it evaluated (the issue is stored) and never planned a notification.
      const store = await Store.open(db.url);
      const opened = (await new HealthEngine(store, clock, DEFAULT_RULES).evaluateNow()).opened;
      await store.close();
      expect(opened.map((i) => i.kind)).toEqual(['se_no_rc']);

      const config = loadConfig({ flags: { listen: '127.0.0.1:0', db: db.url, metricsListen: 'off' }, env: {}, cwd: '/nonexistent' });
      config.health.evaluateEveryMs = 0;
      config.notifications = loadNotificationsConfig({ channels: { hook: { type: 'webhook', url: hook.url } } }, null);
      const server = await startServer(config, { clock, log: createLogger('silent'), env: {} });
      cleanups.push(() => server.close());
      // Queued at start, before any evaluation of this server.
      expect((await server.notifications.store.outbox()).map((m) => [m.event, m.content.issues.map((i) => i.id)])).toEqual([['opened', [opened[0]!.id]]]);
      await server.notifications.dispatcher.runDue();
      expect(hook.requests.map((r) => r.json.issues[0].id)).toEqual([opened[0]!.id]);
    });
  });
}
