import { describe, expect, it } from 'vitest';
import ipaddr from 'ipaddr.js';
import { isVigilError } from './errors.ts';
import { compareWords, formatWords, intervalContains, maskWord, parseIp, parseIpOrRange, parseRange, toInterval, tryParseIpOrRange } from './ip.ts';

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (isVigilError(e)) return e.code;
    throw e;
  }
  throw new Error('expected a VigilError');
}

describe('parseIp', () => {
  it('parses IPv4 into one unsigned word', () => {
    expect(parseIp('192.0.2.1')).toEqual({ kind: 'address', family: 4, text: '192.0.2.1', words: [0xc0000201] });
    expect(parseIp('0.0.0.0').words).toEqual([0]);
    expect(parseIp('255.255.255.255').words).toEqual([0xffffffff]);
    expect(parseIp('10.0.0.10').text).toBe('10.0.0.10');
  });

  it('parses IPv6 into four words with RFC 5952 canonical text', () => {
    const a = parseIp('2001:DB8:0000::0001');
    expect(a.family).toBe(6);
    expect(a.text).toBe('2001:db8::1');
    expect(a.words).toEqual([0x20010db8, 0, 0, 1]);
    expect(parseIp('::').text).toBe('::');
    expect(parseIp('::1').text).toBe('::1');
    expect(parseIp('1::').text).toBe('1::');
    expect(parseIp('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff').words).toEqual([0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff]);
  });

  it('formats like Go: a single zero group is not compressed, the first longest run wins', () => {
    expect(parseIp('2001:db8:0:1:1:1:1:1').text).toBe('2001:db8:0:1:1:1:1:1');
    expect(parseIp('2001:0:0:1:0:0:0:1').text).toBe('2001:0:0:1::1');
    expect(parseIp('2001:db8:0:0:1:0:0:1').text).toBe('2001:db8::1:0:0:1');
    expect(parseIp('1:2:3:4:5:6:7:8').text).toBe('1:2:3:4:5:6:7:8');
  });

  it('normalises IPv4-mapped IPv6 to IPv4, in dotted or hex form', () => {
    expect(parseIp('::ffff:198.51.100.7')).toEqual({
      kind: 'address',
      family: 4,
      text: '198.51.100.7',
      words: [0xc6336407],
    });
    expect(parseIp('::FFFF:c633:6407').text).toBe('198.51.100.7');
    expect(parseIp('0:0:0:0:0:ffff:1.2.3.4').family).toBe(4);
  });

  it('keeps IPv4-compatible and other embedded-IPv4 forms as IPv6 (as Go does)', () => {
    const a = parseIp('::1.2.3.4');
    expect(a.family).toBe(6);
    expect(a.text).toBe('::102:304');
    expect(parseIp('64:ff9b::192.0.2.33').text).toBe('64:ff9b::c000:221');
  });

  it.each([
    '',
    'bogus',
    '1.2.3',
    '1.2.3.4.5',
    '1.2.3.256',
    '1.2.3.4/24',
    '2001:db8::/32',
    ' 1.2.3.4',
    '1.2.3.4 ',
    '\t::1',
    '01.2.3.4',
    '1.02.3.4',
    '0x7f.0.0.1',
    '4294967295',
    '1.2.3.-4',
    '+1.2.3.4',
    'fe80::1%eth0',
    '[::1]',
    '1::2::3',
    ':::',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7:1.2.3.4',
    '00001::1',
    '::ffff:01.2.3.4',
    '::ffff:1.2.3',
    '1.2.3.4::',
    'g::1',
    '1.2.3.4\n',
    '١.٢.٣.٤',
    'x'.repeat(1000),
  ])('refuses %j with E_BAD_IP', (text) => {
    expect(codeOf(() => parseIp(text))).toBe('E_BAD_IP');
  });

  it('names the value and the fix in the message', () => {
    expect(() => parseIp('1.2.3.4/24')).toThrow(/"1\.2\.3\.4\/24".*range/);
    expect(() => parseIp(' 1.2.3.4')).toThrow(/spaces/);
    expect(() => parseIp('01.2.3.4')).toThrow(/leading zeros/);
    expect(() => parseIp('fe80::1%eth0')).toThrow(/zone/);
    expect(() => parseIp('')).toThrow(/empty/);
  });
});

