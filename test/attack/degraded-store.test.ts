import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { DIALECTS, freshDbUrl } from '../support/databases.ts';
import { requestFrom } from '../support/http-from.ts';
import { Store } from '../../src/store/store.ts';
import { buildDecision, manualAlert } from '../../src/decisions/new-decisions.ts';
import { pull, startVigilChild } from './vigil-child.ts';
import { eventually } from '../support/wait.ts';
import { addDecisions } from '../../src/store/decisions.ts';
import { useCleanups } from '../support/cleanups.ts';

/**
 * Issue 15, a degraded PostgreSQL: a TCP proxy between Vigil and the test's PostgreSQL freezes
 * (stops forwarding, as a SIGSTOPped server) and restarts (cuts every connection, refuses new
 * ones, then accepts again). Pulls keep answering from memory in < 1 s, /health and /metrics say
 * the store is degraded, and everything recovers by itself. Loopback only.
 */
interface PgProxy {
  port: number;
  freeze(): void;
  unfreeze(): void;
  /** Cuts every connection; while `refusing`, new ones are closed at once. */
  cut(): void;
  refusing: boolean;
  close(): Promise<void>;
}

async function startPgProxy(target: { host: string; port: number }): Promise<PgProxy> {
  const pairs = new Set<[net.Socket, net.Socket]>();
  let frozen = false;
  const proxy: PgProxy = {
    port: 0,
    refusing: false,
    freeze() {
      frozen = true;
      for (const [a, b] of pairs) a.pause(), b.pause();
    },
    unfreeze() {
      frozen = false;
      for (const [a, b] of pairs) a.resume(), b.resume();
    },
    cut() {
      for (const [a, b] of pairs) a.destroy(), b.destroy();
      pairs.clear();
    },
    close: () => new Promise<void>((r) => (proxy.cut(), server.close(() => r()))),
  };
  const server = net.createServer((client) => {
    client.on('error', () => {});
    if (proxy.refusing) return void client.destroy();
    const upstream = net.connect(target);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
    const pair: [net.Socket, net.Socket] = [client, upstream];
    pairs.add(pair);
    const drop = () => (pairs.delete(pair), client.destroy(), upstream.destroy());
    client.on('close', drop);
    upstream.on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
    if (frozen) client.pause(), upstream.pause();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  proxy.port = (server.address() as AddressInfo).port;
  return proxy;
}

describe.skipIf(!DIALECTS.includes('postgres'))('a frozen or restarting PostgreSQL', () => {
  const cleanups = useCleanups();

  it('pulls answer from memory in < 1 s while PostgreSQL is frozen or restarting; /health and /metrics say degraded; it recovers by itself', async () => {
    const db = await freshDbUrl('postgres');
    cleanups.push(db.cleanup);
    const direct = new URL(db.url);
    const proxy = await startPgProxy({ host: direct.hostname, port: Number(direct.port) });
    cleanups.push(() => proxy.close());
    const viaProxy = new URL(db.url);
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(proxy.port);

    // One active ban, written before the server starts: the index holds it.
    const store = await Store.open(db.url);
    const now = Date.now();
    const d = buildDecision({ scope: 'Ip', value: '192.0.2.7', type: 'ban', duration: '4h', reason: 'test', origin: 'cscli' }, now);
    await addDecisions(store, manualAlert({ now, scenario: 'test', scope: d.scope, value: d.value, count: 1, machineId: 'vigil' }), [d]);
    await store.close();

    const vigil = await startVigilChild({ db: viaProxy.toString(), metrics: true, configLines: ['limits:', '  store_timeout: 1s'] });
    cleanups.push(() => vigil.stop());
    const health = async () => (await requestFrom(`${vigil.url}/health`, { timeoutMs: 5_000 })).text;
    const storeUp = async () => /^vigil_store_up (\d)$/m.exec((await requestFrom(vigil.metricsUrl!, { timeoutMs: 5_000 })).text)?.[1];
    const startup = await pull(vigil.port);
    expect(startup.status).toBe(200);
    expect(JSON.parse(startup.body).new.map((x: { value: string }) => x.value)).toEqual(['192.0.2.7']);
    expect(await health()).toBe('{"status":"up"}');
    expect(await storeUp()).toBe('1');

    async function pullsKeepAnswering(forMs: number) {
      const end = Date.now() + forMs;
      while (Date.now() < end) {
        const s = await pull(vigil.port, { timeoutMs: 3_000 });
        expect(s.status).toBe(200);
        expect(s.ms).toBeLessThan(1_000);
        expect(JSON.parse(s.body).new.map((x: { value: string }) => x.value)).toEqual(['192.0.2.7']);
        const delta = await pull(vigil.port, { timeoutMs: 3_000, path: '/v1/decisions/stream' });
        expect(delta.status).toBe(200);
        expect(delta.ms).toBeLessThan(1_000);
        const live = await pull(vigil.port, { timeoutMs: 3_000, path: '/v1/decisions?ip=192.0.2.7' });
        expect(live.status).toBe(200);
        expect(live.ms).toBeLessThan(1_000);
        await new Promise((r) => setTimeout(r, 200));
      }
    }

    // Frozen: no byte goes either way (a SIGSTOPped server, a partitioned network).
    proxy.freeze();
    await pullsKeepAnswering(3_000);
    expect(await health()).toBe('{"status":"up","store":"degraded"}');
    expect(await storeUp()).toBe('0');
    // A key never seen before cannot be checked: 503 (retry), not 403 (wrong key).
    const stranger = await requestFrom(`${vigil.url}/v1/decisions/stream`, { headers: { 'X-Api-Key': 'never-seen-key-0123456789' }, timeoutMs: 5_000 });
    expect(stranger.status).toBe(503);
    expect(stranger.ms).toBeLessThan(1_000);
    proxy.unfreeze();
    await eventually('the store to be up again after the freeze', async () => (await health()) === '{"status":"up"}', 12_000, 200);
    expect(await storeUp()).toBe('1');

    // Restart: every connection cut, new ones refused for a while, then accepted again.
    proxy.refusing = true;
    proxy.cut();
    await pullsKeepAnswering(2_000);
    expect(await health()).toBe('{"status":"up","store":"degraded"}');
    proxy.refusing = false;
    await eventually('the store to be up again after the restart', async () => (await health()) === '{"status":"up"}', 12_000, 200);
    const after = await pull(vigil.port);
    expect(after.status).toBe(200);
    expect(after.ms).toBeLessThan(1_000);
    // Logged when it went down and when it came back, not once per failed call.
    expect(vigil.output().match(/store unreachable or slow/g)!.length).toBeLessThanOrEqual(4);
    expect(vigil.output()).toMatch(/store answering again/);
  }, 60_000);
});
