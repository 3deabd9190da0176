import { describe, expect, it } from 'vitest';
import { describeProbe, probeOf } from './probe.ts';

/** Real User-Agents: doctor's two forms, curl, CrowdSec's AppSec key check (Go's bare client), bouncers'. */
describe("probeOf: only a bouncer's own traffic is life", () => {
  it("names Vigil's own probes, whatever the method", () => {
    expect(probeOf('HEAD', 'vigil-doctor/0.9.0', 'crowdsec-custom-bouncer')?.from).toBe('vigil doctor');
    expect(probeOf('HEAD', 'crowdsec-custom-bouncer/vigil-doctor', 'crowdsec-custom-bouncer')?.from).toBe('vigil doctor');
    expect(probeOf('GET', 'vigil-verify', '')?.from).toBe('vigil verify');
  });
  it('a key check by curl, wget, a script or no User-Agent is a probe', () => {
    expect(probeOf('HEAD', 'curl/8.5.0', 'crowdsec-firewall-bouncer')).toEqual({ from: 'curl/8.5.0', userAgent: 'curl/8.5.0' });
    expect(probeOf('HEAD', 'Wget/1.21.3', '')?.from).toBe('Wget/1.21.3');
    expect(probeOf('HEAD', 'python-requests/2.31.0', 'cs-nginx-bouncer')?.from).toBe('python-requests/2.31.0');
    expect(probeOf('HEAD', undefined, 'cs-nginx-bouncer')?.from).toBe('a client with no User-Agent');
    expect(probeOf('GET', 'curl/8.5.0', 'crowdsec-firewall-bouncer')?.from).toBe('curl/8.5.0');
  });
  it("the bouncer's own product, CrowdSec's AppSec key check and other bouncers' builds are life", () => {
    expect(probeOf('GET', 'crowdsec-firewall-bouncer/v0.0.25', 'crowdsec-firewall-bouncer')).toBeNull();
    expect(probeOf('HEAD', 'nodejs-cs-bouncer/v0.2.0', 'nodejs-cs-bouncer')).toBeNull();
    expect(probeOf('HEAD', 'Go-http-client/1.1', 'lua-bouncer')).toBeNull();
    expect(probeOf('HEAD', 'CrowdSec Express-NodeJS bouncer/v0.0.1', '')).toBeNull();
    // A key that never said what it is: a curl-based script may be the bouncer itself.
    expect(probeOf('GET', 'curl/8.5.0', '')).toBeNull();
    // A bouncer built on curl keeps its life once its type is curl.
    expect(probeOf('HEAD', 'curl/8.5.0', 'curl')).toBeNull();
  });
  it('is told as evidence with when, who and from where', () => {
    const line = describeProbe({
      at: Date.UTC(2026, 11, 7, 17, 1, 0),
      userAgent: 'vigil-doctor/0.9.0',
      peerIp: '127.0.0.1',
      method: 'HEAD',
      path: '/v1/decisions',
    });
    expect(line).toBe(
      'key accepted at 2026-12-07T17:01:00Z, from vigil doctor (HEAD /v1/decisions from 127.0.0.1): a check by a person or a tool, not a sign of life',
    );
  });
});
