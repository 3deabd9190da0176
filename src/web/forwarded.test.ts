import { describe, expect, it } from 'vitest';
import { TrustedProxies } from '../remediation/client-ip.ts';
import { clientAddress, fromOwnPages, requestedHost, servedOverHttps, type RequestFacts } from './forwarded.ts';

const trusted = new TrustedProxies(['127.0.0.1', '::1']);
const facts = (peer: string, headers: Record<string, string>, encrypted = false): RequestFacts => ({
  peer,
  encrypted,
  header: (name) => headers[name.toLowerCase()],
});

describe('a dashboard request as the browser made it', () => {
  it('believes X-Forwarded-Host and -Proto from a trusted proxy only', () => {
    const h = { host: '127.0.0.1:8081', 'x-forwarded-host': 'vigil.example', 'x-forwarded-proto': 'https' };
    expect(requestedHost(facts('127.0.0.1', h), trusted)).toBe('vigil.example');
    expect(servedOverHttps(facts('127.0.0.1', h), trusted)).toBe(true);
    expect(requestedHost(facts('192.0.2.7', h), trusted)).toBe('127.0.0.1:8081');
    expect(servedOverHttps(facts('192.0.2.7', h), trusted)).toBe(false);
    expect(servedOverHttps(facts('192.0.2.7', {}, true), trusted)).toBe(true);
    expect(servedOverHttps(facts('192.0.2.7', { 'sec-fetch-site': 'same-origin', origin: 'https://vigil.example' }), trusted)).toBe(true);
    expect(servedOverHttps(facts('192.0.2.7', { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' }), trusted)).toBe(false);
  });

  it("takes the browser's Sec-Fetch-Site over the Host, and the Origin's host without it", () => {
    const o = { origin: 'https://vigil.example', host: '127.0.0.1:8081' };
    expect(fromOwnPages(facts('127.0.0.1', { ...o, 'sec-fetch-site': 'same-origin' }), trusted)).toBe(true);
    expect(fromOwnPages(facts('127.0.0.1', { ...o, 'sec-fetch-site': 'same-site' }), trusted)).toBe(false);
    expect(fromOwnPages(facts('127.0.0.1', o), trusted)).toBe(false);
    expect(fromOwnPages(facts('127.0.0.1', { ...o, 'x-forwarded-host': 'vigil.example' }), trusted)).toBe(true);
    expect(fromOwnPages(facts('192.0.2.7', { ...o, 'x-forwarded-host': 'vigil.example' }), trusted)).toBe(false);
    expect(fromOwnPages(facts('127.0.0.1', { host: 'x', 'sec-fetch-site': 'same-origin' }), trusted)).toBe(false);
    expect(fromOwnPages(facts('127.0.0.1', { origin: 'null', host: 'x' }), trusted)).toBe(false);
  });

  it("finds the client's address: the peer, or the rightmost untrusted hop behind trusted proxies", () => {
    expect(clientAddress(facts('192.0.2.7', { 'x-forwarded-for': '198.51.100.1' }), trusted)).toBe('192.0.2.7');
    expect(clientAddress(facts('127.0.0.1', { 'x-forwarded-for': '198.51.100.1, 203.0.113.5' }), trusted)).toBe('203.0.113.5');
    expect(clientAddress(facts('127.0.0.1', {}), trusted)).toBe('127.0.0.1');
    expect(clientAddress(facts('127.0.0.1', { 'x-forwarded-for': '::ffff:203.0.113.5' }), trusted)).toBe('203.0.113.5');
    expect(() => clientAddress(facts('127.0.0.1', { 'x-forwarded-for': 'unknown' }), trusted)).toThrow('X-Forwarded-For "unknown": not a list of IP addresses');
  });
});
