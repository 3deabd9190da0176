import { describe, expect, it } from 'vitest';
import { parseLiveQuery, parseLiveQueryString } from './query.ts';

describe('parseLiveQueryString', () => {
  it('reads a query string exactly as parseLiveQuery reads its URLSearchParams, fast path or not', () => {
    const queries = [
      'ip=192.0.2.1',
      'ip=2001:db8::1',
      'ip=2001%3Adb8%3A%3A1',
      'ip=192.0.2.1&type=ban',
      'type=ban&ip=10.0.0.1',
      'ip=::ffff:192.0.2.1',
      'range=10.0.0.0/8&contains=false',
      '',
      'ip=192.0.2.1&ip=10.0.0.1',
    ];
    for (const q of queries) expect(parseLiveQueryString(q), q).toEqual(parseLiveQuery(new URLSearchParams(q)));
  });

  it('refuses a malformed lone ip with the same message', () => {
    expect(() => parseLiveQueryString('ip=bogus')).toThrow(/ip "bogus": not an IPv4 or IPv6 address/);
    expect(() => parseLiveQueryString('ip=')).toThrow(/ip "": not an IPv4 or IPv6 address/);
  });
});
