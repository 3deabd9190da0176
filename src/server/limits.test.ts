import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { connectionBudget, DEFAULT_LIMITS, guardListener, readOpenFileLimit } from './limits.ts';
import { eventually } from '../../test/support/wait.ts';
import { loadConfig } from '../config/config.ts';
import { DEFAULT_MAX_INSTANCES_PER_KEY } from '../core/bouncers/key-sharing.ts';

describe('listener limits', () => {
  it('reads the open-file limit from /proc/self/limits', () => {
    const text =
      'Limit                     Soft Limit           Hard Limit           Units\nMax open files            1024                 524288               files\n';
    expect(readOpenFileLimit(text)).toEqual({ soft: 1024, hard: 524288 });
    expect(readOpenFileLimit('Max open files unlimited unlimited files')).toEqual({ soft: Infinity, hard: Infinity });
    expect(readOpenFileLimit('nothing here')).toBeNull();
  });

  it('keeps descriptors for the store and logs, and says how to raise a low limit', () => {
    expect(connectionBudget(DEFAULT_LIMITS, { soft: 1_048_576, hard: 1_048_576 })).toEqual({ maxConnections: 10_000, warning: null });
    const low = connectionBudget(DEFAULT_LIMITS, { soft: 1024, hard: 1024 });
    expect(low.maxConnections).toBe(1024 - 128);
    expect(low.warning).toMatch(/open-file limit 1024 allows only 896 connections.*LimitNOFILE=65536/);
    expect(connectionBudget(DEFAULT_LIMITS, null).maxConnections).toBe(10_000);
  });

  it('limits: in vigil.yaml, with defaults; a bad value names the key', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-limits-'));
    const file = path.join(dir, 'vigil.yaml');
    expect(loadConfig({ env: {}, cwd: dir }).limits).toEqual({ ...DEFAULT_LIMITS, storeTimeoutMs: 5_000, maxInstancesPerKey: DEFAULT_MAX_INSTANCES_PER_KEY });
    fs.writeFileSync(file, 'limits:\n  header_timeout: 2s\n  max_connections_per_peer: 32\n  store_timeout: 1s\n');
    expect(loadConfig({ env: {}, cwd: dir }).limits).toMatchObject({
      headerTimeoutMs: 2_000,
      maxConnectionsPerPeer: 32,
      storeTimeoutMs: 1_000,
      keepAliveTimeoutMs: 65_000,
    });
    fs.writeFileSync(file, 'limits:\n  max_connections_per_peer: 0\n');
    expect(() => loadConfig({ env: {}, cwd: dir })).toThrow(/limits\.max_connections_per_peer: /);
    fs.writeFileSync(file, 'limits:\n  header_timout: 2s\n');
    expect(() => loadConfig({ env: {}, cwd: dir })).toThrow(/limits: unknown key header_timout/);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('guardListener on a real listener', () => {
  it("an authenticated keep-alive connection is neither counted against its address nor shed by that address's idle sockets", async () => {
    const server = http.createServer((req, res) => {
      res.statusCode = req.headers['x-api-key'] === 'good' ? 200 : 403;
      res.end('{}');
    });
    const lines: string[] = [];
    const log = pino({ level: 'info' }, { write: (l: string) => void lines.push(l) });
    const limits = { ...DEFAULT_LIMITS, maxConnectionsPerPeer: 4 };
    guardListener(server, limits, { log, fd: null, logEveryMs: 1_000 });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const get = (key: string, a: http.Agent | false) =>
      new Promise<{ status: number; reused: boolean }>((resolve, reject) => {
        const req = http.get(
          { host: '127.0.0.1', localAddress: '127.0.0.1', port, path: '/v1/decisions/stream', agent: a, headers: { 'X-Api-Key': key } },
          (res) => {
            res.resume();
            res.on('end', () => resolve({ status: res.statusCode!, reused: req.reusedSocket }));
          },
        );
        req.on('error', reject);
      });
    const idle: net.Socket[] = [];
    let closed = 0;
    try {
      expect(await get('good', agent)).toEqual({ status: 200, reused: false });
      for (let i = 0; i < 10; i++) {
        const s = net.connect({ host: '127.0.0.1', port, localAddress: '127.0.0.1' });
        s.on('error', () => {});
        s.on('close', () => closed++);
        idle.push(s);
        await new Promise((r) => s.once('connect', r));
      }
      // Ten from the bouncer's address, the cap is four: the six oldest made way, the bouncer's stayed.
      await eventually('six idle sockets to be shed', () => closed === 6, 3_000);
      expect(await get('good', agent)).toEqual({ status: 200, reused: true });
      // A refused key proves nothing: its connection counts and makes way like any idle one.
      expect(await get('wrong', false)).toEqual({ status: 403, reused: false });
      await eventually('the shedding to be logged', () => lines.some((l) => /7 idle connections closed to make room \(7 no request\)/.test(l)), 3_000);
    } finally {
      for (const s of idle) s.destroy();
      agent.destroy();
      await new Promise((r) => server.close(r));
    }
  });
});
