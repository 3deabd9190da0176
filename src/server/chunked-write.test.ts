import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { ChunkBuffers, writeChunks } from './chunked-write.ts';

const PIECE = 64 * 1024;
const PIECES = 4096; // 256 MB if it were all buffered

describe('writeChunks', () => {
  let server: http.Server | undefined;
  let client: net.Socket | undefined;
  afterEach(async () => {
    client?.destroy();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  it('pulls the next piece only once the socket took the last: a client that does not read holds back the rest', async () => {
    let pulled = 0;
    let finished: Promise<void> | undefined;
    const piece = Buffer.alloc(PIECE, 0x61);
    function* pieces() {
      for (let i = 0; i < PIECES; i++) {
        pulled++;
        yield piece;
      }
    }
    server = http.createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      finished = writeChunks(res, pieces(), () => nextTurn().then(() => undefined));
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    client = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve) => client!.once('connect', resolve));
    client.pause();
    client.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');

    // Wait (bounded) until the writer stops pulling: the socket's buffers are full.
    let last = -1;
    for (let stable = 0, i = 0; stable < 5 && i < 400; i++) {
      await new Promise((r) => setTimeout(r, 20));
      stable = pulled === last && pulled > 0 ? stable + 1 : 0;
      last = pulled;
    }
    expect(pulled).toBeGreaterThan(0);
    // Loopback socket buffers hold a few MB; everything else waits in the generator.
    expect(pulled).toBeLessThan(PIECES / 4);

    // Reading resumes: the rest follows, and the answer ends.
    let received = 0;
    const ended = new Promise<void>((resolve) => client!.on('end', resolve));
    client.on('data', (c: Buffer) => {
      received += c.length;
      // The whole answer arrived (headers plus chunked framing above the payload): close, as a bouncer would.
      if (received > PIECE * PIECES) client!.end();
    });
    client.resume();
    await finished;
    expect(pulled).toBe(PIECES);
    client.end();
    await ended.catch(() => {});
    expect(received).toBeGreaterThan(PIECE * PIECES);
  });

  it('stops pulling once the client has gone', async () => {
    let pulled = 0;
    let finished: Promise<void> | undefined;
    function* pieces() {
      for (let i = 0; i < PIECES; i++) {
        pulled++;
        yield Buffer.alloc(PIECE, 0x62);
      }
    }
    const arrived = new Promise<void>((resolve) => {
      server = http.createServer((_req, res) => {
        res.writeHead(200);
        finished = writeChunks(res, pieces(), () => nextTurn().then(() => undefined));
        resolve();
      });
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const { port } = server!.address() as AddressInfo;
    client = net.connect(port, '127.0.0.1');
    client.pause();
    client.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await arrived;
    client.destroy();
    await finished;
    expect(pulled).toBeLessThan(PIECES);
  });

  it('reuses a chunk buffer only after the socket wrote it: every byte arrives as it was written', async () => {
    // Pieces under the socket's high-water mark: writes return true while earlier pieces still
    // wait in its queue (the reader is paused), so only the write callback says a buffer is free.
    const SIZE = 6 * 1024;
    const COUNT = 4000;
    const buffers = new ChunkBuffers();
    const seen = new Set<ArrayBufferLike>();
    function* pieces() {
      for (let i = 0; i < COUNT; i++) {
        const b = buffers.alloc(SIZE);
        seen.add(b.buffer);
        b.fill(i % 251, 0, SIZE);
        yield b.subarray(0, SIZE);
      }
    }
    server = http.createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
      void writeChunks(res, pieces(), () => nextTurn().then(() => undefined), buffers);
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const body = await new Promise<Buffer>((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
          const parts: Buffer[] = [];
          // A slow reader at first: writes wait, buffers queue up, then get handed back.
          res.pause();
          setTimeout(() => res.resume(), 200);
          res.on('data', (c: Buffer) => parts.push(c));
          res.on('end', () => resolve(Buffer.concat(parts)));
        })
        .on('error', reject);
    });
    expect(body.length).toBe(SIZE * COUNT);
    for (let i = 0; i < COUNT; i++) {
      const part = body.subarray(i * SIZE, (i + 1) * SIZE);
      expect(part.every((x) => x === i % 251)).toBe(true);
    }
    // Reused: far fewer buffers than chunks.
    expect(seen.size).toBeLessThan(COUNT / 4);
  });
});
