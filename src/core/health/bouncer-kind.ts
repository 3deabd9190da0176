/**
 * What a bouncer is, from the type the Local API recorded from its User-Agent (`<type>/<version>`,
 * docs/reference/crowdsec-docs-notes.md §2.6). Pure: no I/O.
 *
 * The family picks the runbook (config file, service, checks); the kind picks the issue:
 * a firewall bouncer that stops pulling is "Firewall Integration Offline", anything else
 * "RC Integration Offline". An operator can override the kind (`vigil bouncers set NAME --kind`).
 */

import type { BouncerKind } from '../model/records.ts';

export type BouncerFamily =
  | 'nginx'
  | 'openresty'
  | 'ingress-nginx'
  | 'apache'
  | 'traefik'
  | 'haproxy'
  | 'caddy'
  | 'envoy'
  | 'cloudflare'
  | 'aws-waf'
  | 'wordpress'
  | 'php'
  | 'firewall'
  | 'blocklist-mirror'
  | 'custom'
  | 'vigil'
  | 'generic';

export type { BouncerKind };

/**
 * Case-insensitive substring rules, first match wins, so the order matters:
 *
 * | family            | type contains                                   | real User-Agent types seen (source)                                              |
 * |-------------------|-------------------------------------------------|-----------------------------------------------------------------------------------|
 * | vigil             | `vigil`                                         | `vigil-bouncer`                                                                   |
 * | ingress-nginx     | `ingress`                                       | only when set explicitly: the ingress-nginx Lua plugin reports `crowdsec-openresty-bouncer` |
 * | openresty         | `openresty`                                     | `crowdsec-openresty-bouncer` (cs-openresty-bouncer, ingress-nginx plugin)         |
 * | nginx             | `nginx`, `ngx_http_crowdsec`                    | `crowdsec-nginx-bouncer` (lua-cs-bouncer), `ngx_http_crowdsec_module` (C module)  |
 * | apache            | `apache`, `mod_crowdsec`                        | `crowdsec-apache-bouncer`, `crowdsec-apache2-bouncer`                             |
 * | traefik           | `traefik`                                       | `Crowdsec-Bouncer-Traefik-Plugin`, `crowdsec-traefik-bouncer`, `traefik-crowdsec-bouncer` |
 * | haproxy           | `haproxy`, `spoa`                               | `crowdsec-haproxy-bouncer` (Lua), `crowdsec-spoa-bouncer` (SPOA)                  |
 * | caddy             | `caddy`                                         | `caddy-cs-bouncer` (hslatman/caddy-crowdsec-bouncer)                              |
 * | envoy             | `envoy`                                         | `cs-envoy-bouncer`, `envoy-proxy-bouncer`                                         |
 * | cloudflare        | `cloudflare`                                    | `crowdsec-cloudflare-bouncer`, `crowdsec-cloudflare-worker-bouncer`               |
 * | aws-waf           | `aws-waf`                                       | `crowdsec-aws-waf-bouncer`                                                        |
 * | wordpress         | `wordpress`                                     | `csphplapi_WordPress` (cs-wordpress-bouncer ≥ 2.0), `crowdsec-wordpress-bouncer`  |
 * | php               | `csphplapi`, `php`, `magento`                   | `csphplapi` (php-lapi-client), `csphplapi_Magento2`, `crowdsec-php-lib`           |
 * | blocklist-mirror  | `blocklist-mirror`                              | `crowdsec-blocklist-mirror`, `cs-blocklist-mirror`                                |
 * | firewall          | `firewall`, `fw-bouncer`, `iptables`, `nftables`, `ipset`, `pf-bouncer`, `unifi`, `vyos`, `mikrotik`, `routeros`, `opnsense`, `pfsense` | `crowdsec-firewall-bouncer` (all modes), `cs-firewall-bouncer`, `cs-windows-fw-bouncer`, `cs-cloud-firewall-bouncer`, `crowdsec-unifi-bouncer` |
 * | custom            | `custom`                                        | `crowdsec-custom-bouncer`                                                         |
 * | generic           | anything else                                   | `curl`, `Go-http-client` (fbonalair's Traefik forward-auth sets no UA), `nodejs-cs-bouncer`, `crowdsec` (empty UA) |
 */
