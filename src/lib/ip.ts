/**
 * Strict IP address and CIDR range parsing, pure and allocation-conscious.
 *
 * Every address and range is a CIDR-aligned interval [first, last] in its family, held as
 * unsigned 32-bit words, most significant first (one word for IPv4, four for IPv6), so the
 * decision index can mask, hash and compare without bigint or string work.
 *
 * Accepted forms follow Go's net.ParseIP / net.ParseCIDR as used by CrowdSec 1.4.6:
 * dotted-decimal IPv4 without leading zeros, IPv6 (optionally ending in dotted IPv4), and
 * IPv4-mapped IPv6 (`::ffff:1.2.3.4`) normalised to IPv4, as CrowdSec's IP2Ints does with To4().
 * Lenient forms that other parsers reinterpret (`1.2.3`, `0x7f.0.0.1`, `01.2.3.4`) are refused.
 */
import ipaddr from 'ipaddr.js';
import { VigilError } from './errors.ts';
import { MAX_ADDRESS_LENGTH, parseIpInto } from './ip-fast-parse.ts';

export { parseIpInto } from './ip-fast-parse.ts';

export type IpFamily = 4 | 6;

/** Unsigned 32-bit words, most significant first: one for IPv4, four for IPv6. */
export type IpWords = readonly number[];

export interface IpAddress {
  readonly kind: 'address';
  readonly family: IpFamily;
  /** Canonical text: dotted decimal, or RFC 5952 (what Go's IP.String() prints). */
  readonly text: string;
  readonly words: IpWords;
}

export interface IpRange {
  readonly kind: 'range';
  readonly family: IpFamily;
  readonly prefixLength: number;
  /** The text as given (host bits may be set, e.g. `198.51.100.7/24`). */
  readonly text: string;
  /** Canonical masked network, e.g. `198.51.100.0/24`. */
  readonly canonical: string;
  /** First address of the range (host bits cleared). */
  readonly first: IpWords;
  /** Last address of the range (host bits set). */
  readonly last: IpWords;
}

/** The CIDR-aligned interval an address (prefix = 32/128) or range covers. */
export interface IpInterval {
  readonly family: IpFamily;
  readonly prefixLength: number;
  readonly first: IpWords;
  readonly last: IpWords;
}

export const familyBits = (family: IpFamily): 32 | 128 => (family === 4 ? 32 : 128);

// ---------------------------------------------------------------------------------------------
// Word helpers

/** `word` with only its `bits` most significant bits kept (bits clamped to 0..32). */
export function maskWord(word: number, bits: number): number {
  if (bits <= 0) return 0;
  if (bits >= 32) return word >>> 0;
  return (word & (0xffffffff << (32 - bits))) >>> 0;
}

/** `word` with all but its `bits` most significant bits set (bits clamped to 0..32). */
function fillWord(word: number, bits: number): number {
  if (bits <= 0) return 0xffffffff;
  if (bits >= 32) return word >>> 0;
  return (word | (0xffffffff >>> bits)) >>> 0;
}

/** Unsigned lexicographic comparison of two word arrays of the same family. */
export function compareWords(a: IpWords, b: IpWords): number {
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  }
  return 0;
}

export function toInterval(x: IpAddress | IpRange): IpInterval {
  if (x.kind === 'address') {
    return { family: x.family, prefixLength: familyBits(x.family), first: x.words, last: x.words };
  }
  return { family: x.family, prefixLength: x.prefixLength, first: x.first, last: x.last };
}

/** Whether `outer` covers all of `inner` (same family only; IPv4 and IPv6 never overlap). */
export function intervalContains(outer: IpAddress | IpRange, inner: IpAddress | IpRange): boolean {
  if (outer.family !== inner.family) return false;
  const o = toInterval(outer);
  const i = toInterval(inner);
  return compareWords(o.first, i.first) <= 0 && compareWords(i.last, o.last) <= 0;
}

// ---------------------------------------------------------------------------------------------
// Formatting

function formatV4(word: number): string {
  return `${word >>> 24}.${(word >>> 16) & 0xff}.${(word >>> 8) & 0xff}.${word & 0xff}`;
}

/** RFC 5952, as Go prints: lowercase, longest run (>= 2) of zero groups as `::`, first on ties. */
function formatV6(words: IpWords): string {
  const groups: number[] = [];
  for (const w of words) groups.push(w >>> 16, w & 0xffff);
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (from: number, to: number): string =>
    groups
      .slice(from, to)
      .map((g) => g.toString(16))
      .join(':');
  if (bestStart === -1) return hex(0, 8);
  return `${hex(0, bestStart)}::${hex(bestStart + bestLen, 8)}`;
}

