import net from 'node:net';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { freshDbUrl } from '../support/databases.ts';
import { BOUNCER_KEY, BOUNCER_UA, pull, startVigilChild, type VigilChild } from './vigil-child.ts';
import { eventually } from '../support/wait.ts';
import { requestFrom } from '../support/http-from.ts';
import { Store } from '../../src/store/store.ts';
import { createMachine } from '../../src/store/machines.ts';
import { hashMachinePassword } from '../../src/lib/password.ts';
import { useCleanups } from '../support/cleanups.ts';

/**
 * Issue 15, bodies read before authentication: unfinished unauthenticated uploads must cost
 * (almost) nothing, a gzip bomb must stop at the cap, an unfinished body must be timed out.
 * Loopback only; the uploads come from 127.0.0.2–127.0.0.9.
 */
const SOURCES = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5', '127.0.0.6', '127.0.0.7', '127.0.0.8', '127.0.0.9'];
const PATHS = ['/v1/usage-metrics', '/admin/v1/issues/1/ack', '/ui/login', '/v1/watchers/login', '/v1/decisions'];

/** Raw request over a socket: the status line of the answer, and whether the server closed. */
function rawUpload(port: number, head: string, opts: { localAddress?: string; chunk?: Buffer; chunks?: number } = {}) {
  const s = net.connect({ host: '127.0.0.1', port, localAddress: opts.localAddress });
  let answer = '';
  let closed = false;
  s.on('error', () => {});
  s.on('data', (d) => (answer += d.toString('latin1')));
  s.on('close', () => (closed = true));
  const written = new Promise<void>((resolve) => {
    s.once('connect', async () => {
      s.write(head);
      for (let i = 0; i < (opts.chunks ?? 0) && !s.destroyed; i++) {
        const chunk = opts.chunk!;
        if (!s.write(`${chunk.length.toString(16)}\r\n`) || !s.write(chunk) || !s.write('\r\n')) await new Promise((r) => s.once('drain', r).once('close', r));
      }
      resolve();
    });
    s.once('close', () => resolve());
  });
  return { socket: s, written, status: () => /^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1], closed: () => closed };
}