describe('parseRange', () => {
  it('parses an IPv4 CIDR', () => {
    expect(parseRange('198.51.100.0/24')).toEqual({
      kind: 'range',
      family: 4,
      prefixLength: 24,
      text: '198.51.100.0/24',
      canonical: '198.51.100.0/24',
      first: [0xc6336400],
      last: [0xc63364ff],
    });
  });

  it('masks host bits for matching and keeps the original text', () => {
    const r = parseRange('198.51.100.7/24');
    expect(r.text).toBe('198.51.100.7/24');
    expect(r.canonical).toBe('198.51.100.0/24');
    expect(r.first).toEqual([0xc6336400]);
    expect(r.last).toEqual([0xc63364ff]);
  });

  it('handles the edge prefix lengths', () => {
    expect(parseRange('1.2.3.4/0')).toMatchObject({ canonical: '0.0.0.0/0', first: [0], last: [0xffffffff] });
    expect(parseRange('1.2.3.4/32')).toMatchObject({ canonical: '1.2.3.4/32', first: [0x01020304], last: [0x01020304] });
    expect(parseRange('1.2.3.4/31')).toMatchObject({ first: [0x01020304], last: [0x01020305] });
    expect(parseRange('::/0')).toMatchObject({
      family: 6,
      first: [0, 0, 0, 0],
      last: [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff],
    });
    expect(parseRange('2001:db8::1/128').canonical).toBe('2001:db8::1/128');
  });

  it('parses IPv6 ranges across word boundaries', () => {
    const r = parseRange('2001:db8:1:ffff::1/48');
    expect(r.canonical).toBe('2001:db8:1::/48');
    expect(r.first).toEqual([0x20010db8, 0x00010000, 0, 0]);
    expect(r.last).toEqual([0x20010db8, 0x0001ffff, 0xffffffff, 0xffffffff]);
    const r70 = parseRange('2001:db8::ffff:ffff:ffff:ffff/70');
    expect(r70.first).toEqual([0x20010db8, 0, 0xfc000000, 0]);
    expect(r70.last).toEqual([0x20010db8, 0, 0xffffffff, 0xffffffff]);
    expect(parseRange('2001:db8::/32').last).toEqual([0x20010db8, 0xffffffff, 0xffffffff, 0xffffffff]);
  });

  it('turns a mapped range of /96 or longer into the IPv4 range', () => {
    const r = parseRange('::ffff:198.51.100.0/120');
    expect(r).toMatchObject({ family: 4, prefixLength: 24, canonical: '198.51.100.0/24', text: '::ffff:198.51.100.0/120' });
    expect(parseRange('::ffff:0:0/96')).toMatchObject({ family: 4, prefixLength: 0 });
    expect(parseRange('::ffff:0:0/80')).toMatchObject({ family: 6, prefixLength: 80, canonical: '::/80' });
  });

  it.each([
    '',
    '/24',
    '198.51.100.0',
    '198.51.100.0/',
    '198.51.100.0/33',
    '198.51.100.0/024',
    '198.51.100.0/-1',
    '198.51.100.0/+8',
    '198.51.100.0/24/24',
    '198.51.100.0/ 24',
    ' 198.51.100.0/24',
    '198.51.100.0/24 ',
    '198.51.100/24',
    '01.51.100.0/24',
    'bogus',
    'bogus/8',
    '2001:db8::/129',
    '2001:db8::',
    'fe80::%eth0/64',
    '198.51.100.0/255.255.255.0',
  ])('refuses %j with E_BAD_RANGE', (text) => {
    expect(codeOf(() => parseRange(text))).toBe('E_BAD_RANGE');
  });

  it('says what is wrong', () => {
    expect(() => parseRange('198.51.100.0')).toThrow(/prefix length/);
    expect(() => parseRange('198.51.100.0/33')).toThrow(/0 to 32/);
    expect(() => parseRange('2001:db8::/200')).toThrow(/0 to 128/);
    expect(() => parseRange('bogus/8')).toThrow(/address part "bogus"/);
  });
});

