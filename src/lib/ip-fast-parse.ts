/**
 * The allocation-free fast path of IP parsing (per-request lookups in the bouncer): an address
 * text into words in a caller's array, no string or array built. It accepts a subset of what
 * parseIp (ip.ts) accepts, with the same answer.
 */

/** Longest valid text: `ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255`. */
export const MAX_ADDRESS_LENGTH = 45;

/** Dotted-decimal IPv4 in text[from, to) as an unsigned word, or -1 (same rules as V4_RE in ip.ts). */
function scanV4(text: string, from: number, to: number): number {
  let word = 0;
  let i = from;
  for (let octet = 0; octet < 4; octet++) {
    if (octet > 0) {
      if (i >= to || text.charCodeAt(i) !== 46 /* . */) return -1;
      i++;
    }
    if (i >= to) return -1;
    let c = text.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
    let v = c - 48;
    i++;
    while (i < to) {
      c = text.charCodeAt(i);
      if (c < 48 || c > 57) break;
      if (v === 0) return -1; // leading zero
      v = v * 10 + (c - 48);
      if (v > 255) return -1;
      i++;
    }
    word = word * 256 + v;
  }
  return i === to ? word : -1;
}

/** Hex digit values by character code, -1 for anything else (a table beats three range tests). */
const HEX_DIGIT = new Int8Array(128).fill(-1);
for (let c = 0; c < 10; c++) HEX_DIGIT[48 + c] = c;
for (let c = 0; c < 6; c++) {
  HEX_DIGIT[97 + c] = 10 + c;
  HEX_DIGIT[65 + c] = 10 + c;
}

/** Scratch for the eight IPv6 groups; JavaScript is single-threaded, so one is enough. */
const V6_GROUPS = new Int32Array(8);

/** Go's parseIPv6 rules (one `::` standing for at least one group, dotted IPv4 tail); fills V6_GROUPS. */
function scanV6(text: string): boolean {
  const g = V6_GROUPS;
  const n = text.length;
  let count = 0;
  let ellipsis = -1;
  let i = 0;
  if (n >= 2 && text.charCodeAt(0) === 58 && text.charCodeAt(1) === 58) {
    ellipsis = 0;
    i = 2;
  }
  while (i < n) {
    let v = 0;
    let j = i;
    // At most four hex digits: reading a fifth is enough to refuse.
    const stop = Math.min(i + 5, n);
    for (; j < stop; j++) {
      const c = text.charCodeAt(j);
      const h = c < 128 ? HEX_DIGIT[c] : -1;
      if (h < 0) break;
      v = (v << 4) | h;
    }
    if (j === i || j - i > 4) return false;
    if (j < n && text.charCodeAt(j) === 46 /* . */) {
      // A dotted IPv4 tail takes two groups and ends the text.
      if (count > 6 || (ellipsis < 0 && count !== 6)) return false;
      const w = scanV4(text, i, n);
      if (w < 0) return false;
      g[count++] = w >>> 16;
      g[count++] = w & 0xffff;
      i = n;
      break;
    }
    if (count === 8) return false;
    g[count++] = v;
    i = j;
    if (i === n) break;
    if (text.charCodeAt(i) !== 58 /* : */) return false;
    i++;
    if (i === n) return false; // a single trailing colon
    if (text.charCodeAt(i) === 58) {
      if (ellipsis >= 0) return false;
      ellipsis = count;
      i++;
    }
  }
  if (ellipsis < 0) return count === 8;
  if (count >= 8) return false; // `::` must stand for at least one zero group
  const shift = 8 - count;
  for (let k = count - 1; k >= ellipsis; k--) g[k + shift] = g[k];
  for (let k = ellipsis; k < ellipsis + shift; k++) g[k] = 0;
  return true;
}

/**
 * Parses an address into `out` without allocating: IPv4 in out[0], IPv6 in out[0..3] (unsigned
 * words, most significant first). Returns the family, or 0 when the fast path does not accept the
 * text. It accepts a subset of what parseIp (ip.ts) accepts with the same words and family
 * (IPv4-mapped IPv6 returns 4), so callers fall back to parseIp on 0 for an exact answer.
 */
export function parseIpInto(text: string, out: Uint32Array | number[]): 0 | 4 | 6 {
  const n = text.length;
  if (n === 0 || n > MAX_ADDRESS_LENGTH) return 0;
  // Dotted IPv4 first, in one pass: IPv6 text fails it within a few characters.
  const w = scanV4(text, 0, n);
  if (w >= 0) {
    out[0] = w;
    return 4;
  }
  if (text.indexOf(':') === -1 || !scanV6(text)) return 0;
  const g = V6_GROUPS;
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    out[0] = ((g[6] << 16) | g[7]) >>> 0;
    return 4;
  }
  out[0] = ((g[0] << 16) | g[1]) >>> 0;
  out[1] = ((g[2] << 16) | g[3]) >>> 0;
  out[2] = ((g[4] << 16) | g[5]) >>> 0;
  out[3] = ((g[6] << 16) | g[7]) >>> 0;
  return 6;
}