describe('request bodies on the Local API listener', () => {
  const cleanups = useCleanups();

  async function start(configLines: string[] = []): Promise<VigilChild> {
    const db = await freshDbUrl('sqlite');
    cleanups.push(db.cleanup);
    const vigil = await startVigilChild({ db: db.url, configLines });
    cleanups.push(() => vigil.stop());
    return vigil;
  }

  it('600 unauthenticated chunked uploads that never finish: refused unread, memory bounded, pulls answer', async () => {
    const vigil = await start();
    await pull(vigil.port);
    const before = vigil.rssKb();
    const chunk = Buffer.alloc(64 * 1024, 'a');
    const uploads = Array.from({ length: 600 }, (_, i) =>
      rawUpload(
        vigil.port,
        `POST ${PATHS[i % PATHS.length]} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`,
        // 64 × 64 KiB = 4 MiB offered per upload, 2.4 GB in all; never the final chunk.
        { localAddress: SOURCES[i % SOURCES.length], chunk, chunks: 64 },
      ),
    );
    cleanups.push(() => {
      for (const u of uploads) u.socket.destroy();
    });
    await Promise.race([Promise.all(uploads.map((u) => u.written)), new Promise((r) => setTimeout(r, 8_000))]);
    const r = await pull(vigil.port, { timeoutMs: 3_000 });
    expect(r.status).toBe(200);
    expect(r.ms).toBeLessThan(1_000);
    const grewMb = (vigil.rssKb() - before) / 1024;
    expect(grewMb).toBeLessThan(100);
    // Every upload was refused (401/403/404/405/413) and its connection closed, without its body read.
    // A client still writing when the server closes may get a reset instead of the answer (as from Go's net/http).
    await eventually('every upload to be closed', () => uploads.every((u) => u.closed()), 8_000);
    const statuses = new Set(uploads.map((u) => u.status()).filter((s) => s !== undefined));
    expect(statuses.size).toBeGreaterThan(0);
    for (const s of statuses) expect(['401', '403', '404', '405', '413']).toContain(s);
  }, 30_000);

  it('a gzip bomb to /v1/usage-metrics with a valid key: 413, memory bounded', async () => {
    const vigil = await start();
    await pull(vigil.port);
    const before = vigil.rssKb();
    // 1 GiB of zeros in ~1 MiB: within the body cap, a thousand times over it once inflated.
    const bomb = zlib.gzipSync(Buffer.alloc(1 << 30), { level: 9 });
    expect(bomb.length).toBeLessThan(1 << 20);
    const res = await requestFrom(`http://127.0.0.1:${vigil.port}/v1/usage-metrics`, {
      method: 'POST',
      headers: { 'X-Api-Key': BOUNCER_KEY, 'User-Agent': BOUNCER_UA, 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' },
      body: bomb,
    });
    expect(res.status).toBe(413);
    expect(JSON.parse(res.text).message).toMatch(/^body: larger than 1048576 bytes once decompressed/);
    expect((vigil.rssKb() - before) / 1024).toBeLessThan(50);
  }, 30_000);

  it('a gzip bomb to /v1/alerts (valid token) and to /v1/watchers: 413, as README says, not 400', async () => {
    const db = await freshDbUrl('sqlite');
    cleanups.push(db.cleanup);
    const store = await Store.open(db.url);
    await createMachine(store, {
      machineId: 'agent',
      passwordHash: await hashMachinePassword('a-password-of-some-length'),
      now: Date.now(),
      isValidated: true,
    });
    await store.close();
    const vigil = await startVigilChild({ db: db.url });
    cleanups.push(() => vigil.stop());
    const UA = 'crowdsec/v1.4.6-6~deb12u1+b1-linux-debian';
    const login = await requestFrom(`${vigil.url}/v1/watchers/login`, {
      method: 'POST',
      headers: { 'User-Agent': UA, 'Content-Type': 'application/json' },
      body: JSON.stringify({ machine_id: 'agent', password: 'a-password-of-some-length', scenarios: [] }),
    });
    const token = JSON.parse(login.text).token as string;
    // 128 MiB of spaces (valid JSON whitespace) in ~130 KB: within the 64 MiB cap as sent, twice over it inflated.
    const alertsBomb = zlib.gzipSync(Buffer.alloc(128 << 20, ' '), { level: 9 });
    const alerts = await requestFrom(`${vigil.url}/v1/alerts`, {
      method: 'POST',
      headers: { 'User-Agent': UA, Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' },
      body: alertsBomb,
      timeoutMs: 20_000,
    });
    expect([alerts.status, JSON.parse(alerts.text).message]).toEqual([413, `body: larger than ${64 << 20} bytes once decompressed`]);
    const registerBomb = zlib.gzipSync(Buffer.alloc(4 << 20, ' '), { level: 9 });
    const register = await requestFrom(`${vigil.url}/v1/watchers`, {
      method: 'POST',
      headers: { 'User-Agent': UA, 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' },
      body: registerBomb,
    });
    expect(register.status).toBe(413);
    expect(JSON.parse(register.text).message).toMatch(/^body: larger than \d+ bytes once decompressed$/);
    expect((await pull(vigil.port)).status).toBe(200);
  }, 30_000);

  it('an authenticated body that never finishes is closed after limits.request_timeout', async () => {
    const vigil = await start(['limits:', '  header_timeout: 1s', '  request_timeout: 2s']);
    const started = Date.now();
    const u = rawUpload(
      vigil.port,
      `POST /v1/usage-metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Api-Key: ${BOUNCER_KEY}\r\nUser-Agent: ${BOUNCER_UA}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"remediation_components":`,
    );
    cleanups.push(() => void u.socket.destroy());
    await eventually('the unfinished body to be closed', () => u.closed(), 8_000);
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(1_500);
    expect(took).toBeLessThan(6_000);
    expect(['408', undefined]).toContain(u.status());
  }, 30_000);
});