describe('parseIpOrRange', () => {
  it('dispatches on the slash', () => {
    expect(parseIpOrRange('192.0.2.1').kind).toBe('address');
    expect(parseIpOrRange('192.0.2.0/24').kind).toBe('range');
    expect(codeOf(() => parseIpOrRange('bogus'))).toBe('E_BAD_IP');
    expect(codeOf(() => parseIpOrRange('bogus/1'))).toBe('E_BAD_RANGE');
    expect(tryParseIpOrRange('bogus')).toBeNull();
    expect(tryParseIpOrRange('::ffff:1.2.3.4')?.family).toBe(4);
  });
});

describe('intervals', () => {
  it('an address is a one-address interval at full prefix', () => {
    expect(toInterval(parseIp('2001:db8::1'))).toEqual({
      family: 6,
      prefixLength: 128,
      first: [0x20010db8, 0, 0, 1],
      last: [0x20010db8, 0, 0, 1],
    });
  });

  it('containment works across kinds and never across families', () => {
    const r24 = parseRange('198.51.100.0/24');
    expect(intervalContains(r24, parseIp('198.51.100.7'))).toBe(true);
    expect(intervalContains(r24, parseIp('::ffff:198.51.100.7'))).toBe(true);
    expect(intervalContains(r24, parseRange('198.51.100.0/28'))).toBe(true);
    expect(intervalContains(r24, parseRange('198.51.0.0/16'))).toBe(false);
    expect(intervalContains(parseRange('::/0'), parseIp('198.51.100.7'))).toBe(false);
    expect(intervalContains(parseRange('0.0.0.0/0'), parseIp('::1'))).toBe(false);
  });

  it('compares words unsigned', () => {
    expect(compareWords([0x80000000], [0x7fffffff])).toBe(1);
    expect(compareWords([1, 0xffffffff, 0, 0], [2, 0, 0, 0])).toBe(-1);
    expect(compareWords([5, 5, 5, 5], [5, 5, 5, 5])).toBe(0);
    expect(maskWord(0xffffffff, 0)).toBe(0);
    expect(maskWord(0xffffffff, 1)).toBe(0x80000000);
    expect(maskWord(0xffffffff, 40)).toBe(0xffffffff);
    expect(formatWords(4, [0xc0000201])).toBe('192.0.2.1');
  });

  it('agrees with ipaddr.js match() on random addresses and ranges', () => {
    let seed = 7;
    const rand = (): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed;
    };
    for (let i = 0; i < 2000; i++) {
      const v6 = (rand() & 1) === 1;
      const bits = v6 ? 128 : 32;
      const prefix = rand() % (bits + 1);
      const base = v6
        ? Array.from({ length: 8 }, () => (rand() % 4 === 0 ? 0 : rand() & 0xffff).toString(16)).join(':')
        : Array.from({ length: 4 }, () => rand() & 3).join('.');
      // Addresses near the base so that a fair share fall inside.
      const addr = v6 ? base.replace(/[^:]+$/, (rand() & 0xffff).toString(16)) : base.replace(/\d+$/, String(rand() & 255));
      const range = parseRange(`${base}/${prefix}`);
      const ip = parseIp(addr);
      const expected = ipaddr.parse(addr).match(ipaddr.parseCIDR(`${base}/${prefix}`));
      // Skip mapped-looking random v6 (normalised to IPv4 by us, not by ipaddr.js).
      if (range.family !== ip.family) continue;
      expect(intervalContains(range, ip), `${addr} in ${base}/${prefix}`).toBe(expected);
      // Round-trip through the canonical text.
      expect(parseIp(ip.text).words).toEqual(ip.words);
      expect(parseRange(range.canonical).first).toEqual(range.first);
    }
  });
});
