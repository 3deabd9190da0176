import { describe, expect, it } from 'vitest';
import { formatWords, parseIp, parseIpInto, toInterval, tryParseInterval, tryParseIpOrRange } from './ip.ts';

/** parseIp's answer as (family, words), or null when it refuses the text. */
function slow(text: string): { family: number; words: number[] } | null {
  try {
    const a = parseIp(text);
    return { family: a.family, words: [...a.words] };
  } catch {
    return null;
  }
}

function fast(text: string): { family: number; words: number[] } | null {
  const out = new Uint32Array(4);
  const family = parseIpInto(text, out);
  if (family === 0) return null;
  return { family, words: [...out.subarray(0, family === 4 ? 1 : 4)] };
}

let seed = 0xc0ffee;
function rnd(n: number): number {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return (seed >>> 8) % n;
}

describe('parseIpInto (the bouncer fast path)', () => {
  it('parses the usual forms to the same words and family as parseIp', () => {
    const cases = [
      '192.0.2.1',
      '0.0.0.0',
      '255.255.255.255',
      '::',
      '::1',
      '1::',
      '2001:db8::1',
      '2001:DB8:0:0:0:0:0:1',
      '1:2:3:4:5:6:7:8',
      '1:2:3:4:5:6:7::',
      '::2:3:4:5:6:7:8',
      '::ffff:192.0.2.1',
      '::ffff:c000:201',
      '::1.2.3.4',
      '64:ff9b::192.0.2.33',
      '1:2:3:4:5:6:1.2.3.4',
      'fe80::1:2',
    ];
    for (const c of cases) {
      expect(fast(c), c).not.toBeNull();
      expect(fast(c), c).toEqual(slow(c));
    }
    expect(fast('::ffff:192.0.2.1')).toEqual({ family: 4, words: [0xc0000201] });
  });

  it('refuses what parseIp refuses', () => {
    const bad = [
      '',
      ' 192.0.2.1',
      '192.0.2.1 ',
      '192.0.2',
      '192.0.2.1.5',
      '01.2.3.4',
      '1.2.3.256',
      '0x7f.0.0.1',
      '1.2.3.-1',
      ':',
      ':::',
      '1:',
      ':1',
      '1::2::3',
      '1:2:3:4:5:6:7:8:9',
      '1:2:3:4:5:6:7:8::',
      '12345::',
      'g::1',
      'fe80::1%eth0',
      '[::1]',
      '::1.2.3',
      '1:2:3:4:5:6:7:1.2.3.4',
      '1:2:3:4:5:6::1.2.3.4',
      '1.2.3.4::',
      '::01.2.3.4',
      '2001:db8::1/64',
      'localhost',
    ];
    for (const b of bad) {
      expect(fast(b), b).toBeNull();
      expect(slow(b), b).toBeNull();
    }
  });

  it('agrees with parseIp on random well-formed and mangled addresses (never accepts more)', () => {
    const alphabet = '0123456789abcdefABCDEF:.';
    let accepted = 0;
    for (let i = 0; i < 20_000; i++) {
      let text: string;
      const kind = rnd(4);
      if (kind === 0) text = formatWords(4, [rnd(0xffffffff)]);
      else if (kind === 1) text = formatWords(6, [rnd(0xffffffff), rnd(3) === 0 ? 0 : rnd(0xffffffff), 0, rnd(0xffffffff)]);
      else if (kind === 2) text = `::ffff:${formatWords(4, [rnd(0xffffffff)])}`;
      else {
        text = '';
        const len = 1 + rnd(20);
        for (let k = 0; k < len; k++) text += alphabet[rnd(alphabet.length)];
      }
      const f = fast(text);
      const s = slow(text);
      if (f !== null) {
        accepted++;
        expect(f, text).toEqual(s);
      } else if (kind !== 3) {
        // Well-formed addresses always take the fast path.
        expect(s, text).toBeNull();
      }
    }
    expect(accepted).toBeGreaterThan(14_000);
  });
});

describe('tryParseInterval (indexing fast path)', () => {
  it('gives the interval parseIpOrRange gives, or null when it refuses', () => {
    const fixed = [
      '192.0.2.1',
      '198.51.100.7/24',
      '0.0.0.0/0',
      '2001:db8::/32',
      '2001:db8::1/128',
      '::ffff:192.0.2.0/120',
      '::ffff:192.0.2.0/64',
      '::ffff:1.2.3.4',
      '10.0.0.0/33',
      '10.0.0.0/08',
      '1.2.3.4/',
      'x/8',
      '::/0',
    ];
    const random: string[] = [];
    for (let i = 0; i < 5000; i++) {
      const v6 = rnd(2) === 0;
      const addr = v6 ? formatWords(6, [rnd(0xffffffff), rnd(0xffffffff), rnd(0xffffffff), rnd(0xffffffff)]) : formatWords(4, [rnd(0xffffffff)]);
      random.push(rnd(3) === 0 ? addr : `${addr}/${rnd(v6 ? 130 : 34)}`);
    }
    for (const text of [...fixed, ...random]) {
      const slow = tryParseIpOrRange(text);
      const expected = slow === null ? null : toInterval(slow);
      const got = tryParseInterval(text);
      expect(got === null ? null : { ...got, first: [...got.first], last: [...got.last] }, text).toEqual(
        expected === null ? null : { ...expected, first: [...expected.first], last: [...expected.last] },
      );
    }
  });
});