export function formatWords(family: IpFamily, words: IpWords): string {
  return family === 4 ? formatV4(words[0]) : formatV6(words);
}

// ---------------------------------------------------------------------------------------------
// Parsing

// One octet, 0-255, no leading zeros (Go has refused those since 1.17; others read them as octal).
const OCTET = '(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]\\d|\\d)';
const V4_RE = new RegExp(`^${OCTET}\\.${OCTET}\\.${OCTET}\\.${OCTET}$`);
const V6_CHARS_RE = /^[0-9A-Fa-f:.]+$/;
const PREFIX_RE = /^(?:0|[1-9]\d{0,2})$/;

function parseV4Word(text: string): number | null {
  const m = V4_RE.exec(text);
  if (m === null) return null;
  return ((+m[1] << 24) | (+m[2] << 16) | (+m[3] << 8) | +m[4]) >>> 0;
}

/** The four words of an IPv6 text (no zone, no prefix), or null. Mapped addresses stay IPv6 here. */
function parseV6Words(text: string): number[] | null {
  if (!V6_CHARS_RE.test(text)) return null;
  let hex = text;
  const dot = text.indexOf('.');
  if (dot !== -1) {
    // Trailing dotted IPv4: validate it strictly ourselves (ipaddr.js accepts leading zeros there
    // and reads `::1.2.3.4` as mapped, where Go reads it as ::102:304), then hand over pure hex.
    const colon = text.lastIndexOf(':');
    if (colon === -1 || colon > dot) return null;
    const tail = parseV4Word(text.slice(colon + 1));
    if (tail === null) return null;
    hex = `${text.slice(0, colon + 1)}${(tail >>> 16).toString(16)}:${(tail & 0xffff).toString(16)}`;
  }
  let parts: number[];
  try {
    parts = ipaddr.IPv6.parse(hex).parts; // one parse; isValid() would run the same parser twice
  } catch {
    return null;
  }
  if (parts.length !== 8) return null;
  return [((parts[0] << 16) | parts[1]) >>> 0, ((parts[2] << 16) | parts[3]) >>> 0, ((parts[4] << 16) | parts[5]) >>> 0, ((parts[6] << 16) | parts[7]) >>> 0];
}

const isMappedV4 = (w: IpWords): boolean => w[0] === 0 && w[1] === 0 && w[2] === 0xffff;

interface RawAddress {
  family: IpFamily;
  words: number[];
  /** Written as IPv6 but in ::ffff:0:0/96. */
  mapped: boolean;
}

function parseRaw(text: string): RawAddress | null {
  if (text.length === 0 || text.length > MAX_ADDRESS_LENGTH) return null;
  if (text.includes(':')) {
    const words = parseV6Words(text);
    if (words === null) return null;
    return { family: 6, words, mapped: isMappedV4(words) };
  }
  const word = parseV4Word(text);
  return word === null ? null : { family: 4, words: [word], mapped: false };
}

/** Quote a user value for an error message, bounded so a huge query string stays readable. */
function shown(text: string): string {
  return JSON.stringify(text.length > 64 ? `${text.slice(0, 64)}…` : text);
}

/** Why an address text was refused, phrased as the fix. */
function addressHint(text: string): string {
  if (text.length === 0) return 'the value is empty; give an address such as 192.0.2.1 or 2001:db8::1';
  if (text.trim() !== text) return 'remove the surrounding spaces';
  if (text.includes('/')) return 'this is a range (CIDR); pass a single address, or use a range instead';
  if (text.includes('%')) return 'IPv6 zone ids (%eth0) are not accepted; drop the %… suffix';
  if (text.startsWith('[')) return 'drop the brackets around the IPv6 address';
  if (/(^|[.:])0\d/.test(text) && text.includes('.')) {
    return 'IPv4 octets must not have leading zeros (they read as octal elsewhere); write e.g. 10.1.2.3';
  }
  return 'expected dotted-decimal IPv4 (192.0.2.1) or IPv6 (2001:db8::1)';
}

/** Parse one IPv4 or IPv6 address; `::ffff:a.b.c.d` becomes IPv4. Throws E_BAD_IP. */
export function parseIp(text: string): IpAddress {
  const raw = typeof text === 'string' ? parseRaw(text) : null;
  if (raw === null) {
    const value = typeof text === 'string' ? text : String(text);
    throw new VigilError('E_BAD_IP', `invalid IP address ${shown(value)}: ${addressHint(value)}`);
  }
  if (raw.family === 4) return { kind: 'address', family: 4, text, words: raw.words };
  if (raw.mapped) {
    const word = raw.words[3];
    return { kind: 'address', family: 4, text: formatV4(word), words: [word] };
  }
  return { kind: 'address', family: 6, text: formatV6(raw.words), words: raw.words };
}

