import { describe, expect, it } from 'vitest';
import { parseIp, parseRange } from '../lib/ip.ts';
import { DecisionCache, parseAddressInto, parseWireDuration } from './decision-cache.ts';

const NOW = Date.UTC(2026, 10, 24);
const d = (id: number, value: string, type = 'ban', duration = '1h', scope = value.includes('/') ? 'Range' : 'Ip') => ({
  id,
  origin: 'crowdsec',
  type,
  scope,
  value,
  duration,
  scenario: 'crowdsecurity/http-probing',
});

function lookup(cache: DecisionCache, ip: string, now = NOW) {
  const w = new Uint32Array(4);
  const family = parseAddressInto(ip, w);
  if (family === 0) throw new Error(ip);
  const hit = cache.strongest(family, w, now);
  return hit ? `${hit.type}:${hit.value}` : 'none';
}

describe('DecisionCache', () => {
  it('reads Go durations, negative ones included', () => {
    expect(parseWireDuration('4m38.753094623s')).toBeCloseTo(278_753.094623, 3);
    expect(parseWireDuration('-1.902116877s')).toBeCloseTo(-1902.116877, 3);
    expect(parseWireDuration('1h')).toBe(3600_000);
    expect(parseWireDuration('')).toBeNull();
    expect(parseWireDuration(5)).toBeNull();
  });

  it('matches addresses and ranges of both families, never across families', () => {
    const c = new DecisionCache();
    const r = c.replace([d(1, '192.0.2.1'), d(2, '198.51.100.0/24'), d(3, '2001:db8::/32'), d(4, '::ffff:203.0.113.0/120'), d(5, '0.0.0.0/0', 'captcha')], NOW);
    expect(r).toEqual({ added: 5, deleted: 0, ignored: 0 });
    expect(lookup(c, '192.0.2.1')).toBe('ban:192.0.2.1');
    expect(lookup(c, '198.51.100.255')).toBe('ban:198.51.100.0/24');
    expect(lookup(c, '2001:db8:ffff::1')).toBe('ban:2001:db8::/32');
    expect(lookup(c, '203.0.113.44')).toBe('ban:::ffff:203.0.113.0/120');
    expect(lookup(c, '8.8.8.8')).toBe('captcha:0.0.0.0/0');
    expect(lookup(c, '2001:db9::1')).toBe('none');
  });

  it('ban before captcha, whatever the order and prefix; unknown types follow the fallback', () => {
    const c = new DecisionCache();
    c.replace([d(1, '10.0.0.0/8', 'captcha'), d(2, '10.1.2.3', 'ban'), d(3, '10.9.0.0/16', 'ban'), d(4, '10.9.9.9', 'captcha')], NOW);
    expect(lookup(c, '10.1.2.3')).toBe('ban:10.1.2.3');
    expect(lookup(c, '10.9.9.9')).toBe('ban:10.9.0.0/16');
    expect(lookup(c, '10.200.0.1')).toBe('captcha:10.0.0.0/8');
    const f = new DecisionCache({ fallbackRemediation: 'captcha' });
    f.replace([d(1, '192.0.2.7', 'throttle')], NOW);
    const w = new Uint32Array(4);
    parseAddressInto('192.0.2.7', w);
    expect(f.remediationOf(f.strongest(4, w, NOW)!)).toBe('captcha');
    const bypass = new DecisionCache({ fallbackRemediation: 'bypass' });
    bypass.replace([d(1, '192.0.2.7', 'throttle'), d(2, '192.0.2.0/24', 'captcha')], NOW);
    expect(lookup(bypass, '192.0.2.7')).toBe('captcha:192.0.2.0/24');
  });

  it('expires locally; deltas delete by id, then add; a startup pull replaces everything', () => {
    const c = new DecisionCache();
    c.replace([d(1, '192.0.2.1', 'ban', '5m'), d(2, '192.0.2.2')], NOW);
    expect(lookup(c, '192.0.2.1', NOW + 5 * 60_000 - 1)).toBe('ban:192.0.2.1');
    expect(lookup(c, '192.0.2.1', NOW + 5 * 60_000)).toBe('none');
    expect(c.apply([d(3, '192.0.2.3')], [d(2, '192.0.2.2', 'ban', '-1s'), { id: 99 }, { nope: 1 }], NOW)).toEqual({ added: 1, deleted: 1, ignored: 1 });
    expect(lookup(c, '192.0.2.2')).toBe('none');
    expect(lookup(c, '192.0.2.3')).toBe('ban:192.0.2.3');
    c.replace([d(4, '192.0.2.4')], NOW);
    expect(lookup(c, '192.0.2.3')).toBe('none');
    expect(c.size).toBe(1);
  });

  it('ignores other scopes, bad values and malformed records; accepts null lists', () => {
    const c = new DecisionCache();
    const r = c.replace(
      [
        d(1, 'FR', 'ban', '1h', 'Country'),
        d(2, 'bogus', 'ban', '1h', 'Ip'),
        d(3, '192.0.2.1', 'ban', 'soon'),
        d(4, '192.0.2.1', 'ban', '-5s'),
        null,
        'x',
        d(5, '192.0.2.5', 'ban', '1h', 'ip'),
      ],
      NOW,
    );
    expect(r).toEqual({ added: 1, deleted: 0, ignored: 6 });
    expect(c.apply(null, null, NOW)).toEqual({ added: 0, deleted: 0, ignored: 0 });
  });

  it('live answers: picks the strongest of what the LAPI returned', () => {
    const c = new DecisionCache();
    expect(c.pick([d(1, '10.0.0.0/8', 'captcha', '2h'), d(2, '10.1.0.0/16', 'ban', '1h')], NOW)?.id).toBe(2);
    expect(c.pick([d(1, '10.0.0.0/8', 'ban', '2h'), d(2, '10.1.0.0/16', 'ban', '1h')], NOW)?.id).toBe(1);
    expect(c.pick([], NOW)).toBeUndefined();
  });
});

