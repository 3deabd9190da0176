/**
 * Real network failures on loopback, for the doctor's probes:
 * - a port with nothing listening (connection refused): `closedPort()`;
 * - a server that accepts connections and never answers: `startSilentServer()`;
 * - a TLS server with a self-signed certificate (test-pki.ts's makeSelfSignedCert): `startSelfSignedTlsServer()`;
 * - packets dropped (connect timeout) and ICMP host/network unreachable: `startPacketFilter()`, an
 *   nftables table of our own that drops or rejects traffic to chosen loopback ports (root + nft).
 */
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { freePort } from './processes.ts';

/** A loopback port nobody listens on (bound once, then released). */
export const closedPort = freePort;

export interface Closable {
  port: number;
  close(): Promise<void>;
}

/** Accepts TCP connections and never sends a byte. */
export async function startSilentServer(): Promise<Closable> {
  const sockets = new Set<net.Socket>();
  const s = net.createServer((sock) => {
    sockets.add(sock);
    sock.on('error', () => {});
    sock.on('close', () => sockets.delete(sock));
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return {
    port: (s.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((r) => {
        for (const x of sockets) x.destroy();
        s.close(() => r());
      }),
  };
}

/** An https server with that certificate, proxying every request to `target` (a Local API). */
export async function startSelfSignedTlsServer(cert: { cert: string; key: string }, target?: string): Promise<Closable> {
  const s = https.createServer({ cert: cert.cert, key: cert.key }, (req, res) => {
    if (!target) {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{"status":"up"}');
      return;
    }
    const u = new URL(req.url ?? '/', target);
    const p = http.request(u, { method: req.method, headers: { ...req.headers, host: u.host } }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    p.on('error', () => {
      res.writeHead(502);
      res.end();
    });
    req.pipe(p);
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return {
    port: (s.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((r) => {
        s.close(() => r());
        s.closeAllConnections();
      }),
  };
}

// ------------------------------------------------------------------------------------ nftables

export function packetFilterAvailable(): { available: boolean; reason?: string } {
  if (process.getuid?.() !== 0) return { available: false, reason: 'needs root for nftables' };
  try {
    execFileSync('nft', ['list', 'tables'], { stdio: 'ignore' });
    return { available: true };
  } catch {
    return { available: false, reason: 'nft (nftables) not installed or not working here' };
  }
}

export interface PacketFilter {
  /** Silently drop packets to 127.0.0.1:port: connect times out. */
  drop(port: number): void;
  /** Reject them with ICMP host-unreachable (EHOSTUNREACH) or no-route (ENETUNREACH). */
  reject(port: number, how: 'host-unreachable' | 'no-route'): void;
  remove(): void;
}

let tables = 0;

/** An nftables table of this test process only (`inet vigil-doctor-<pid>-<n>`), on the output hook. */
export function startPacketFilter(): PacketFilter {
  const table = `vigil-doctor-${process.pid}-${++tables}`;
  const nft = (...args: string[]) => execFileSync('nft', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  nft('add', 'table', 'inet', table);
  nft('add', 'chain', 'inet', table, 'out', '{ type filter hook output priority 0; }');
  let removed = false;
  const remove = () => {
    if (removed) return;
    removed = true;
    try {
      nft('delete', 'table', 'inet', table);
    } catch {
      // already gone
    }
  };
  process.once('exit', remove);
  return {
    drop: (port) => nft('add', 'rule', 'inet', table, 'out', 'ip', 'daddr', '127.0.0.1', 'tcp', 'dport', String(port), 'drop'),
    reject: (port, how) =>
      nft('add', 'rule', 'inet', table, 'out', 'ip', 'daddr', '127.0.0.1', 'tcp', 'dport', String(port), 'reject', 'with', 'icmpx', 'type', how),
    remove,
  };
}
