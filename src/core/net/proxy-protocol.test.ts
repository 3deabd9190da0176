import { describe, expect, it } from 'vitest';
import { parseProxyHeader, V1_MAX_LENGTH, V2_SIGNATURE } from './proxy-protocol.ts';

const text = (s: string) => Buffer.from(s, 'latin1');

/** A v2 header as HAProxy writes it (`send-proxy-v2`): command PROXY, TCP over the family, optional TLVs. */
function v2(family: 4 | 6, src: number[], sport: number, opts: { command?: number; tlv?: number[]; famProto?: number } = {}): Buffer {
  const addrLen = family === 4 ? 4 : 16;
  const dst = new Array(addrLen).fill(0);
  dst[addrLen - 1] = 1;
  const body = [...src, ...dst, sport >> 8, sport & 0xff, 0x1f, 0x90, ...(opts.tlv ?? [])];
  return Buffer.from([
    ...V2_SIGNATURE,
    0x20 | (opts.command ?? 1),
    opts.famProto ?? (family === 4 ? 0x11 : 0x21),
    body.length >> 8,
    body.length & 0xff,
    ...body,
  ]);
}

describe('parseProxyHeader', () => {
  it('reads a v1 TCP4 and TCP6 line, its length, and leaves what follows alone', () => {
    const head = 'PROXY TCP4 127.0.0.2 127.0.0.1 51234 8080\r\n';
    const r = parseProxyHeader(text(`${head}GET /v1/decisions HTTP/1.1\r\n`));
    expect(r).toEqual({ kind: 'header', version: 1, length: head.length, source: { address: '127.0.0.2', port: 51234 } });
    expect(parseProxyHeader(text('PROXY TCP6 2001:DB8:0:0::1 ::1 443 8080\r\n'))).toMatchObject({ source: { address: '2001:db8::1', port: 443 } });
    expect(parseProxyHeader(text('PROXY UNKNOWN\r\n'))).toEqual({ kind: 'header', version: 1, length: 15, source: null });
    expect(parseProxyHeader(text('PROXY UNKNOWN ffff::1 ::1 1 2\r\n'))).toMatchObject({ kind: 'header', source: null });
  });

  it('asks for more bytes until the line or the header is whole', () => {
    for (const partial of ['P', 'PROXY', 'PROXY TCP4 127.0.0.2 127.0.0.1 5', 'PROXY TCP4 127.0.0.2 127.0.0.1 51234 8080\r']) {
      expect(parseProxyHeader(text(partial))).toEqual({ kind: 'incomplete' });
    }
    const whole = v2(4, [127, 0, 0, 3], 40000);
    for (const n of [1, 5, 12, 15, whole.length - 1]) expect(parseProxyHeader(whole.subarray(0, n))).toEqual({ kind: 'incomplete' });
    expect(parseProxyHeader(Buffer.alloc(0))).toEqual({ kind: 'incomplete' });
  });

  it('says none for a connection that speaks HTTP or TLS directly', () => {
    expect(parseProxyHeader(text('GET /health HTTP/1.1\r\n'))).toEqual({ kind: 'none' });
    expect(parseProxyHeader(text('PROXX'))).toEqual({ kind: 'none' });
    expect(parseProxyHeader(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00]))).toEqual({ kind: 'none' });
  });

  it('refuses a v1 line that breaks the spec', () => {
    const bad = [
      'PROXY TCP4 127.0.0.2 127.0.0.1 51234\r\n',
      'PROXY TCP5 127.0.0.2 127.0.0.1 1 2\r\n',
      'PROXY TCP4 ::1 127.0.0.1 1 2\r\n',
      'PROXY TCP6 127.0.0.2 ::1 1 2\r\n',
      'PROXY TCP4 127.0.0.02 127.0.0.1 1 2\r\n',
      'PROXY TCP4 127.0.0.2 127.0.0.1 65536 2\r\n',
      'PROXY TCP4 127.0.0.2 127.0.0.1 080 2\r\n',
      'PROXY TCP4 127.0.0.2  127.0.0.1 1 2\r\n',
    ];
    for (const line of bad) expect(parseProxyHeader(text(line)).kind, line).toBe('invalid');
    expect(parseProxyHeader(text(`PROXY ${'x'.repeat(V1_MAX_LENGTH)}`))).toMatchObject({ kind: 'invalid', reason: expect.stringContaining('107') });
  });

  it('reads v2 over IPv4 and IPv6, skipping TLVs, and LOCAL or UNSPEC as no source', () => {
    const h4 = v2(4, [127, 0, 0, 3], 40000, { tlv: [0x03, 0x00, 0x04, 1, 2, 3, 4] });
    expect(parseProxyHeader(Buffer.concat([h4, text('GET / HTTP/1.1\r\n')]))).toEqual({
      kind: 'header',
      version: 2,
      length: h4.length,
      source: { address: '127.0.0.3', port: 40000 },
    });
    const src6 = [0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), 0x07];
    expect(parseProxyHeader(v2(6, src6, 1))).toMatchObject({ source: { address: '2001:db8::7', port: 1 } });
    expect(parseProxyHeader(v2(4, [10, 0, 0, 1], 1, { command: 0 }))).toMatchObject({ kind: 'header', source: null });
    expect(parseProxyHeader(v2(4, [10, 0, 0, 1], 1, { famProto: 0x00 }))).toMatchObject({ kind: 'header', source: null });
  });

  it('refuses a v2 header with a wrong version, command or too short addresses', () => {
    const h = v2(4, [127, 0, 0, 3], 1);
    const badVersion = Buffer.from(h);
    badVersion[12] = 0x11;
    expect(parseProxyHeader(badVersion)).toMatchObject({ kind: 'invalid', reason: expect.stringContaining('version') });
    const badCommand = Buffer.from(h);
    badCommand[12] = 0x22;
    expect(parseProxyHeader(badCommand)).toMatchObject({ kind: 'invalid', reason: expect.stringContaining('command') });
    const short = Buffer.from([...V2_SIGNATURE, 0x21, 0x11, 0x00, 0x04, 1, 2, 3, 4]);
    expect(parseProxyHeader(short)).toMatchObject({ kind: 'invalid', reason: expect.stringContaining('12 address bytes') });
    const huge = Buffer.from([...V2_SIGNATURE, 0x21, 0x11, 0xff, 0xff]);
    expect(parseProxyHeader(huge)).toMatchObject({ kind: 'invalid' });
  });
});
