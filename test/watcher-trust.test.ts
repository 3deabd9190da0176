import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDbUrl } from './support/databases.ts';
import { requestFrom } from './support/http-from.ts';
import { loginNewMachine } from './support/watcher-login.ts';
import { startServer, createLogger, type RunningServer } from '../src/app/serve.ts';
import { loadConfig } from '../src/config/config.ts';
import { getMachine } from '../src/store/machines.ts';

/**
 * Who may delete alerts and register machines, from addresses other than 127.0.0.1 (CrowdSec
 * compares with exactly 127.0.0.1 and ::1): `api.trusted_ips`, `api.disable_remote_registration`
 * and `api.auto_registration.allowed_ranges`, played from 127.0.0.2 and 127.0.0.3 on loopback.
 */
const UA = 'crowdsec/v1.4.6-6~deb12u1+b1-linux-debian';
const TOKEN = 'r'.repeat(40);

describe('watcher routes: trusted addresses and registration', () => {
  let server: RunningServer;
  let cleanup: () => Promise<void>;
  let dir: string;
  let token: string;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-trust-'));
    const db = await freshDbUrl('sqlite');
    cleanup = db.cleanup;
    fs.writeFileSync(
      path.join(dir, 'vigil.yaml'),
      `api:\n  trusted_ips: [127.0.0.2]\n  disable_remote_registration: true\n  auto_registration:\n    enabled: true\n    token: ${TOKEN}\n    allowed_ranges: [127.0.0.1/32]\n`,
    );
    const config = loadConfig({
      flags: { config: path.join(dir, 'vigil.yaml'), listen: '127.0.0.1:0', db: db.url, metricsListen: 'off', adminListen: 'off' },
      env: {},
      cwd: dir,
    });
    server = await startServer(config, { log: createLogger('silent') });
    token = await loginNewMachine(server, 'agent', 'a-long-enough-password', UA);
  });
  afterAll(async () => {
    await server?.close();
    await cleanup?.();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const del = (from: string) =>
    requestFrom(`${server.url}/v1/alerts?ip=192.0.2.1`, {
      method: 'DELETE',
      headers: { 'User-Agent': UA, Authorization: `Bearer ${token}` },
      localAddress: from,
    });
  const register = (from: string, body: Record<string, string>) =>
    requestFrom(`${server.url}/v1/watchers`, {
      method: 'POST',
      headers: { 'User-Agent': UA, 'Content-Type': 'application/json' },
      body: JSON.stringify({ password: 'another-long-password', ...body }),
      localAddress: from,
    });

  it('deleting alerts: 127.0.0.1 and trusted_ips may, any other address gets 403 naming it', async () => {
    expect((await del('127.0.0.1')).status).toBe(200);
    expect((await del('127.0.0.2')).status).toBe(200);
    const refused = await del('127.0.0.3');
    expect([refused.status, JSON.parse(refused.text)]).toEqual([403, { message: 'access forbidden from this IP (127.0.0.3)' }]);
  });

  it('registration: remote addresses refused when disabled; the token validates only from allowed_ranges', async () => {
    const remote = await register('127.0.0.3', { machine_id: 'remote-agent' });
    expect([remote.status, JSON.parse(remote.text)]).toEqual([403, { message: 'remote registration is disabled' }]);
    expect(await getMachine(server.store, 'remote-agent')).toBeUndefined();
    const pending = await register('127.0.0.1', { machine_id: 'pending-agent' });
    expect(pending.status).toBe(201);
    expect((await getMachine(server.store, 'pending-agent'))?.isValidated).toBe(false);
    const wrongToken = await register('127.0.0.1', { machine_id: 'token-agent', registration_token: 'x'.repeat(40) });
    expect([wrongToken.status, JSON.parse(wrongToken.text)]).toEqual([401, { message: 'invalid token for auto registration' }]);
    const validated = await register('127.0.0.1', { machine_id: 'token-agent', registration_token: TOKEN });
    expect(validated.status).toBe(202);
    expect((await getMachine(server.store, 'token-agent'))?.isValidated).toBe(true);
  });
});
