import { describe, expect, it } from 'vitest';
import { bouncerFamily, isFirewallType, resolveKind, type BouncerFamily } from './bouncer-kind.ts';

describe('bouncerFamily', () => {
  // Types as the Local API records them: the User-Agent before the `/` (real values from the bouncers' sources).
  it.each<[string, BouncerFamily]>([
    ['crowdsec-firewall-bouncer', 'firewall'],
    ['cs-firewall-bouncer', 'firewall'],
    ['cs-windows-fw-bouncer', 'firewall'],
    ['cs-cloud-firewall-bouncer', 'firewall'],
    ['crowdsec-unifi-bouncer', 'firewall'],
    ['crowdsec-nginx-bouncer', 'nginx'],
    ['ngx_http_crowdsec_module', 'nginx'],
    ['crowdsec-openresty-bouncer', 'openresty'],
    ['crowdsec-ingress-nginx-bouncer', 'ingress-nginx'],
    ['crowdsec-custom-bouncer', 'custom'],
    ['crowdsec-cloudflare-bouncer', 'cloudflare'],
    ['crowdsec-cloudflare-worker-bouncer', 'cloudflare'],
    ['crowdsec-traefik-bouncer', 'traefik'],
    ['traefik-crowdsec-bouncer', 'traefik'],
    ['Crowdsec-Bouncer-Traefik-Plugin', 'traefik'],
    ['crowdsec-haproxy-bouncer', 'haproxy'],
    ['crowdsec-spoa-bouncer', 'haproxy'],
    ['caddy-cs-bouncer', 'caddy'],
    ['cs-envoy-bouncer', 'envoy'],
    ['crowdsec-wordpress-bouncer', 'wordpress'],
    ['wordpress', 'wordpress'],
    ['csphplapi_WordPress', 'wordpress'],
    ['csphplapi', 'php'],
    ['csphplapi_Magento2', 'php'],
    ['crowdsec-php-lib', 'php'],
    ['crowdsec-apache-bouncer', 'apache'],
    ['crowdsec-apache2-bouncer', 'apache'],
    ['cs-blocklist-mirror', 'blocklist-mirror'],
    ['crowdsec-blocklist-mirror', 'blocklist-mirror'],
    ['crowdsec-aws-waf-bouncer', 'aws-waf'],
    ['vigil-bouncer', 'vigil'],
    ['curl', 'generic'],
    ['Go-http-client', 'generic'],
    ['nodejs-cs-bouncer', 'generic'],
    ['', 'generic'],
  ])('%j → %s', (type, family) => {
    expect(bouncerFamily(type)).toBe(family);
  });

  it('ignores case', () => {
    expect(bouncerFamily('CROWDSEC-FIREWALL-BOUNCER')).toBe('firewall');
    expect(bouncerFamily('crowdsec-bouncer-traefik-plugin')).toBe('traefik');
  });

  it('takes a malformed User-Agent kept whole as the type (CrowdSec: no `/` split)', () => {
    expect(bouncerFamily('crowdsec-firewall-bouncer/v0.0.31/extra')).toBe('firewall');
    expect(bouncerFamily('Mozilla/5.0 (X11) foo/1')).toBe('generic');
  });
});

describe('isFirewallType', () => {
  const FIREWALLS = [
    'crowdsec-firewall-bouncer',
    'cs-firewall-bouncer',
    'cs-windows-fw-bouncer',
    'cs-cloud-firewall-bouncer',
    'crowdsec-blocklist-mirror',
    'crowdsec-unifi-bouncer',
  ];
  const OTHERS = [
    'crowdsec-aws-waf-bouncer',
    'crowdsec-cloudflare-bouncer',
    'crowdsec-custom-bouncer',
    'crowdsec-nginx-bouncer',
    'Crowdsec-Bouncer-Traefik-Plugin',
    'vigil-bouncer',
    'curl',
    '',
  ];
  it.each([...FIREWALLS.map((type) => [type, true] as const), ...OTHERS.map((type) => [type, false] as const)])('%j is a firewall: %s', (type, firewall) => {
    expect(isFirewallType(type)).toBe(firewall);
  });
});

describe('resolveKind', () => {
  it('follows the type without an override', () => {
    expect(resolveKind('crowdsec-firewall-bouncer', null)).toBe('firewall');
    expect(resolveKind('crowdsec-nginx-bouncer', null)).toBe('remediation');
  });

  it("prefers the operator's choice", () => {
    expect(resolveKind('crowdsec-custom-bouncer', 'firewall')).toBe('firewall');
    expect(resolveKind('crowdsec-firewall-bouncer', 'remediation')).toBe('remediation');
  });
});
