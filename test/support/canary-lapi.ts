import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { startServer, createLogger, type RunningServer } from '../../src/app/serve.ts';
import { loadConfig } from '../../src/config/config.ts';
import { generateApiKey, hashApiKey } from '../../src/core/bouncers/api-key.ts';
import type { HealthIssue } from '../../src/core/model/health-issue.ts';
import { systemClock } from '../../src/lib/clock.ts';
import { loadForwardAuthConfig } from '../../src/remediation/forward-auth/config.ts';
import { startForwardAuth, type ForwardAuthServer } from '../../src/remediation/forward-auth/server.ts';

/**
 * A real `vigil serve` (SQLite, port 0) whose vigil.yaml holds `canaries:`, and a real
 * forward-auth daemon pulling from it: what the canary tests put a real nginx or Caddy in front of.
 * The health engine evaluates only when a canary run or a drift observation asks it to
 * (health.evaluate_every 0), so an issue opening proves the canary raised it.
 */
export interface CanaryLapi {
  server: RunningServer;
  url: string;
  dir: string;
  addBouncer(name: string): Promise<string>;
  /** The forward-auth daemon as bouncer `name`, trusting X-Forwarded-For from 127.0.0.1. */
  forwardAuth(name: string): Promise<ForwardAuthServer>;
  openIssues(kind: string): Promise<HealthIssue[]>;
  /** Active decisions for `ip` (none must be left by a canary). */
  activeFor(ip: string): Promise<number>;
  close(): Promise<void>;
}

export async function startCanaryLapi(canariesYaml: string): Promise<CanaryLapi> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-canary-'));
  fs.writeFileSync(path.join(dir, 'vigil.yaml'), `canaries:\n${canariesYaml}`);
  const config = loadConfig({
    flags: { config: path.join(dir, 'vigil.yaml'), listen: '127.0.0.1:0', db: `sqlite:${path.join(dir, 'vigil.db')}`, metricsListen: 'off' },
    env: {},
    cwd: dir,
    systemConfigFile: null,
  });
  config.health.evaluateEveryMs = 0;
  const server = await startServer(config, { clock: systemClock, log: createLogger('silent') });
  const daemons: ForwardAuthServer[] = [];
  let closed = false;
  const lapi: CanaryLapi = {
    server,
    url: `${server.url}/`,
    dir,
    async addBouncer(name) {
      const key = generateApiKey();
      await server.store.createBouncer({ name, apiKeyHash: hashApiKey(key), now: Date.now() });
      return key;
    },
    async forwardAuth(name) {
      const key = await lapi.addBouncer(name);
      const file = path.join(dir, `${name}.yaml`);
      fs.writeFileSync(
        file,
        [
          `api_url: ${lapi.url}`,
          `api_key: ${key}`,
          'listen: 127.0.0.1:0',
          'update_frequency: 200ms',
          'trusted_proxies: [127.0.0.1]',
          'captcha:',
          '  difficulty: 12',
          `  signing_key_file: ${dir}/${name}-captcha.key`,
        ].join('\n'),
      );
      const fa = await startForwardAuth(loadForwardAuthConfig(file), { log: pino({ level: 'silent' }) });
      await fa.bouncer.ready();
      daemons.push(fa);
      return fa;
    },
    async openIssues(kind) {
      return (await server.store.openHealthIssues()).filter((i) => i.kind === kind);
    },
    async activeFor(ip) {
      return (await server.store.activeDecisions(Date.now())).filter((d) => d.value === ip).length;
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const d of daemons) await d.close();
      await server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return lapi;
}
