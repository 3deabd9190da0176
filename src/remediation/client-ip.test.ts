import { describe, expect, it } from 'vitest';
import { addressOfElement, resolveClientIp, TrustedProxies } from './client-ip.ts';

describe('resolveClientIp', () => {
  const trusted = new TrustedProxies(['127.0.0.1', '10.0.0.0/8', '::1', 'fd00::/8']);
  const none = new TrustedProxies([]);

  it('ignores forwarding headers from an untrusted peer (no spoofing)', () => {
    expect(resolveClientIp('203.0.113.5', 'x-forwarded-for', '198.51.100.1', trusted)).toBe('203.0.113.5');
    expect(resolveClientIp('203.0.113.5', 'x-forwarded-for', '198.51.100.1', none)).toBe('203.0.113.5');
  });

  it('takes the rightmost untrusted address, skipping trusted hops', () => {
    expect(resolveClientIp('127.0.0.1', 'x-forwarded-for', '198.51.100.1', trusted)).toBe('198.51.100.1');
    // The client wrote "1.1.1.1" itself; the proxy appended the real peer.
    expect(resolveClientIp('127.0.0.1', 'x-forwarded-for', '1.1.1.1, 203.0.113.7, 10.1.2.3', trusted)).toBe('203.0.113.7');
    expect(resolveClientIp('::ffff:127.0.0.1', 'x-forwarded-for', '2001:db8::7', trusted)).toBe('2001:db8::7');
    expect(resolveClientIp('::1', 'x-forwarded-for', ['1.1.1.1', '203.0.113.8'], trusted)).toBe('203.0.113.8');
  });

  it('falls back to the leftmost trusted hop when every hop is trusted, and to the peer without a header', () => {
    expect(resolveClientIp('127.0.0.1', 'x-forwarded-for', '10.9.9.9, 10.1.1.1', trusted)).toBe('10.9.9.9');
    expect(resolveClientIp('127.0.0.1', 'x-forwarded-for', undefined, trusted)).toBe('127.0.0.1');
    expect(resolveClientIp('127.0.0.1', 'x-forwarded-for', '  ', trusted)).toBe('127.0.0.1');
  });

  it('refuses (null) when the walk reaches something that is not an address', () => {
    expect(resolveClientIp('127.0.0.1', 'x-forwarded-for', 'garbage', trusted)).toBeNull();
    expect(resolveClientIp('127.0.0.1', 'forwarded', 'for=unknown', trusted)).toBeNull();
    // Junk to the left of an untrusted address is never reached.
    expect(resolveClientIp('127.0.0.1', 'x-forwarded-for', 'garbage, 203.0.113.9', trusted)).toBe('203.0.113.9');
  });

  it('reads Forwarded (RFC 7239) and X-Real-IP', () => {
    const fwd = 'for=198.51.100.1;proto=https, for="[2001:db8:cafe::17]:4711";by=10.0.0.1, for=10.0.0.2';
    expect(resolveClientIp('127.0.0.1', 'forwarded', fwd, trusted)).toBe('2001:db8:cafe::17');
    expect(resolveClientIp('127.0.0.1', 'forwarded', 'For="192.0.2.60:8080"', trusted)).toBe('192.0.2.60');
    expect(resolveClientIp('127.0.0.1', 'x-real-ip', '192.0.2.61', trusted)).toBe('192.0.2.61');
    expect(resolveClientIp('192.0.2.1', 'x-real-ip', '192.0.2.61', trusted)).toBe('192.0.2.1');
  });

  it('strips ports and brackets', () => {
    expect(addressOfElement(' 192.0.2.1:443 ')).toBe('192.0.2.1');
    expect(addressOfElement('[2001:db8::1]:443')).toBe('2001:db8::1');
    expect(addressOfElement('[2001:db8::1]')).toBe('2001:db8::1');
    expect(addressOfElement('2001:db8::1')).toBe('2001:db8::1');
    expect(addressOfElement('"[::1]"')).toBe('::1');
  });

  it('matches trusted ranges of both families', () => {
    expect(trusted.hasText('10.255.0.1')).toBe(true);
    expect(trusted.hasText('11.0.0.1')).toBe(false);
    expect(trusted.hasText('fdff::1')).toBe(true);
    expect(trusted.hasText('fe00::1')).toBe(false);
    expect(trusted.hasText('::ffff:10.0.0.1')).toBe(true);
    expect(trusted.hasText('nonsense')).toBe(false);
  });
});
