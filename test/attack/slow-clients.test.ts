import http from 'node:http';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { crowdsecBouncersAvailable } from '../support/crowdsec-bouncers.ts';
import { freshDbUrl } from '../support/databases.ts';
import { msUntilBouncerBans, pull, startRealBouncer, startVigilChild, type VigilChild } from './vigil-child.ts';
import { eventually } from '../support/wait.ts';
import { useCleanups } from '../support/cleanups.ts';

const realBouncers = crowdsecBouncersAvailable();

/**
 * Issue 15, slow clients: idle and slowloris connections must not exhaust a stock 1,024
 * descriptor limit nor keep a real bouncer's pull waiting. Loopback only: the hostile sockets
 * come from 127.0.0.2–127.0.0.9, the bouncer from 127.0.0.1.
 */
const HOSTILE_SOURCES = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5', '127.0.0.6', '127.0.0.7', '127.0.0.8', '127.0.0.9'];

interface Hostile {
  sockets: net.Socket[];
  closed(): number;
  destroy(): void;
}

/** `count` connections, half idle, half dripping a request header one byte a second. */
async function openHostile(port: number, count: number): Promise<Hostile> {
  const sockets: net.Socket[] = [];
  let closed = 0;
  const timers: NodeJS.Timeout[] = [];
  const opened: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const s = net.connect({ host: '127.0.0.1', port, localAddress: HOSTILE_SOURCES[i % HOSTILE_SOURCES.length] });
    sockets.push(s);
    s.on('error', () => {});
    s.on('close', () => closed++);
    opened.push(
      new Promise<void>((resolve) => {
        s.once('connect', () => resolve());
        s.once('close', () => resolve());
        setTimeout(resolve, 3_000).unref();
      }),
    );
    if (i % 2 === 1) {
      s.once('connect', () => {
        s.write('GET /v1/decisions/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
        const t = setInterval(() => s.writable && s.write('a'), 1_000);
        timers.push(t);
      });
    }
    // Spread the connects a little: a burst of 2,000 SYNs overflows the listen backlog on its own.
    if (i % 100 === 99) await new Promise((r) => setTimeout(r, 10));
  }
  await Promise.all(opened);
  return {
    sockets,
    closed: () => closed,
    destroy() {
      for (const t of timers) clearInterval(t);
      for (const s of sockets) s.destroy();
    },
  };
}

describe('slow clients on the Local API listener', () => {
  const cleanups = useCleanups();

  let dbUrl = '';
  async function start(configLines: string[] = [], nofile?: number): Promise<VigilChild> {
    const db = await freshDbUrl('sqlite');
    cleanups.push(db.cleanup);
    dbUrl = db.url;
    const vigil = await startVigilChild({ db: db.url, configLines, nofile });
    cleanups.push(() => vigil.stop());
    return vigil;
  }

  it('2,000 idle and slowloris connections under a 1,024 descriptor limit: a bouncer pull still answers in < 1 s', async () => {
    const vigil = await start([], 1024);
    const hostile = await openHostile(vigil.port, 2_000);
    cleanups.push(() => hostile.destroy());
    for (let i = 0; i < 3; i++) {
      const r = await pull(vigil.port, { timeoutMs: 3_000 });
      expect(r.status).toBe(200);
      expect(JSON.parse(r.body)).toEqual({ new: null, deleted: null });
      expect(r.ms).toBeLessThan(1_000);
    }
    // Past the cap, each new socket took the place of the oldest that had sent nothing, said once, aggregated.
    await eventually('the shed connections to be logged', () => /idle connections closed to make room \(\d+ no request\)/.test(vigil.output()), 8_000);
    expect(vigil.output()).toMatch(/open-file limit/);
  }, 30_000);

  it('the header timeout closes idle and slowloris sockets; a keep-alive bouncer connection survives it', async () => {
    const vigil = await start(['limits:', '  header_timeout: 2s']);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    cleanups.push(() => agent.destroy());
    const get = () =>
      new Promise<{ status: number; reused: boolean }>((resolve, reject) => {
        const req = http.get(
          {
            host: '127.0.0.1',
            port: vigil.port,
            path: '/v1/decisions/stream',
            agent,
            headers: { 'X-Api-Key': 'attack-test-key-0123456789abcdef', 'User-Agent': 'crowdsec-custom-bouncer/v0.0.15' },
          },
          (res) => {
            res.resume();
            res.on('end', () => resolve({ status: res.statusCode!, reused: req.reusedSocket }));
          },
        );
        req.on('error', reject);
      });
    expect((await get()).status).toBe(200);
    const started = Date.now();
    const hostile = await openHostile(vigil.port, 40);
    cleanups.push(() => hostile.destroy());
    await eventually('the hostile sockets to be closed', () => hostile.closed() === 40, 6_000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_500);
    // Idle between pulls for longer than the header timeout: keep-alive is governed by its own timeout.
    const again = await get();
    expect(again).toEqual({ status: 200, reused: true });
  }, 30_000);

  // In CI the real bouncer must run; elsewhere its absence is said in the name.
  it.skipIf(!realBouncers.custom && !process.env.CI)(
    `the real crowdsec-custom-bouncer keeps getting decisions during 2,000 hostile connections${realBouncers.custom ? '' : ` (skipped: ${realBouncers.reason})`}`,
    async () => {
      const vigil = await start([], 1024);
      const hostile = await openHostile(vigil.port, 2_000);
      cleanups.push(() => hostile.destroy());
      const bouncer = await startRealBouncer(vigil, cleanups);
      // The decision reached the real bouncer within a few of its 1 s pulls, hostile sockets notwithstanding.
      expect(await msUntilBouncerBans(bouncer, dbUrl, '192.0.2.99')).toBeLessThan(5_000);
      expect(bouncer.exitCode()).toBeUndefined();
    },
    40_000,
  );
});
