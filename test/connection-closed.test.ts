import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, createLogger, type RunningServer } from '../src/app/serve.ts';
import { loadConfig } from '../src/config/config.ts';
import { hashApiKey } from '../src/core/bouncers/api-key.ts';
import { createBouncer } from '../src/store/bouncers.ts';
import { freshDbUrl } from './support/databases.ts';
import { eventually } from './support/wait.ts';

/**
 * The bouncer closing its own keep-alive connection is seen (server/connection-watch.ts): its process
 * exited. Vigil closing an idle connection itself (its keep-alive timeout) is not the bouncer's doing.
 * Real sockets on loopback, speaking HTTP/1.1 as the Go bouncers do.
 */
const KEY = 'connection-closed-key-0123456789abcdef';

describe('a bouncer closing its connection', () => {
  let server: RunningServer;
  let cleanup: () => Promise<void>;
  let id = 0;

  beforeAll(async () => {
    const db = await freshDbUrl('sqlite');
    cleanup = db.cleanup;
    const config = loadConfig({ flags: { listen: '127.0.0.1:0', db: db.url, metricsListen: 'off' }, env: {}, cwd: '/nonexistent' });
    config.limits.keepAliveTimeoutMs = 1000;
    server = await startServer({ ...config, health: { ...config.health, evaluateEveryMs: 0 } }, { log: createLogger('silent') });
    id = (await createBouncer(server.store, { name: 'fw', apiKeyHash: hashApiKey(KEY), now: Date.now() })).id;
  });
  afterAll(async () => {
    await server?.close();
    await cleanup?.();
  });

  /** One keep-alive stream pull on a fresh connection; resolves with the socket once the answer is in. */
  async function pullOn(): Promise<net.Socket> {
    const { port } = new URL(server.url);
    const socket = net.connect(Number(port), '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    let answer = '';
    socket.on('data', (d) => (answer += d));
    socket.write(`GET /v1/decisions/stream?startup=true HTTP/1.1\r\nHost: lapi\r\nX-Api-Key: ${KEY}\r\nUser-Agent: crowdsec-firewall-bouncer/v0.0.25\r\n\r\n`);
    await eventually('the answer', () => /\r\n\r\n/.test(answer) && answer.startsWith('HTTP/1.1 200'), 10_000);
    return socket;
  }

  it('its own FIN after a pull is recorded; Vigil closing an idle connection is not', async () => {
    expect(server.activity.clientClosedAt(id)).toBeUndefined();
    // Vigil closes it (keep-alive timeout 1 s): nothing recorded.
    const idle = await pullOn();
    await new Promise((r) => idle.once('close', r));
    expect(server.activity.clientClosedAt(id)).toBeUndefined();
    // The bouncer closes it, as its kernel does when the process exits.
    const before = Date.now();
    const mine = await pullOn();
    mine.end();
    await eventually('the close recorded', () => server.activity.clientClosedAt(id) !== undefined, 5000);
    expect(server.activity.clientClosedAt(id)).toBeGreaterThanOrEqual(before);
    // A reset (killed with data unread) counts too.
    const reset = await pullOn();
    const first = server.activity.clientClosedAt(id)!;
    await new Promise((r) => setTimeout(r, 5));
    reset.resetAndDestroy();
    await eventually('the reset recorded', () => server.activity.clientClosedAt(id)! > first, 5000);
  });
});
