import { describe, expect, it } from 'vitest';
import { parseUserAgent } from './user-agent.ts';

describe('parseUserAgent (CrowdSec 1.4.6 split on "/")', () => {
  it.each<[string | undefined, string, string, boolean]>([
    ['curl/7.88.1', 'curl', '7.88.1', true],
    ['crowdsec-firewall-bouncer/v0.0.25-debian', 'crowdsec-firewall-bouncer', 'v0.0.25-debian', true],
    ['crowdsec-firewall-bouncer/-', 'crowdsec-firewall-bouncer', '-', true],
    ['crowdsec-custom-bouncer/-', 'crowdsec-custom-bouncer', '-', true],
    ['x/1', 'x', '1', true],
    ['noslash', 'noslash', 'N/A', false],
    ['a/b/c', 'a/b/c', 'N/A', false],
    ['Mozilla/5.0 (X11) foo/1', 'Mozilla/5.0 (X11) foo/1', 'N/A', false],
    ['', '', 'N/A', false],
    [undefined, '', 'N/A', false],
    // Two parts, even if empty: CrowdSec stores them as they are.
    ['/', '', '', true],
    ['name/', 'name', '', true],
    ['/1.0', '', '1.0', true],
  ])('%j → %j / %j', (ua, type, version, wellFormed) => {
    expect(parseUserAgent(ua)).toEqual({ type, version, wellFormed });
  });
});
