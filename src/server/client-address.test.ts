import type http from 'node:http';
import { describe, expect, it } from 'vitest';
import { TrustedProxies } from '../remediation/client-ip.ts';
import { forwardedForResolver, requestPeer } from './client-address.ts';

/** A request as node:http gives it, from `peer`, with these headers. */
const req = (peer: string, headers: http.IncomingHttpHeaders) =>
  ({ socket: { remoteAddress: peer, remotePort: 40000, localPort: 8080 }, headers }) as unknown as http.IncomingMessage;

describe("the client's address from X-Forwarded-For (api.use_forwarded_for_headers)", () => {
  const resolve = forwardedForResolver(new TrustedProxies(['127.0.0.1', '10.0.0.0/8']));
  const peerOf = (r: http.IncomingMessage) => {
    resolve(r);
    return requestPeer(r);
  };

  it('from a trusted proxy, the first address from the right that is not a trusted proxy, in one spelling', () => {
    expect(peerOf(req('127.0.0.1', { 'x-forwarded-for': '203.0.113.9, 198.51.100.4, 10.1.2.3' }))).toBe('198.51.100.4');
    expect(peerOf(req('::ffff:127.0.0.1', { 'x-forwarded-for': '2001:DB8:0::1' }))).toBe('2001:db8::1');
    expect(peerOf(req('127.0.0.1', { 'x-real-ip': '192.0.2.8' }))).toBe('192.0.2.8');
    // Both: X-Forwarded-For wins, as in gin's default RemoteIPHeaders order.
    expect(peerOf(req('127.0.0.1', { 'x-forwarded-for': '192.0.2.7', 'x-real-ip': '192.0.2.8' }))).toBe('192.0.2.7');
  });

  it("an untrusted peer's headers, and a header that does not parse, leave the socket's address", () => {
    expect(peerOf(req('192.0.2.50', { 'x-forwarded-for': '10.9.9.9', 'x-real-ip': '10.9.9.8' }))).toBe('192.0.2.50');
    expect(peerOf(req('127.0.0.1', { 'x-forwarded-for': 'unknown' }))).toBe('127.0.0.1');
    expect(peerOf(req('127.0.0.1', {}))).toBe('127.0.0.1');
  });
});
