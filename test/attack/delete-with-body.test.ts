import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDbUrl } from '../support/databases.ts';
import { requestFrom } from '../support/http-from.ts';
import { loginNewMachine } from '../support/watcher-login.ts';
import { startServer, createLogger, type RunningServer } from '../../src/app/serve.ts';
import { loadConfig } from '../../src/config/config.ts';
import { activeDecisions } from '../../src/store/decisions.ts';

/**
 * crowdsec-client 1.0.0 sends `Decisions.delete({ip})` and `Alerts.delete({ip})` filters as a JSON
 * body; CrowdSec reads only the query, so that call deletes every decision (or alert). Vigil refuses
 * a DELETE with a body on those two paths: 400 naming the fix, nothing deleted.
 */
import { cscliAlert } from '../support/cscli-alert.ts';

const UA = 'crowdsec/v1.4.6-6~deb12u1+b1-linux-debian';

describe('a DELETE whose filters are in the body cannot wipe every decision', () => {
  let server: RunningServer;
  let cleanup: () => Promise<void>;
  let auth: Record<string, string>;

  beforeAll(async () => {
    const db = await freshDbUrl('sqlite');
    cleanup = db.cleanup;
    const config = loadConfig({ flags: { listen: '127.0.0.1:0', db: db.url, metricsListen: 'off', adminListen: 'off' }, env: {}, cwd: process.cwd() });
    server = await startServer(config, { log: createLogger('silent') });
    const token = await loginNewMachine(server, 'agent', 'a-password-of-some-length', UA);
    auth = { 'User-Agent': UA, Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' };
    const alert = (value: string) => cscliAlert(value, '1h');
    const pushed = await requestFrom(`${server.url}/v1/alerts`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify([alert('192.0.2.1'), alert('192.0.2.2')]),
    });
    expect(pushed.status).toBe(201);
  });
  afterAll(async () => {
    await server?.close();
    await cleanup?.();
  });

  it.each(['/v1/decisions', '/v1/alerts'])('DELETE %s with a JSON body → 400 naming the query string, nothing deleted', async (p) => {
    const r = await requestFrom(`${server.url}${p}`, { method: 'DELETE', headers: auth, body: JSON.stringify({ ip: '192.0.2.1' }) });
    expect(r.status).toBe(400);
    expect(JSON.parse(r.text).message).toContain(`filters go in the query string (e.g. ${p}?ip=192.0.2.1)`);
    expect((await activeDecisions(server.store, Date.now())).map((d) => d.value).sort()).toEqual(['192.0.2.1', '192.0.2.2']);
  });

  it('the same filter in the query deletes just that decision', async () => {
    const r = await requestFrom(`${server.url}/v1/decisions?ip=192.0.2.1`, { method: 'DELETE', headers: auth });
    expect([r.status, r.text]).toEqual([200, '{"nbDeleted":"1"}']);
    expect((await activeDecisions(server.store, Date.now())).map((d) => d.value)).toEqual(['192.0.2.2']);
  });
});
