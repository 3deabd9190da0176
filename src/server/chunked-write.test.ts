import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { writeChunks } from './chunked-write.ts';

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
});