export const FAMILY_RULES: ReadonlyArray<{ family: BouncerFamily; contains: readonly string[] }> = [
  { family: 'vigil', contains: ['vigil'] },
  // Before openresty/nginx: "ingress-nginx" contains "nginx".
  { family: 'ingress-nginx', contains: ['ingress'] },
  { family: 'openresty', contains: ['openresty'] },
  { family: 'nginx', contains: ['nginx', 'ngx_http_crowdsec'] },
  { family: 'apache', contains: ['apache', 'mod_crowdsec'] },
  { family: 'traefik', contains: ['traefik'] },
  { family: 'haproxy', contains: ['haproxy', 'spoa'] },
  { family: 'caddy', contains: ['caddy'] },
  { family: 'envoy', contains: ['envoy'] },
  { family: 'cloudflare', contains: ['cloudflare'] },
  { family: 'aws-waf', contains: ['aws-waf'] },
  // Before php: the WordPress plugin's UA is `csphplapi_WordPress/…`.
  { family: 'wordpress', contains: ['wordpress'] },
  { family: 'php', contains: ['csphplapi', 'php', 'magento'] },
  { family: 'blocklist-mirror', contains: ['blocklist-mirror'] },
  // After cloudflare: `cs-cloud-firewall-bouncer` is a firewall, `cloudflare` is not.
  {
    family: 'firewall',
    contains: ['firewall', 'fw-bouncer', 'iptables', 'nftables', 'ipset', 'pf-bouncer', 'unifi', 'vyos', 'mikrotik', 'routeros', 'opnsense', 'pfsense'],
  },
  { family: 'custom', contains: ['custom'] },
];

/** The family of a bouncer type (the part of the User-Agent before `/`). Unknown types are `generic`. */
export function bouncerFamily(type: string): BouncerFamily {
  let family = familyOfType.get(type);
  if (family === undefined) {
    // A fleet has a handful of types: remembered, so 10k bouncers are not 10k scans of the rules.
    if (familyOfType.size >= 1000) familyOfType.clear();
    familyOfType.set(type, (family = familyByRules(type)));
  }
  return family;
}

const familyOfType = new Map<string, BouncerFamily>();

function familyByRules(type: string): BouncerFamily {
  const t = type.toLowerCase();
  for (const rule of FAMILY_RULES) {
    if (rule.contains.some((s) => t.includes(s))) return rule.family;
  }
  return 'generic';
}

/**
 * Families that enforce at the network layer, so that a silent one is a firewall issue:
 *
 * - `firewall`: crowdsec-firewall-bouncer in every mode (iptables, nftables, ipset, pf: the mode is
 *   in its config, not its User-Agent), the Windows firewall bouncer, cloud network firewalls
 *   (cs-cloud-firewall-bouncer: GCP/AWS rules) and router integrations (UniFi, VyOS, MikroTik…).
 * - `blocklist-mirror`: yes. It serves the decisions as a list that network firewalls and
 *   appliances (FortiGate, pfSense, MikroTik…) fetch; when it stops pulling, their blocking goes stale.
 *
 * Deliberately not firewalls:
 * - `aws-waf` and `cloudflare`: they block HTTP requests at the edge (application level), so they
 *   are remediation components even though "WAF" has "firewall" in its name.
 * - `custom`: a script can do anything; when it drives a firewall, the operator sets the kind.
 */
const FIREWALL_FAMILIES: ReadonlySet<BouncerFamily> = new Set<BouncerFamily>(['firewall', 'blocklist-mirror']);

export function isFirewallType(type: string): boolean {
  return FIREWALL_FAMILIES.has(bouncerFamily(type));
}

/** The operator's choice when there is one, otherwise what the type says. */
export function resolveKind(type: string, override: BouncerKind | null): BouncerKind {
  if (override !== null) return override;
  return isFirewallType(type) ? 'firewall' : 'remediation';
}