function rangeError(text: string, fix: string): VigilError {
  return new VigilError('E_BAD_RANGE', `invalid IP range ${shown(text)}: ${fix}`);
}

function makeRange(family: IpFamily, words: IpWords, prefixLength: number, text: string): IpRange {
  const first: number[] = [];
  const last: number[] = [];
  for (let i = 0; i < words.length; i++) {
    first.push(maskWord(words[i], prefixLength - 32 * i));
    last.push(fillWord(words[i], prefixLength - 32 * i));
  }
  const canonical = `${formatWords(family, first)}/${prefixLength}`;
  return { kind: 'range', family, prefixLength, text, canonical, first, last };
}

/**
 * Parse a CIDR range `a.b.c.d/n` or `v6/n`. Host bits are accepted and masked (as Go's
 * net.ParseCIDR does) and `text` keeps the original. A mapped `::ffff:a.b.c.d/n` with n >= 96
 * becomes the IPv4 range /n-96, as CrowdSec's Range2Ints does. Throws E_BAD_RANGE.
 */
export function parseRange(text: string): IpRange {
  if (typeof text !== 'string') throw rangeError(String(text), 'expected a string such as 198.51.100.0/24');
  const slash = text.indexOf('/');
  if (slash === -1) {
    throw rangeError(text, 'a range needs a prefix length, e.g. 198.51.100.0/24 or 2001:db8::/32');
  }
  const addressText = text.slice(0, slash);
  const prefixText = text.slice(slash + 1);
  const raw = parseRaw(addressText);
  if (raw === null) throw rangeError(text, `the address part ${shown(addressText)} is invalid: ${addressHint(addressText)}`);
  const bits = familyBits(raw.family);
  if (!PREFIX_RE.test(prefixText) || +prefixText > bits) {
    throw rangeError(text, `the prefix length must be a whole number from 0 to ${bits} without leading zeros`);
  }
  const prefixLength = +prefixText;
  if (raw.mapped && prefixLength >= 96) return makeRange(4, [raw.words[3]], prefixLength - 96, text);
  return makeRange(raw.family, raw.words, prefixLength, text);
}

/** A range when the text has a `/`, an address otherwise. Throws E_BAD_RANGE or E_BAD_IP. */
export function parseIpOrRange(text: string): IpAddress | IpRange {
  return typeof text === 'string' && text.includes('/') ? parseRange(text) : parseIp(text);
}

/** Like parseIpOrRange but returns null instead of throwing (for indexing stored values). */
export function tryParseIpOrRange(text: string): IpAddress | IpRange | null {
  if (typeof text !== 'string') return null;
  try {
    return parseIpOrRange(text);
  } catch {
    return null;
  }
}

const intervalScratch = new Uint32Array(4);

/**
 * The interval of an address or CIDR text, as parseIpOrRange would give it, without building
 * canonical texts (indexing 100k decisions parses each once). Null when the text is neither.
 */
export function tryParseInterval(text: string): IpInterval | null {
  if (typeof text !== 'string') return null;
  const slash = text.indexOf('/');
  const addressText = slash === -1 ? text : text.slice(0, slash);
  const family = parseIpInto(addressText, intervalScratch);
  // Mapped IPv6 with a short prefix stays IPv6 (see parseRange): the exact path handles it.
  if (family === 0 || (slash !== -1 && family === 4 && addressText.includes(':'))) {
    const slow = tryParseIpOrRange(text);
    return slow === null ? null : toInterval(slow);
  }
  const words = family === 4 ? [intervalScratch[0]] : [intervalScratch[0], intervalScratch[1], intervalScratch[2], intervalScratch[3]];
  const bits = familyBits(family);
  if (slash === -1) return { family, prefixLength: bits, first: words, last: words };
  const prefixText = text.slice(slash + 1);
  if (!PREFIX_RE.test(prefixText) || +prefixText > bits) return null;
  const prefixLength = +prefixText;
  const first: number[] = [];
  const last: number[] = [];
  for (let i = 0; i < words.length; i++) {
    first.push(maskWord(words[i], prefixLength - 32 * i));
    last.push(fillWord(words[i], prefixLength - 32 * i));
  }
  return { family, prefixLength, first, last };
}

/** The peer address of a connection, IPv4-mapped IPv6 folded to IPv4 (as CrowdSec shows it). */
export function foldPeerAddress(raw: string | undefined): string {
  if (!raw) return '';
  return raw.startsWith('::ffff:') && raw.includes('.') ? raw.slice(7) : raw;
}
