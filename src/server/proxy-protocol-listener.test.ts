import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { duplexPair } from 'node:stream';
import tls from 'node:tls';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { makeSelfSignedCert, opensslAvailable } from '../../test/support/test-pki.ts';
import { TrustedProxies } from '../remediation/client-ip.ts';
import { requestPeer, socketPeer } from './client-address.ts';
import { acceptProxyProtocol } from './proxy-protocol-listener.ts';

/**
 * The PROXY protocol in front of node:http and node:https on real loopback sockets: the header alone
 * or in one chunk with the request (or the TLS ClientHello), v1 and v2, a trusted and an untrusted
 * peer, a bad header, and a connection that never sends anything.
 */
const silent = pino({ level: 'silent' });
const V2_SIG = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const v2 = (src: number[], sport: number) => Buffer.from([...V2_SIG, 0x21, 0x11, 0, 12, ...src, 127, 0, 0, 1, sport >> 8, sport & 0xff, 0x1f, 0x90]);
const GET = 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n';

const servers: net.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise<void>((r) => s.close(() => r()));
});

async function serve(server: http.Server, trusted: string[], headerTimeoutMs = 5_000): Promise<{ port: number; connections: string[] }> {
  const connections: string[] = [];
  // Stands for the connection guard: a listener attached before, which must see the client.
  server.on('connection', (s: net.Socket) => connections.push(socketPeer(s)));
  acceptProxyProtocol(server, { trusted: new TrustedProxies(trusted), headerTimeoutMs, maxWaiting: 16, log: silent });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as net.AddressInfo).port, connections };
}

/** Writes `chunks` one write each (a pause between them), reads until the server closes. */
function exchange(port: number, chunks: (string | Buffer)[], from = '127.0.0.1'): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port, localAddress: from });
    let out = '';
    s.on('data', (d) => (out += d.toString('latin1')));
    s.on('close', () => resolve(out));
    s.on('error', (e) => ((e as NodeJS.ErrnoException).code === 'ECONNRESET' ? resolve(out) : reject(e)));
    s.on('connect', async () => {
      for (const c of chunks) {
        s.write(c);
        await new Promise((r) => setTimeout(r, 20));
      }
    });
  });
}

const body = (answer: string) => answer.split('\r\n\r\n')[1];

describe('PROXY protocol on a plain listener', () => {
  const echo = () => http.createServer((req, res) => res.end(requestPeer(req)));

  it("a trusted balancer's v1 or v2 header names the client, whether it comes alone or with the request", async () => {
    const { port, connections } = await serve(echo(), ['127.0.0.1']);
    expect(body(await exchange(port, [`PROXY TCP4 192.0.2.1 127.0.0.1 1000 ${port}\r\n`, GET]))).toBe('192.0.2.1');
    expect(body(await exchange(port, [`PROXY TCP6 2001:db8::9 ::1 1000 ${port}\r\n${GET}`]))).toBe('2001:db8::9');
    expect(body(await exchange(port, [Buffer.concat([v2([198, 51, 100, 7], 4000), Buffer.from(GET)])]))).toBe('198.51.100.7');
    expect(connections).toEqual(['192.0.2.1', '2001:db8::9', '198.51.100.7']);
  });

  it("serves a connection without a header as it is, ignores an untrusted peer's header, closes on a bad one", async () => {
    const { port } = await serve(echo(), ['127.0.0.1']);
    expect(body(await exchange(port, [GET], '127.0.0.2'))).toBe('127.0.0.2');
    expect(body(await exchange(port, [`PROXY TCP4 192.0.2.1 127.0.0.1 1000 ${port}\r\n${GET}`], '127.0.0.3'))).toBe('127.0.0.3');
    expect(await exchange(port, [`PROXY TCP4 192.0.2.300 127.0.0.1 1000 ${port}\r\n${GET}`])).toBe('');
  });

  it('closes a connection that sends nothing within the header timeout', async () => {
    const { port } = await serve(echo(), ['127.0.0.1'], 200);
    // Nothing is sent: the server's close is the event waited for (bounded by the test's timeout).
    expect(await exchange(port, [])).toBe('');
  });
});

describe.skipIf(!opensslAvailable())('PROXY protocol under TLS (a TCP balancer passing TLS through)', () => {
  it('the header before the ClientHello, alone or in the same chunk, names the client of the TLS connection', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-pp-tls-'));
    const { cert, key } = makeSelfSignedCert(dir);
    const { port } = await serve(
      https.createServer({ cert, key }, (req, res) => res.end(requestPeer(req))),
      ['127.0.0.1'],
    );
    for (const sameChunk of [false, true]) {
      const answer = await new Promise<string>((resolve, reject) => {
        const raw = net.connect(port, '127.0.0.1', () => {
          const header = Buffer.from(`PROXY TCP4 203.0.113.${sameChunk ? 2 : 1} 127.0.0.1 1000 ${port}\r\n`);
          if (!sameChunk) raw.write(header);
          // The TLS client writes through a pair, so its ClientHello can share a chunk with the header.
          const [a, b] = duplexPair();
          let first = sameChunk;
          b.on('data', (c: Buffer) => {
            raw.write(first ? Buffer.concat([header, c]) : c);
            first = false;
          });
          raw.on('data', (d) => b.write(d));
          raw.on('close', () => b.end());
          const t = tls.connect({ socket: a, rejectUnauthorized: false, servername: 'localhost' }, () => t.write(GET));
          let out = '';
          t.on('data', (d) => (out += d));
          t.on('end', () => resolve(out));
          t.on('error', reject);
          t.setTimeout(5_000, () => t.destroy(new Error('no TLS answer within 5 s')));
        });
      });
      expect(body(answer)).toBe(sameChunk ? '203.0.113.2' : '203.0.113.1');
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
