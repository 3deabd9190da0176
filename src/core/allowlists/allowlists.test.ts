import { describe, expect, it } from 'vitest';
import { AllowlistMatcher, alertAllowlistedBy, allowlistInterval, decisionsCoveredBy, nested, type Allowlist, type AllowlistItem } from './allowlists.ts';
import { allowlistJson, bulkCheckJson, checkJson, strfmtDateTime } from './wire.ts';

const T0 = Date.UTC(2026, 11, 7, 10, 0, 0, 123);
const item = (value: string, comment = '', expiresAt: number | null = null) => ({ value, comment, expiresAt });
const matcher = (entries: Array<[string, ReturnType<typeof item>]>, now = T0) =>
  new AllowlistMatcher(
    entries.map(([listName, i]) => ({ listName, item: i })),
    now,
  );

describe('allowlist matching (CrowdSec IsAllowlistedBy)', () => {
  it('an IP inside a range, the range itself, and a range that holds an allowlisted IP all match', () => {
    const m = matcher([
      ['foo', item('192.168.0.0/16')],
      ['bar', item('10.1.2.3', 'vpn')],
    ]);
    expect(m.reasonsFor('192.168.1.1')).toEqual(['192.168.0.0/16 from foo']);
    expect(m.reasonsFor('192.168.10.20/24')).toEqual(['192.168.0.0/16 from foo']);
    expect(m.reasonsFor('10.1.2.0/24')).toEqual(['10.1.2.3 from bar (vpn)']);
    expect(m.reasonsFor('10.1.2.4')).toEqual([]);
    expect(m.reasonsFor('0.0.0.0/0')).toEqual(['10.1.2.3 from bar (vpn)', '192.168.0.0/16 from foo']);
  });

  it('sorts the reasons by list name in byte order, as cscli allowlists check prints them', () => {
    const m = matcher([
      ['foo', item('192.168.0.0/16')],
      ['bar', item('192.168.0.0/24')],
      ['Uppercase', item('192.168.0.0/28')],
    ]);
    expect(m.reasonsFor('192.168.0.1').join(', ')).toBe('192.168.0.0/28 from Uppercase, 192.168.0.0/24 from bar, 192.168.0.0/16 from foo');
  });

  it('never matches across families; an IPv4-mapped IPv6 address is IPv4 (CrowdSec IP2Ints To4)', () => {
    const m = matcher([
      ['v4', item('192.0.2.0/24')],
      ['v6', item('2001:db8::/32')],
    ]);
    expect(m.reasonsFor('::ffff:192.0.2.7')).toEqual(['192.0.2.0/24 from v4']);
    expect(m.reasonsFor('2001:db8:1::5')).toEqual(['2001:db8::/32 from v6']);
    expect(m.reasonsFor('::/0')).toEqual(['2001:db8::/32 from v6']);
  });

  it('the index finds exactly what a scan of every item finds (random IPv4/IPv6 items and values)', () => {
    let seed = 7;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const v4 = () => `10.${rnd(4)}.${rnd(4)}.${rnd(256)}/${8 + rnd(25)}`;
    const v6 = () => `2001:db8:${rnd(4).toString(16)}::${rnd(65536).toString(16)}/${16 + rnd(113)}`;
    const entries: Array<[string, ReturnType<typeof item>]> = [];
    for (let i = 0; i < 300; i++) entries.push([`l${rnd(5)}`, item(i % 3 === 0 ? v6() : v4(), i % 2 ? '' : `c${i}`)]);
    const m = matcher(entries);
    for (let i = 0; i < 500; i++) {
      const value = i % 3 === 0 ? v6() : i % 2 ? v4() : v4().split('/')[0]!;
      const q = allowlistInterval(value);
      const scanned = entries
        .map(([listName, it], idx) => ({ listName, it, idx }))
        .filter(({ it }) => nested(allowlistInterval(it.value), q))
        .sort((a, b) => (a.listName < b.listName ? -1 : a.listName > b.listName ? 1 : a.idx - b.idx))
        .map(({ listName, it }) => (it.comment === '' ? `${it.value} from ${listName}` : `${it.value} from ${listName} (${it.comment})`));
      expect([value, m.reasonsFor(value)]).toEqual([value, scanned]);
    }
  });

  it('skips items past their expiry (kept while expires_at >= now)', () => {
    const entries: Array<[string, ReturnType<typeof item>]> = [['foo', item('198.51.100.1', '', T0)]];
    expect(matcher(entries, T0).reasonsFor('198.51.100.1')).toEqual(['198.51.100.1 from foo']);
    expect(matcher(entries, T0 + 1).reasonsFor('198.51.100.1')).toEqual([]);
  });

  it("refuses a value that is neither, in CrowdSec's words (types.Addr2Ints)", () => {
    expect(() => allowlistInterval('bar')).toThrow("invalid ip address 'bar'");
    expect(() => allowlistInterval('1.1.1.256')).toThrow("invalid ip address '1.1.1.256'");
    expect(() => allowlistInterval('1.1.1.1/2/3')).toThrow("invalid ip range '1.1.1.1/2/3': invalid CIDR address: 1.1.1.1/2/3");
  });

  it('finds the active Ip/Range decisions an allowlist covers, and no other scope', () => {
    const m = matcher([['office', item('172.16.0.0/12')]]);
    const ds = [
      { id: 1, scope: 'Ip', value: '172.16.0.5', until: T0 + 1000 },
      { id: 2, scope: 'Range', value: '172.16.4.0/24', until: T0 + 1000 },
      { id: 3, scope: 'range', value: '172.0.0.0/8', until: T0 + 1000 },
      { id: 4, scope: 'Ip', value: '172.32.0.1', until: T0 + 1000 },
      { id: 5, scope: 'Country', value: '172.16.0.5', until: T0 + 1000 },
      { id: 6, scope: 'Ip', value: '172.16.0.6', until: T0 - 1 },
    ];
    expect(decisionsCoveredBy(m, ds, T0)).toEqual([1, 2, 3]);
  });

  it("drops an agent's alert on an allowlisted Ip/Range source, never one that carries its own decisions", () => {
    const m = matcher([['office', item('192.168.0.0/16')]]);
    expect(alertAllowlistedBy(m, { source: { scope: 'Ip', value: '192.168.3.4' }, decisions: null })).toBe('192.168.0.0/16 from office');
    expect(alertAllowlistedBy(m, { source: { scope: 'ip', value: '192.168.3.4' }, decisions: [] })).toBe('192.168.0.0/16 from office');
    expect(alertAllowlistedBy(m, { source: { scope: 'Ip', value: '192.168.3.4' }, decisions: [{}] })).toBeNull();
    expect(alertAllowlistedBy(m, { source: { scope: 'Ip', value: '203.0.113.4' }, decisions: null })).toBeNull();
    expect(alertAllowlistedBy(m, { source: { scope: 'username', value: '192.168.3.4' }, decisions: null })).toBeNull();
  });
});