describe('DecisionCache agrees with a naive scan', () => {
  it('on ~3000 random decisions of both families and types, through deltas', () => {
    let seed = 7;
    const rnd = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    const v4 = () => `10.${rnd(4)}.${rnd(256)}.${rnd(256)}`;
    const v6 = () => `2001:db8:${rnd(4).toString(16)}::${rnd(65536).toString(16)}`;
    const types = ['ban', 'captcha', 'throttle'];
    const all = new Map<number, ReturnType<typeof d>>();
    const make = (id: number) => {
      const six = rnd(2) === 0;
      const range = rnd(4) === 0;
      const value = six
        ? range
          ? `2001:db8:${rnd(4).toString(16)}::/${[32, 48, 64, 120][rnd(4)]}`
          : v6()
        : range
          ? `10.${rnd(4)}.${rnd(256)}.0/${[8, 16, 24, 28][rnd(4)]}`
          : v4();
      return d(id, value, types[rnd(3)], `${1 + rnd(120)}m`);
    };
    const c = new DecisionCache();
    const initial = Array.from({ length: 3000 }, (_, i) => make(i + 1));
    for (const x of initial) all.set(x.id, x);
    c.replace(initial, NOW);
    const added = Array.from({ length: 300 }, (_, i) => make(5000 + i));
    const deleted = [...all.values()].filter(() => rnd(10) === 0);
    c.apply(added, deleted, NOW);
    for (const x of deleted) all.delete(x.id);
    for (const x of added) all.set(x.id, x);
    // The naive side: every live decision parsed once, then a scan per query.
    const naiveSet = [...all.values()].map((x) => ({
      range: parseRange(x.value.includes('/') ? x.value : `${x.value}/${x.value.includes(':') ? 128 : 32}`),
      until: NOW + parseWireDuration(x.duration)!,
      rank: x.type === 'captcha' ? 1 : 2, // fallback ban: 'throttle' ranks as ban
    }));
    for (let q = 0; q < 3000; q++) {
      const ip = rnd(2) === 0 ? v4() : v6();
      const now = NOW + rnd(90) * 60_000;
      const w = new Uint32Array(4);
      const fam = parseAddressInto(ip, w);
      const a = parseIp(ip);
      let best = 0;
      for (const x of naiveSet) if (x.until > now && x.rank > best && containsAddress(x.range, a)) best = x.rank;
      const hit = c.strongest(fam as 4 | 6, w, now);
      expect(hit ? c.remediationOf(hit) : 'none', `${ip} at +${(now - NOW) / 60000}m`).toBe(['none', 'captcha', 'ban'][best]);
    }
  });
});

function containsAddress(r: ReturnType<typeof parseRange>, a: ReturnType<typeof parseIp>): boolean {
  if (r.family !== a.family) return false;
  for (let i = 0; i < a.words.length; i++) {
    if (a.words[i]! < r.first[i]! || a.words[i]! > r.last[i]!) return false;
    if (a.words[i] !== r.first[i] || a.words[i] !== r.last[i]) return true;
  }
  return true;
}
