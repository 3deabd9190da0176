/**
 * The PROXY protocol header (HAProxy's spec, versions 1 and 2) that a TCP load balancer writes at the
 * start of a connection to say who its client is. Pure: bytes in, the header's meaning out; the
 * listener (server/proxy-protocol-listener.ts) decides whose header to believe.
 *
 * Spec: https://www.haproxy.org/download/2.6/doc/proxy-protocol.txt
 */
import { formatWords, parseIp } from '../../lib/ip.ts';

/** v2's 12-byte signature. */
export const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const V1_PREFIX = Buffer.from('PROXY ', 'latin1');
/** The longest v1 line, CRLF included (spec §2.1: 107 bytes). */
export const V1_MAX_LENGTH = 107;
/** The v2 header's fixed part: signature, version/command, family/protocol, length. */
const V2_FIXED = 16;
/** A v2 header with TLVs is bounded by its 16-bit length; we accept at most this much (HAProxy sends < 600). */
export const V2_MAX_LENGTH = V2_FIXED + 4096;

export interface ProxySource {
  /** The client's address as text (IPv4 dotted, IPv6 compressed). */
  address: string;
  port: number;
}

export type ProxyHeaderParse =
  /** Not enough bytes yet to tell, or to finish the header: read more. */
  | { kind: 'incomplete' }
  /** The connection does not start with a PROXY header (a client speaking HTTP or TLS directly). */
  | { kind: 'none' }
  /** It starts like one but breaks the spec: the connection is closed. */
  | { kind: 'invalid'; reason: string }
  /**
   * A whole header of `length` bytes. `source` is null for v1 `UNKNOWN` and v2 `LOCAL` (the balancer's
   * own health check) and for families other than TCP/UDP over IPv4/IPv6: the socket's address stands.
   */
  | { kind: 'header'; version: 1 | 2; length: number; source: ProxySource | null };

/** Reads a PROXY header at the start of `buf` (the bytes received so far on a new connection). */
export function parseProxyHeader(buf: Uint8Array): ProxyHeaderParse {
  if (buf.length === 0) return { kind: 'incomplete' };
  if (startsWithPart(buf, V2_SIGNATURE)) return buf.length < V2_SIGNATURE.length ? { kind: 'incomplete' } : parseV2(buf);
  if (startsWithPart(buf, V1_PREFIX)) return buf.length < V1_PREFIX.length ? { kind: 'incomplete' } : parseV1(buf);
  return { kind: 'none' };
}

/** Whether `buf` and `sig` agree on their common length (a prefix of the signature is still a maybe). */
function startsWithPart(buf: Uint8Array, sig: Uint8Array): boolean {
  const n = Math.min(buf.length, sig.length);
  for (let i = 0; i < n; i++) if (buf[i] !== sig[i]) return false;
  return true;
}

function parseV1(buf: Uint8Array): ProxyHeaderParse {
  const limit = Math.min(buf.length, V1_MAX_LENGTH);
  let end = -1;
  for (let i = V1_PREFIX.length; i < limit - 1; i++) {
    if (buf[i] === 0x0d && buf[i + 1] === 0x0a) {
      end = i;
      break;
    }
  }
  if (end === -1) return buf.length >= V1_MAX_LENGTH ? invalid(`v1 line longer than ${V1_MAX_LENGTH} bytes`) : { kind: 'incomplete' };
  const line = Buffer.from(buf.buffer, buf.byteOffset, end).toString('latin1');
  const parts = line.split(' ');
  const length = end + 2;
  if (parts[1] === 'UNKNOWN') return { kind: 'header', version: 1, length, source: null };
  if (parts.length !== 6) return invalid('v1 line must be "PROXY TCP4|TCP6 SRC DST SPORT DPORT"');
  const [, proto, src, dst, sport, dport] = parts as [string, string, string, string, string, string];
  if (proto !== 'TCP4' && proto !== 'TCP6') return invalid(`v1 protocol ${JSON.stringify(proto.slice(0, 16))}: expected TCP4, TCP6 or UNKNOWN`);
  const family = proto === 'TCP4' ? 4 : 6;
  const source = v1Address(src, family);
  if (source === null || v1Address(dst, family) === null) return invalid(`v1 addresses are not ${proto} addresses`);
  const port = v1Port(sport);
  if (port === null || v1Port(dport) === null) return invalid('v1 ports must be 0-65535 without leading zeros');
  return { kind: 'header', version: 1, length, source: { address: source, port } };
}

function v1Address(text: string, family: 4 | 6): string | null {
  // The spec's addresses are plain: no zone, no prefix, no brackets.
  if (text.length === 0 || text.length > 39 || /[^0-9A-Fa-f:.]/.test(text)) return null;
  try {
    const ip = parseIp(text);
    return ip.family === family ? formatWords(ip.family, ip.words) : null;
  } catch {
    return null;
  }
}

function v1Port(text: string): number | null {
  if (!/^(0|[1-9][0-9]{0,4})$/.test(text)) return null;
  const n = Number(text);
  return n <= 65535 ? n : null;
}

function parseV2(buf: Uint8Array): ProxyHeaderParse {
  if (buf.length < V2_FIXED) return { kind: 'incomplete' };
  const verCmd = buf[12]!;
  if (verCmd >> 4 !== 2) return invalid(`v2 version ${verCmd >> 4}: only 2 exists`);
  const command = verCmd & 0x0f;
  if (command > 1) return invalid(`v2 command ${command}: expected LOCAL (0) or PROXY (1)`);
  const famProto = buf[13]!;
  const bodyLength = (buf[14]! << 8) | buf[15]!;
  const length = V2_FIXED + bodyLength;
  if (length > V2_MAX_LENGTH) return invalid(`v2 header of ${length} bytes: more than ${V2_MAX_LENGTH}`);
  if (buf.length < length) return { kind: 'incomplete' };
  // LOCAL: the balancer speaking for itself (a health check); the addresses, if any, are ignored.
  if (command === 0) return { kind: 'header', version: 2, length, source: null };
  const family = famProto >> 4;
  const transport = famProto & 0x0f;
  // UNSPEC, AF_UNIX or an unknown transport: the connection is accepted with the socket's address (spec §2.2).
  if ((family !== 1 && family !== 2) || (transport !== 1 && transport !== 2)) return { kind: 'header', version: 2, length, source: null };
  const body = V2_FIXED;
  if (family === 1) {
    if (bodyLength < 12) return invalid(`v2 TCP/UDP over IPv4 needs 12 address bytes, got ${bodyLength}`);
    const address = `${buf[body]}.${buf[body + 1]}.${buf[body + 2]}.${buf[body + 3]}`;
    return { kind: 'header', version: 2, length, source: { address, port: (buf[body + 8]! << 8) | buf[body + 9]! } };
  }
  if (bodyLength < 36) return invalid(`v2 TCP/UDP over IPv6 needs 36 address bytes, got ${bodyLength}`);
  const words: number[] = [];
  for (let i = 0; i < 4; i++) {
    const at = body + i * 4;
    words.push(((buf[at]! << 24) | (buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!) >>> 0);
  }
  return { kind: 'header', version: 2, length, source: { address: formatWords(6, words), port: (buf[body + 32]! << 8) | buf[body + 33]! } };
}

const invalid = (reason: string): ProxyHeaderParse => ({ kind: 'invalid', reason });