describe("allowlists on the wire (CrowdSec 1.7.8's models)", () => {
  const list: Allowlist = { id: 1, name: 'office', description: 'Office', allowlistId: '', fromConsole: false, createdAt: T0, updatedAt: T0 + 5000 };
  const items: AllowlistItem[] = [
    { id: 1, allowlistId: 1, value: '192.168.0.0/16', comment: '', expiresAt: null, createdAt: T0 },
    { id: 2, allowlistId: 1, value: '10.1.2.3', comment: 'vpn', expiresAt: T0 + 3_600_000, createdAt: T0 },
    { id: 3, allowlistId: 1, value: '10.9.9.9', comment: '', expiresAt: T0 - 1, createdAt: T0 - 7_200_000 },
  ];

  it('a list: Go field order, omitempty, strfmt times to the millisecond, Go zero time for no expiry, expired items skipped', () => {
    expect(JSON.stringify(allowlistJson(list, items, T0))).toBe(
      '{"created_at":"2026-12-07T10:00:00.123Z","description":"Office","items":[' +
        '{"created_at":"2026-12-07T10:00:00.123Z","expiration":"0001-01-01T00:00:00.000Z","value":"192.168.0.0/16"},' +
        '{"created_at":"2026-12-07T10:00:00.123Z","description":"vpn","expiration":"2026-12-07T11:00:00.123Z","value":"10.1.2.3"}],' +
        '"name":"office","updated_at":"2026-12-07T10:00:05.123Z"}',
    );
    expect(JSON.stringify(allowlistJson({ ...list, description: '', fromConsole: true, allowlistId: 'abc' }, null, T0))).toBe(
      '{"allowlist_id":"abc","console_managed":true,"created_at":"2026-12-07T10:00:00.123Z","items":[],"name":"office","updated_at":"2026-12-07T10:00:05.123Z"}',
    );
    expect(strfmtDateTime(Date.UTC(2026, 0, 2, 3, 4, 5))).toBe('2026-01-02T03:04:05.000Z');
  });

  it('checks: `{}` when not allowlisted (omitempty on a false bool), reasons joined; bulk keeps only the matches', () => {
    expect(JSON.stringify(checkJson([]))).toBe('{}');
    expect(JSON.stringify(checkJson(['a from x', 'b from y']))).toBe('{"allowlisted":true,"reason":"a from x, b from y"}');
    expect(
      JSON.stringify(
        bulkCheckJson([
          { target: '1.2.3.4', reasons: ['1.2.3.4 from test'] },
          { target: '2.3.4.5', reasons: [] },
        ]),
      ),
    ).toBe('{"results":[{"allowlists":["1.2.3.4 from test"],"target":"1.2.3.4"}]}');
    expect(JSON.stringify(bulkCheckJson([]))).toBe('{"results":[]}');
  });
});
