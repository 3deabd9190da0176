/**
 * The RC Integration Offline page's diagnosis, resolution and verification steps
 * (docs/reference/rc-integration-offline.md), kept as data and tailored to one bouncer:
 * its family's config file and keys, its service, where it and the Local API run, and the most
 * likely cause first. Pure: builds text, runs nothing.
 *
 * Every value that reaches a shell command (bouncer name, container, namespace, Local API URL, and
 * anything derived from the User-Agent) goes through `shellQuote`: names come from operators and
 * types from any client holding a key.
 */
import pc from 'picocolors';
import type { BouncerFamily } from './bouncer-kind.ts';
import { CAUSES, causeSummary, type CauseKind } from './causes.ts';

export type { CauseKind };
/** Where CrowdSec's (or Vigil's) Local API runs, as runbooks address it. */
export const DEPLOYMENTS = ['host', 'docker', 'kubernetes'] as const;
export type Deployment = (typeof DEPLOYMENTS)[number];

export interface RunbookContext {
  bouncerName: string;
  bouncerType: string;
  family: BouncerFamily;
  kind: 'firewall' | 'remediation';
  /** e.g. http://127.0.0.1:8080/ */
  lapiUrl: string;
  deployment: Deployment;
  /** The most likely cause: its steps come first. */
  cause: CauseKind;
  /** Docker container of the Local API (default `crowdsec`). */
  container?: string;
  /** Kubernetes namespace of the Local API (default `crowdsec`). */
  namespace?: string;
  /** Which CLI manages bouncers on the Local API host (default `vigil`; `cscli` when Vigil watches a real CrowdSec). */
  cli?: 'vigil' | 'cscli';
}

export interface RunbookStep {
  text: string;
  commands: string[];
}
export interface RunbookSection {
  title: 'Diagnose' | 'Resolve' | 'Verify';
  steps: RunbookStep[];
}
export interface Runbook {
  title: string;
  summary: string;
  configPath: string;
  serviceName: string;
  sections: RunbookSection[];
}

// ---------------------------------------------------------------------------------------------
// Quoting

const SHELL_SAFE = /^[A-Za-z0-9._@:/-]+$/;
// C0/C1 controls, and the invisible or direction-changing characters that make a terminal show
// something other than what runs ("Trojan source").
const NEEDS_ESCAPE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/;
const NEEDS_ESCAPE_ALL = new RegExp(NEEDS_ESCAPE.source, 'g');

function escapeChar(ch: string): string {
  const named: Record<string, string> = { '\n': '\\n', '\t': '\\t', '\r': '\\r' };
  if (named[ch]) return named[ch];
  const code = ch.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * One shell word for `value`, for bash (the seed's commands are bash). Left bare when it holds only
 * `[A-Za-z0-9._@:/-]`; single-quoted otherwise; ANSI-C quoted (`$'…'`) when it holds control or
 * invisible characters, so that what the terminal shows is what runs.
 */
export function shellQuote(value: string): string {
  if (value !== '' && SHELL_SAFE.test(value)) return value;
  if (NEEDS_ESCAPE.test(value)) {
    const body = value.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(NEEDS_ESCAPE_ALL, escapeChar);
    return `$'${body}'`;
  }
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** A value shown in prose: a Markdown code span that no content can break out of, controls made visible. */
export function code(value: string): string {
  const visible = value.replace(NEEDS_ESCAPE_ALL, escapeChar);
  const longestRun = Math.max(0, ...(visible.match(/`+/g) ?? []).map((r) => r.length));
  const fence = '`'.repeat(longestRun + 1);
  const pad = visible.startsWith('`') || visible.endsWith('`') || visible === '' ? ' ' : '';
  return `${fence}${pad}${visible}${pad}${fence}`;
}

/** A shell fragment that is already safe (built here from quoted parts): not quoted again. */
interface Raw {
  raw: string;
}
const raw = (text: string): Raw => ({ raw: text });

/** Tagged template: interpolated strings are shell-quoted, `raw(…)` fragments are kept. */
function sh(strings: TemplateStringsArray, ...values: Array<string | Raw>): string {
  // The literal parts as written (`\n` stays two characters: it is for the shell, not for us).
  let out = strings.raw[0];
  values.forEach((v, i) => {
    out += (typeof v === 'string' ? shellQuote(v) : v.raw) + strings.raw[i + 1];
  });
  return out;
}

// ---------------------------------------------------------------------------------------------
// Profiles: how each kind of bouncer is configured and run (docs/reference/crowdsec-docs-notes.md §3.2, the seed page, and the
// bouncers' own sources). One family can have several variants, chosen by the type.

type Runtime = 'daemon' | 'webserver' | 'app';

interface Profile {
  id: string;
  family: BouncerFamily;
  /** Lower-case substrings of the type that select this variant; none = the family's default. */
  when?: string[];
  label: string;
  configPath: string;
  /** The line that sets the Local API URL, as written in the file; `{url}`, `{hostport}` and `{scheme}` are filled in. */
  urlLine: string;
  /** The line that sets the key, with `<paste-new-key>` for the operator to fill. */
  keyLine: string;
  /** An extended regex matching those lines, to show them (`grep -snE`). */
  keysPattern: string;
  /** Whether the URL is written with its trailing `/` (Go bouncers add it; Lua and PHP clients need it). */
  trailingSlash: boolean;
  /** go-cs-lib's yamlpatch: `<config>.local` is merged over `<config>` and wins. */
  localOverride?: boolean;
  /** Reads its config with go-cs-bouncer's ConfigReader, so `retry_initial_connect` applies. */
  goCsBouncer?: boolean;
  /** Binary with `-c <config> -t` ("test config and exit"). */
  selfTest?: string;
  /** systemd unit (or Windows service) that runs it. */
  unit: string;
  runtime: Runtime;
  /** Log files on the host. */
  logs: string[];
  /** Where it runs whatever the Local API's deployment: firewalls change the host's own rules. */
  runsOn?: 'host' | 'kubernetes';
  windows?: boolean;
  /** Kubernetes coordinates when fixed (ingress-nginx). */
  k8s?: { namespace: string; pod: string; deployment: string };
  /** Group that must be able to read the config (web server workers). */
  readBy?: string;
  /** Host commands that validate the server's configuration. */
  syntaxCheck?: string[];
  moduleCheck?: RunbookStep;
  moduleEnable?: RunbookStep;
  /** How to set the key when it is not a line in a file: where (a phrase after "set it"), and the commands. */
  setKey?: { where: string; commands: string[] };
  /** Verify: how to see the test decision enforced, when `curl` through the service is not the way. */
  verify?: RunbookStep;
  /** Pulls only when it serves a request (live mode by default). */
  liveByDefault?: boolean;
}

const FIREWALL_VERIFY: RunbookStep = {
  text: 'Check that 192.0.2.1 reached the firewall (use the line for the `mode:` in its config: nftables, iptables/ipset or pf):',
  commands: [
    'sudo nft list table ip crowdsec | grep -F 192.0.2.1',
    'sudo ipset list | grep -F 192.0.2.1',
    'sudo iptables -L -n | grep -i crowdsec',
    'sudo pfctl -t crowdsec-blacklists -T show | grep -F 192.0.2.1',
  ],
};

const PROFILES: Profile[] = [
  {
    id: 'nginx-module',
    family: 'nginx',
    when: ['ngx_http_crowdsec_module'],
    label: 'NGINX module (ngx_http_crowdsec_module)',
    configPath: '/etc/nginx/nginx.conf',
    urlLine: 'crowdsec_url {url};',
    keyLine: 'crowdsec_api_key <paste-new-key>;',
    keysPattern: 'load_module|crowdsec_url|crowdsec_api_key',
    trailingSlash: false,
    unit: 'nginx',
    runtime: 'webserver',
    logs: ['/var/log/nginx/error.log'],
    syntaxCheck: ['sudo nginx -t'],
    moduleCheck: {
      text: 'Check that NGINX loads the CrowdSec module (`load_module …ngx_http_crowdsec_module.so;`) and that `crowdsec on;` is set where you expect blocking:',
      commands: ["sudo nginx -T 2>/dev/null | grep -nE 'load_module|crowdsec'"],
    },
    moduleEnable: {
      text: 'Enable the module: `load_module modules/ngx_http_crowdsec_module.so;` at the top of nginx.conf, `crowdsec_url` and `crowdsec_api_key` in `http {}`, `crowdsec on;` in the protected server or location; then test and reload:',
      commands: ['sudo nginx -t', 'sudo systemctl reload nginx'],
    },
  },
  {
    id: 'nginx-lua',
    family: 'nginx',
    label: 'NGINX bouncer (Lua)',
    configPath: '/etc/crowdsec/bouncers/crowdsec-nginx-bouncer.conf',
    urlLine: 'API_URL={url}',
    keyLine: 'API_KEY=<paste-new-key>',
    keysPattern: '^(API_URL|API_KEY|MODE)=',
    trailingSlash: true,
    unit: 'nginx',
    runtime: 'webserver',
    logs: ['/var/log/nginx/error.log'],
    readBy: 'www-data',
    syntaxCheck: ['sudo nginx -t'],
    moduleCheck: {
      text: 'Check that NGINX loads the Lua module (`load_module …ngx_http_lua_module.so`, package libnginx-mod-http-lua) and includes the bouncer (`/etc/nginx/conf.d/crowdsec_nginx.conf`):',
      commands: ["sudo nginx -T 2>/dev/null | grep -nE 'load_module|lua_package_path|crowdsec'"],
    },
    moduleEnable: {
      text: 'Make NGINX load the Lua module and include `/etc/nginx/conf.d/crowdsec_nginx.conf` (the crowdsec-nginx-bouncer package installs both); then test and reload:',
      commands: ['sudo nginx -t', 'sudo systemctl reload nginx'],
    },
  },
  {
    id: 'openresty',
    family: 'openresty',
    label: 'OpenResty bouncer (Lua)',
    configPath: '/etc/crowdsec/bouncers/crowdsec-openresty-bouncer.conf',
    urlLine: 'API_URL={url}',
    keyLine: 'API_KEY=<paste-new-key>',
    keysPattern: '^(API_URL|API_KEY|MODE)=',
    trailingSlash: true,
    unit: 'openresty',
    runtime: 'webserver',
    logs: ['/usr/local/openresty/nginx/logs/error.log'],
    syntaxCheck: ['sudo openresty -t'],
    moduleCheck: {
      text: 'Check that OpenResty includes the bouncer (`crowdsec_openresty.conf` with `init_by_lua_block` and `access_by_lua_block`):',
      commands: ["sudo openresty -T 2>/dev/null | grep -n 'crowdsec'"],
    },
    moduleEnable: {
      text: 'Include the bouncer in the OpenResty configuration (`include /etc/nginx/conf.d/crowdsec_openresty.conf;` in `http {}`), then test and reload:',
      commands: ['sudo openresty -t', 'sudo systemctl reload openresty'],
    },
  },
  {
    id: 'ingress-nginx',
    family: 'ingress-nginx',
    label: 'ingress-nginx CrowdSec plugin (Lua)',
    configPath: '/etc/nginx/lua/plugins/crowdsec/crowdsec-bouncer.conf',
    urlLine: 'API_URL={url}',
    keyLine: 'API_KEY=<paste-new-key>',
    keysPattern: '^(API_URL|API_KEY|MODE)=',
    trailingSlash: true,
    unit: 'ingress-nginx-controller',
    runtime: 'webserver',
    logs: [],
    runsOn: 'kubernetes',
    k8s: { namespace: 'ingress-nginx', pod: '<controller-pod>', deployment: 'ingress-nginx-controller' },
    moduleCheck: {
      text: 'Check that the ingress controller runs with the CrowdSec plugin and that your ingress uses it:',
      commands: [
        'kubectl get pods -n ingress-nginx',
        'kubectl describe ingress <your-ingress> -n <namespace>',
        'kubectl logs -n ingress-nginx <controller-pod> --tail=50',
      ],
    },
    moduleEnable: {
      text: 'Enable the plugin in the controller (`plugins: [crowdsec]` and the crowdsec init container with `API_URL` and `API_KEY` in your values file), then upgrade the release:',
      commands: ['helm upgrade --reuse-values -n ingress-nginx ingress-nginx ingress-nginx/ingress-nginx -f crowdsec-ingress-bouncer.yaml'],
    },
    setKey: {
      where: 'in the env of the crowdsec init container (with `API_URL`) in your ingress-nginx values file, then upgrade the release',
      commands: ['helm upgrade --reuse-values -n ingress-nginx ingress-nginx ingress-nginx/ingress-nginx -f crowdsec-ingress-bouncer.yaml'],
    },
  },
  {
    id: 'apache',
    family: 'apache',
    label: 'Apache module (mod_crowdsec)',
    configPath: '/etc/crowdsec/bouncers/crowdsec-apache2-bouncer.conf',
    urlLine: 'CrowdsecURL {url}',
    keyLine: 'CrowdsecAPIKey <paste-new-key>',
    keysPattern: 'CrowdsecURL|CrowdsecAPIKey',
    trailingSlash: false,
    unit: 'apache2',
    runtime: 'webserver',
    logs: ['/var/log/apache2/error.log'],
    readBy: 'www-data',
    syntaxCheck: ['sudo apache2ctl -t'],
    moduleCheck: {
      text: 'Check that the module is enabled (`mods-enabled/crowdsec.conf`) and loaded:',
      commands: ['ls -l /etc/apache2/mods-enabled/ | grep -i crowdsec', 'sudo apache2ctl -M 2>/dev/null | grep -i crowdsec'],
    },
    moduleEnable: {
      text: 'Enable the module, make sure `Crowdsec on` is set in the protected `<Location>`, then restart Apache:',
      commands: ['sudo a2enmod crowdsec', 'sudo apache2ctl -t', 'sudo systemctl restart apache2'],
    },
  },
  {
    // The plugin's User-Agent is `Crowdsec-Bouncer-Traefik-Plugin/<version>`; it lives in Traefik's
    // dynamic configuration (file provider, Docker labels or a Middleware), so we search for it.
    id: 'traefik-plugin',
    family: 'traefik',
    when: ['plugin'],
    label: 'Traefik plugin (crowdsec-bouncer-traefik-plugin)',
    configPath: '/etc/traefik/',
    urlLine: 'crowdsecLapiScheme: {scheme} and crowdsecLapiHost: {hostport}',
    keyLine: 'crowdsecLapiKey: <paste-new-key>',
    keysPattern: 'crowdsecLapi(Scheme|Host|Key|KeyFile)|crowdsecMode',
    trailingSlash: false,
    unit: 'traefik',
    runtime: 'webserver',
    logs: [],
    liveByDefault: true,
    moduleCheck: {
      text: 'Check that Traefik declares the plugin (`experimental.plugins` in its static configuration) and that the crowdsec middleware is attached to your routers:',
      commands: ['sudo grep -rn -i crowdsec /etc/traefik/'],
    },
    moduleEnable: {
      text: 'Declare the plugin in the static configuration (`experimental.plugins.bouncer.moduleName: github.com/maxlerebourg/crowdsec-bouncer-traefik-plugin`), add the middleware to your routers, then restart Traefik:',
      commands: ['sudo systemctl restart traefik'],
    },
  },
  {
    id: 'traefik',
    family: 'traefik',
    label: 'Traefik bouncer',
    configPath: '/etc/crowdsec/bouncers/crowdsec-traefik-bouncer.yaml',
    urlLine: 'crowdsec_lapi_url: {url}',
    keyLine: 'crowdsec_lapi_key: <paste-new-key>',
    keysPattern: 'crowdsec_lapi_(url|key)',
    trailingSlash: true,
    unit: 'crowdsec-traefik-bouncer',
    runtime: 'daemon',
    logs: ['/var/log/crowdsec-traefik-bouncer.log'],
  },
  {
    id: 'haproxy-spoa',
    family: 'haproxy',
    when: ['spoa'],
    label: 'HAProxy SPOA bouncer',
    configPath: '/etc/crowdsec/bouncers/crowdsec-spoa-bouncer.yaml',
    urlLine: 'api_url: {url}',
    keyLine: 'api_key: <paste-new-key>',
    keysPattern: '^\\s*(api_url|api_key):',
    trailingSlash: true,
    localOverride: true,
    goCsBouncer: true,
    selfTest: 'crowdsec-spoa-bouncer',
    unit: 'crowdsec-spoa-bouncer',
    runtime: 'daemon',
    logs: ['/var/log/crowdsec-spoa-bouncer.log'],
  },
  {
    // The Lua bouncer runs inside HAProxy (no service of its own, whatever the seed's example says)
    // and reaches the Local API through an HAProxy backend, not a URL in its own file.
    id: 'haproxy-lua',
    family: 'haproxy',
    label: 'HAProxy bouncer (Lua)',
    configPath: '/etc/crowdsec/bouncers/crowdsec-haproxy-bouncer.conf',
    urlLine: 'server crowdsec {hostport} (backend crowdsec in /etc/haproxy/haproxy.cfg)',
    keyLine: 'API_KEY=<paste-new-key>',
    keysPattern: '^(API_KEY|MODE)=',
    trailingSlash: false,
    unit: 'haproxy',
    runtime: 'webserver',
    logs: ['/var/log/haproxy.log'],
    syntaxCheck: ['sudo haproxy -c -f /etc/haproxy/haproxy.cfg'],
    moduleCheck: {
      text: 'Check that HAProxy loads the bouncer (`lua-load`, `setenv CROWDSEC_CONFIG`) and has the `crowdsec` backend:',
      commands: ["sudo grep -nE 'lua-load|CROWDSEC_CONFIG|crowdsec' /etc/haproxy/haproxy.cfg"],
    },
    moduleEnable: {
      text: 'Add the `lua-load` and `setenv CROWDSEC_CONFIG` lines to the global section and the `crowdsec` backend, then check and restart HAProxy:',
      commands: ['sudo haproxy -c -f /etc/haproxy/haproxy.cfg', 'sudo systemctl restart haproxy'],
    },
  },
  {
    id: 'caddy',
    family: 'caddy',
    label: 'Caddy module (caddy-crowdsec-bouncer)',
    configPath: '/etc/caddy/Caddyfile',
    urlLine: 'api_url {url} (in the global crowdsec { } block)',
    keyLine: 'api_key <paste-new-key>',
    keysPattern: 'crowdsec|api_url|api_key',
    trailingSlash: false,
    unit: 'caddy',
    runtime: 'webserver',
    logs: [],
    syntaxCheck: ['sudo caddy validate --config /etc/caddy/Caddyfile'],
    moduleCheck: {
      text: 'Check that this Caddy binary includes the CrowdSec module:',
      commands: ['caddy list-modules | grep -i crowdsec'],
    },
    moduleEnable: {
      text: 'Build Caddy with the module, then restart it:',
      commands: ['xcaddy build --with github.com/hslatman/caddy-crowdsec-bouncer/http', 'sudo systemctl restart caddy'],
    },
  },
  {
    id: 'cloudflare-worker',
    family: 'cloudflare',
    when: ['worker'],
    label: 'Cloudflare Workers bouncer',
    configPath: '/etc/crowdsec/bouncers/crowdsec-cloudflare-worker-bouncer.yaml',
    urlLine: 'crowdsec_config.lapi_url: {url}',
    keyLine: 'crowdsec_config.lapi_key: <paste-new-key>',
    keysPattern: '^\\s*(lapi_url|lapi_key):',
    trailingSlash: true,
    localOverride: true,
    selfTest: 'crowdsec-cloudflare-worker-bouncer',
    unit: 'crowdsec-cloudflare-worker-bouncer',
    runtime: 'daemon',
    logs: ['/var/log/crowdsec-cloudflare-worker-bouncer.log'],
    verify: {
      text: 'Cloudflare decides on the real client address, so X-Forwarded-For cannot simulate it: check that the bouncer received the decision and pushed it to the worker (its log says "Received 1 new decisions"):',
      commands: ['sudo tail -20 /var/log/crowdsec-cloudflare-worker-bouncer.log'],
    },
  },
  {
    id: 'cloudflare',
    family: 'cloudflare',
    label: 'Cloudflare bouncer',
    configPath: '/etc/crowdsec/bouncers/crowdsec-cloudflare-bouncer.yaml',
    urlLine: 'crowdsec_lapi_url: {url}',
    keyLine: 'crowdsec_lapi_key: <paste-new-key>',
    keysPattern: 'crowdsec_lapi_(url|key)',
    trailingSlash: true,
    localOverride: true,
    selfTest: 'crowdsec-cloudflare-bouncer',
    unit: 'crowdsec-cloudflare-bouncer',
    runtime: 'daemon',
    logs: ['/var/log/crowdsec-cloudflare-bouncer.log'],
    verify: {
      text: "Cloudflare decides on the real client address, so X-Forwarded-For cannot simulate it: check that 192.0.2.1 appears in the bouncer's IP list in the Cloudflare dashboard, or in its log:",
      commands: ['sudo grep -F 192.0.2.1 /var/log/crowdsec-cloudflare-bouncer.log'],
    },
  },
  {
    id: 'aws-waf',
    family: 'aws-waf',
    label: 'AWS WAF bouncer',
    configPath: '/etc/crowdsec/bouncers/crowdsec-aws-waf-bouncer.yaml',
    urlLine: 'api_url: {url}',
    keyLine: 'api_key: <paste-new-key>',
    keysPattern: '^\\s*(api_url|api_key):',
    trailingSlash: true,
    unit: 'crowdsec-aws-waf-bouncer',
    runtime: 'daemon',
    logs: ['/var/log/crowdsec-aws-waf-bouncer.log'],
    verify: {
      text: "Check that 192.0.2.1 reached the bouncer's IP set in AWS WAF (use the scope and IP set from its config):",
      commands: ['aws wafv2 list-ip-sets --scope REGIONAL', 'aws wafv2 get-ip-set --scope REGIONAL --name <ip-set-name> --id <ip-set-id>'],
    },
  },
  {
    id: 'wordpress',
    family: 'wordpress',
    label: 'WordPress plugin (crowdsec)',
    configPath: 'WordPress options crowdsec_api_url and crowdsec_api_key (wp-admin → CrowdSec)',
    urlLine: 'crowdsec_api_url = {url}',
    keyLine: 'crowdsec_api_key = <paste-new-key>',
    keysPattern: '',
    trailingSlash: false,
    unit: 'php-fpm',
    runtime: 'app',
    logs: [],
    liveByDefault: true,
    moduleCheck: {
      text: 'Check that the plugin is installed and active, and where it points:',
      commands: ['wp plugin status crowdsec', 'wp option get crowdsec_api_url'],
    },
    moduleEnable: {
      text: 'Activate the plugin (wp-admin → Plugins, or WP-CLI):',
      commands: ['wp plugin activate crowdsec'],
    },
    setKey: {
      where: 'in wp-admin → CrowdSec → Connection details ("Bouncer API key"), or with WP-CLI',
      commands: ["wp option update crowdsec_api_key '<paste-new-key>'"],
    },
  },
  {
    id: 'php',
    family: 'php',
    label: 'PHP bouncer (standalone or library)',
    configPath: '/var/www/crowdsec-standalone-bouncer/scripts/settings.php',
    urlLine: "'api_url' => '{url}'",
    keyLine: "'api_key' => '<paste-new-key>'",
    keysPattern: "'(api_url|api_key|stream_mode)'",
    trailingSlash: false,
    unit: 'php-fpm',
    runtime: 'app',
    logs: [],
    readBy: 'www-data',
    liveByDefault: true,
    moduleCheck: {
      text: 'Check that PHP prepends the bouncer (`auto_prepend_file`) and, in stream mode, that the cron job refreshing its cache still runs (a stream-mode PHP bouncer pulls only then):',
      commands: ['php -i | grep -i auto_prepend_file', 'sudo crontab -u www-data -l | grep -i crowdsec'],
    },
    moduleEnable: {
      text: 'Set `auto_prepend_file` to the bouncer script in php.ini (or the vhost) and restore the cache-refresh cron job in stream mode, then restart PHP:',
      commands: ['sudo systemctl restart php-fpm'],
    },
  },
  {
    id: 'firewall-windows',
    family: 'firewall',
    when: ['windows'],
    label: 'Windows firewall bouncer',
    configPath: 'C:\\ProgramData\\CrowdSec\\bouncers\\cs-windows-firewall-bouncer\\cs-windows-firewall-bouncer.yaml',
    urlLine: 'api_endpoint: {url}',
    keyLine: 'api_key: <paste-new-key>',
    keysPattern: 'api_',
    trailingSlash: false,
    unit: 'cs-windows-firewall-bouncer',
    runtime: 'daemon',
    logs: [],
    runsOn: 'host',
    windows: true,
    verify: {
      text: 'Check that Windows Firewall got a CrowdSec rule containing 192.0.2.1 (PowerShell):',
      commands: ["Get-NetFirewallRule | Where-Object DisplayName -like '*crowdsec*'"],
    },
  },
  {
    id: 'firewall',
    family: 'firewall',
    label: 'firewall bouncer',
    configPath: '/etc/crowdsec/bouncers/crowdsec-firewall-bouncer.yaml',
    urlLine: 'api_url: {url}',
    keyLine: 'api_key: <paste-new-key>',
    keysPattern: '^\\s*(api_url|api_key|mode):',
    trailingSlash: true,
    localOverride: true,
    goCsBouncer: true,
    selfTest: 'crowdsec-firewall-bouncer',
    unit: 'crowdsec-firewall-bouncer',
    runtime: 'daemon',
    logs: ['/var/log/crowdsec-firewall-bouncer.log'],
    runsOn: 'host',
    verify: FIREWALL_VERIFY,
  },
  {
    id: 'blocklist-mirror',
    family: 'blocklist-mirror',
    label: 'blocklist mirror',
    configPath: '/etc/crowdsec/bouncers/crowdsec-blocklist-mirror.yaml',
    urlLine: 'crowdsec_config.lapi_url: {url}',
    keyLine: 'crowdsec_config.lapi_key: <paste-new-key>',
    keysPattern: '^\\s*(lapi_url|lapi_key|listen_uri):',
    trailingSlash: true,
    localOverride: true,
    selfTest: 'crowdsec-blocklist-mirror',
    unit: 'crowdsec-blocklist-mirror',
    runtime: 'daemon',
    logs: ['/var/log/crowdsec-blocklist-mirror.log'],
    verify: {
      text: 'Check that the mirror serves 192.0.2.1 (default listen_uri and endpoint; use yours), then that the appliances fetching it refreshed their list:',
      commands: ['curl -s http://127.0.0.1:41412/security/blocklist | grep -F 192.0.2.1'],
    },
  },
  {
    id: 'vigil-forward-auth',
    family: 'vigil',
    label: 'Vigil forward-auth bouncer (`vigil bouncer forward-auth`)',
    configPath: '/etc/crowdsec/bouncers/vigil-forward-auth.yaml',
    urlLine: 'api_url: {url}',
    keyLine: 'api_key: <paste-new-key>',
    keysPattern: '^\\s*(api_url|api_key|update_frequency):',
    trailingSlash: true,
    unit: 'vigil-forward-auth',
    runtime: 'daemon',
    logs: [],
  },
  {
    id: 'custom',
    family: 'custom',
    label: 'custom bouncer',
    configPath: '/etc/crowdsec/bouncers/crowdsec-custom-bouncer.yaml',
    urlLine: 'api_url: {url}',
    keyLine: 'api_key: <paste-new-key>',
    keysPattern: '^\\s*(api_url|api_key|bin_path):',
    trailingSlash: true,
    localOverride: true,
    goCsBouncer: true,
    selfTest: 'crowdsec-custom-bouncer',
    unit: 'crowdsec-custom-bouncer',
    runtime: 'daemon',
    logs: ['/var/log/crowdsec-custom-bouncer.log'],
    verify: {
      text: 'Check that your script (`bin_path` in the config) ran with `add 192.0.2.1 …`: its own log or effect (for a firewall script, the rule):',
      commands: ['sudo grep -n bin_path /etc/crowdsec/bouncers/crowdsec-custom-bouncer.yaml'],
    },
  },
];

/** Bouncers we have no page for: the usual convention, named after the type when it looks like a unit name. */
function genericProfile(family: BouncerFamily, type: string): Profile {
  const unitLike = /^[A-Za-z0-9][A-Za-z0-9._-]{0,100}$/.test(type) && !/^(curl|go-http-client|crowdsec)$/i.test(type);
  const unit = unitLike ? type.toLowerCase() : '<bouncer-service>';
  return {
    id: 'generic',
    family,
    label: unitLike ? `${type} bouncer` : 'bouncer',
    configPath: unitLike ? `/etc/crowdsec/bouncers/${unit}.yaml` : '/etc/crowdsec/bouncers/<bouncer-config>.yaml',
    urlLine: 'api_url: {url}',
    keyLine: 'api_key: <paste-new-key>',
    keysPattern: '^\\s*(api_url|api_key):',
    trailingSlash: true,
    unit,
    runtime: 'daemon',
    logs: unitLike ? [`/var/log/${unit}.log`] : ['/var/log/<bouncer>.log'],
  };
}

function profileFor(family: BouncerFamily, type: string): Profile {
  const t = type.toLowerCase();
  const ofFamily = PROFILES.filter((p) => p.family === family);
  return ofFamily.find((p) => p.when?.some((w) => t.includes(w))) ?? ofFamily.find((p) => p.when === undefined) ?? genericProfile(family, type);
}

// ---------------------------------------------------------------------------------------------
// The context the steps read: values filled in, prefixes built once.

interface Env {
  ctx: RunbookContext;
  p: Profile;
  cli: 'vigil' | 'cscli';
  /** Where the bouncer runs. */
  where: Deployment;
  /** The URL the bouncer should use (a wildcard listen address becomes `<lapi-host>`). */
  url: string;
  host: string;
  port: string;
  scheme: string;
}

export function parseLapi(lapiUrl: string): { url: string; host: string; port: string; scheme: string } {
  let u: URL;
  try {
    u = new URL(lapiUrl);
  } catch {
    return { url: lapiUrl, host: '<lapi-host>', port: '8080', scheme: 'http' };
  }
  const scheme = u.protocol.replace(/:$/, '');
  const port = u.port || (scheme === 'https' ? '443' : '80');
  let host = u.hostname.replace(/^\[|\]$/g, '');
  // A wildcard listen address is where the LAPI listens, not where a bouncer can reach it.
  if (host === '0.0.0.0' || host === '::') host = '<lapi-host>';
  const hostInUrl = host.includes(':') ? `[${host}]` : host;
  const path = u.pathname.endsWith('/') ? u.pathname : `${u.pathname}/`;
  return { url: `${scheme}://${hostInUrl}${u.port ? `:${u.port}` : ''}${path}`, host, port, scheme };
}

function envFor(ctx: RunbookContext): Env {
  const p = profileFor(ctx.family, ctx.bouncerType);
  const lapi = parseLapi(ctx.lapiUrl);
  return { ctx, p, cli: ctx.cli ?? 'vigil', where: p.runsOn ?? ctx.deployment, ...lapi };
}

/** A command run where the Local API's bouncer-management CLI lives. `args` must already be shell-safe. */
function lapiCmd(e: Env, args: string): string {
  const bin = e.cli;
  switch (e.ctx.deployment) {
    case 'host':
      return `sudo ${bin} ${args}`;
    case 'docker':
      return sh`docker exec ${e.ctx.container ?? 'crowdsec'} ${raw(bin)} ${raw(args)}`;
    case 'kubernetes': {
      const ns = e.ctx.namespace ?? 'crowdsec';
      return sh`kubectl exec -n ${ns} -it $(kubectl get pods -n ${ns} -l type=lapi -o name) -- ${raw(bin)} ${raw(args)}`;
    }
  }
}

/** `bouncers add`-style argument: `--` first when a name could pass for an option. */
const nameArg = (name: string): string => (name.startsWith('-') ? `-- ${shellQuote(name)}` : shellQuote(name));

const k8sOf = (e: Env) => e.p.k8s ?? { namespace: '<bouncer-namespace>', pod: '<bouncer-pod>', deployment: '<bouncer-deployment>' };

/** A host command (written with `sudo` where the host needs it) moved to where the bouncer runs. */
function inBouncer(e: Env, hostCommand: string): string {
  const bare = hostCommand.replace(/^sudo /, '');
  if (e.p.windows) return hostCommand;
  switch (e.where) {
    case 'host':
      return hostCommand;
    case 'docker':
      return `docker exec <bouncer-container> ${bare}`;
    case 'kubernetes': {
      const k = k8sOf(e);
      return `kubectl exec -n ${k.namespace} ${k.pod} -- ${bare}`;
    }
  }
}

/** The bouncer's own service: status, restart, enable, logs, in its environment. */
function serviceOps(e: Env): { status: string[]; restart: string[]; enable: string[]; logs: string[] } {
  const unit = e.p.unit;
  if (e.p.windows) {
    return {
      status: [sh`Get-Service ${unit}`],
      restart: [sh`Restart-Service ${unit}`],
      enable: [sh`Set-Service ${unit} -StartupType Automatic`],
      logs: ['Get-ChildItem C:\\ProgramData\\CrowdSec\\logs\\ | Sort-Object LastWriteTime | Select-Object -Last 3'],
    };
  }
  switch (e.where) {
    case 'host':
      return {
        status: [sh`sudo systemctl status ${unit}`],
        restart: [sh`sudo systemctl restart ${unit}`],
        enable: [sh`sudo systemctl enable ${unit}`],
        logs: [sh`sudo journalctl -u ${unit} -n 50`, ...e.p.logs.map((f) => sh`sudo tail -50 ${f}`)],
      };
    case 'docker':
      return {
        status: ['docker ps -a --filter name=<bouncer-container>'],
        restart: ['docker restart <bouncer-container>'],
        enable: ['docker update --restart unless-stopped <bouncer-container>'],
        logs: ['docker logs --tail 50 <bouncer-container>'],
      };
    case 'kubernetes': {
      const k = k8sOf(e);
      return {
        status: [`kubectl get pods -n ${k.namespace}`],
        restart: [`kubectl rollout restart deployment/${k.deployment} -n ${k.namespace}`],
        enable: [],
        logs: [`kubectl logs ${k.pod} -n ${k.namespace} --tail=50`],
      };
    }
  }
}

function urlFor(e: Env): string {
  return e.p.trailingSlash ? e.url : e.url.replace(/\/$/, '');
}

function fillLine(e: Env, line: string): string {
  const hostport = `${e.host.includes(':') ? `[${e.host}]` : e.host}:${e.port}`;
  // Functions, not strings, as replacements: a `$&` in a URL must stay as it is.
  return line
    .replace('{url}', () => urlFor(e))
    .replace('{hostport}', () => hostport)
    .replace('{scheme}', () => e.scheme);
}

/** Show the URL and key lines as the bouncer reads them. */
function showConfig(e: Env): string[] {
  const p = e.p;
  if (p.id === 'wordpress') return [inBouncer(e, 'wp option get crowdsec_api_url'), inBouncer(e, 'wp option get crowdsec_api_key')];
  if (p.windows) return [sh`Select-String -Path ${p.configPath} -Pattern ${p.keysPattern}`];
  if (p.id === 'traefik-plugin') return [inBouncer(e, sh`sudo grep -rnE ${p.keysPattern} /etc/traefik/`)];
  const files = p.localOverride ? sh`${p.configPath} ${p.configPath + '.local'}` : sh`${p.configPath}`;
  const out = [inBouncer(e, sh`sudo grep -snE ${p.keysPattern} ${raw(files)}`)];
  if (p.id === 'haproxy-lua') out.push(inBouncer(e, "sudo grep -nA3 'backend crowdsec' /etc/haproxy/haproxy.cfg"));
  if (p.selfTest) out.push(inBouncer(e, sh`sudo ${p.selfTest} -c ${p.configPath} -t`));
  return out;
}

/**
 * How to change the config where the bouncer runs: `where` completes "set it …", then the commands;
 * `restarts` when those commands already restart the bouncer.
 */
function editConfig(e: Env): { where: string; commands: string[]; restarts: boolean } {
  const p = e.p;
  // WordPress reads its options on each request; the helm upgrade rolls the controller.
  if (p.setKey) return { where: p.setKey.where, commands: p.setKey.commands.map((c) => inBouncer(e, c)), restarts: true };
  if (p.windows) return { where: `in ${code(p.configPath)} (as Administrator)`, commands: [sh`notepad ${p.configPath}`], restarts: false };
  switch (e.where) {
    case 'host':
      return p.id === 'traefik-plugin'
        ? {
            where: 'in the file that defines the crowdsec middleware (under `/etc/traefik/`)',
            commands: ["sudo grep -rln 'crowdsecLapi' /etc/traefik/"],
            restarts: false,
          }
        : { where: `in ${code(p.configPath)}`, commands: [sh`sudo nano ${p.configPath}`], restarts: false };
    case 'docker':
      return {
        where: `on the Docker host, in the file mounted as ${code(p.configPath)} or the docker-compose.yml variable that fills it, then recreate the container`,
        commands: ['docker compose up -d --force-recreate <bouncer-service>'],
        restarts: true,
      };
    case 'kubernetes': {
      const k = k8sOf(e);
      return {
        where: 'in the Secret or Helm values that hold it, then restart the bouncer',
        commands: [`kubectl edit secret <bouncer-secret> -n ${k.namespace}`, `kubectl rollout restart deployment/${k.deployment} -n ${k.namespace}`],
        restarts: true,
      };
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The steps (the seed's, in its order), each a function of the context; null when not applicable.

export type StepId =
  | 'registration'
  | 'service'
  | 'module'
  | 'logs'
  | 'connectivity'
  | 'keyTest'
  | 'config'
  | 'reconnect'
  | 'configureKey'
  | 'restart'
  | 'rekey'
  | 'network'
  | 'enableModule'
  | 'fixConfig'
  | 'permissions';

type StepFn = (e: Env) => RunbookStep | null;

const decisionsProbeUrl = (e: Env): string => `${e.url}v1/decisions`;

/** Reachability of the Local API from where the bouncer runs (PowerShell has no nc, and its `curl` is another command). */
function reachCommands(e: Env): string[] {
  return e.p.windows ? [sh`Test-NetConnection ${e.host} -Port ${e.port}`, sh`curl.exe -I ${e.url}`] : [sh`nc -zv ${e.host} ${e.port}`, sh`curl -I ${e.url}`];
}

const DIAGNOSE: Partial<Record<StepId, StepFn>> = {
  registration: (e) => ({
    text: `Check ${code(e.ctx.bouncerName)} in the bouncer list on the Local API: is it listed, is it valid (✔️, not revoked), and how old is its "Last API pull"?`,
    commands: [lapiCmd(e, 'bouncers list'), ...(e.cli === 'vigil' ? [lapiCmd(e, `bouncers inspect ${nameArg(e.ctx.bouncerName)}`)] : [])],
  }),
  service: (e) => {
    const ops = serviceOps(e);
    const text: Record<Runtime, string> = {
      webserver: `Check that ${code(e.p.unit)} runs and that its configuration is valid (the bouncer lives inside it):`,
      app: `Check that PHP (${code(e.p.unit)}) runs the site the bouncer protects:`,
      daemon: `Check that the ${e.p.label} (${code(e.p.unit)}) is running:`,
    };
    return {
      text: text[e.p.runtime],
      commands: [...ops.status, ...(e.p.syntaxCheck ?? []).map((c) => inBouncer(e, c))],
    };
  },
  module: (e) =>
    e.p.moduleCheck ? { text: e.p.moduleCheck.text, commands: e.p.moduleCheck.commands.map((c) => (e.p.runsOn === 'kubernetes' ? c : inBouncer(e, c))) } : null,
  logs: (e) => ({
    text: 'Read its recent logs. `connection refused` or a timeout: the Local API is unreachable. `401`/`403` or `API error: access forbidden`: the key is refused. `module not loaded`: the integration is not enabled. `invalid configuration`: the config file.',
    commands: serviceOps(e).logs,
  }),
  connectivity: (e) => ({
    text: `From where the bouncer runs, test that the Local API answers at ${code(e.url)}:`,
    commands: reachCommands(e),
  }),
  // HEAD: it checks the key without counting as a pull (which would make the issue look resolved)
  // and, on CrowdSec ≥ 1.6.4, without creating a `name@ip` entry when run from another address.
  keyTest: (e) => ({
    text: 'From where the bouncer runs, test its key (the one in its config): 200 means the key works; 403 means the Local API does not know it (wrong, regenerated, revoked, or the bouncer was deleted).',
    commands: [
      sh`${raw(e.p.windows ? 'curl.exe' : 'curl')} -s -o ${raw(e.p.windows ? 'NUL' : '/dev/null')} -I -w '%{http_code}\n' -H 'X-Api-Key: <paste-api-key>' ${decisionsProbeUrl(e)}`,
    ],
  }),
  config: (e) => {
    const never = e.ctx.cause === 'never_pulled';
    const lead = never
      ? 'Check that the key given when it was registered was actually put in its config (not left empty or as `${API_KEY}`):'
      : `Check the URL and key it uses: the URL should be ${code(fillLine(e, e.p.urlLine))}${e.p.trailingSlash ? ' (with the trailing `/`)' : ''}, and the key must not be empty or a leftover \`\${API_KEY}\`.`;
    const local = e.p.localOverride ? ` Values in ${code(e.p.configPath + '.local')} override the main file.` : '';
    return { text: lead + local, commands: showConfig(e) };
  },
};

const RESOLVE: Partial<Record<StepId, StepFn>> = {
  reconnect: (e) => {
    if (e.ctx.cause !== 'lapi_restart') return null;
    const ops = serviceOps(e);
    const resetFailed = e.where === 'host' && !e.p.windows && e.p.runtime === 'daemon' ? [sh`sudo systemctl reset-failed ${e.p.unit}`] : [];
    const retry = e.p.goCsBouncer
      ? ` To ride out the next restart, set ${code('retry_initial_connect: true')} in ${code(e.p.configPath)}: it then retries every 10 s instead of exiting when the Local API is down at its start.`
      : '';
    return {
      text: `The Local API restarted around the time ${code(e.ctx.bouncerName)} went quiet, and it did not reconnect (a bouncer that finds the Local API down when it starts often exits, and systemd gives up after a few quick retries). Restart it so it opens a fresh connection.${retry}`,
      commands: [...resetFailed, ...ops.restart, ...(e.p.runtime === 'daemon' ? ops.enable : [])],
    };
  },
  configureKey: (e) => {
    if (e.ctx.cause !== 'never_pulled') return null;
    const edit = editConfig(e);
    const ops = serviceOps(e);
    return {
      text: `${code(e.ctx.bouncerName)} was registered but has never pulled: its key was probably never put in its config, or it was never started. Set the key shown at registration as ${code(e.p.keyLine)} ${edit.where}, and start it. (A lost key cannot be shown again: register a new one as in the next step.)`,
      commands: [
        ...edit.commands,
        ...(edit.restarts ? [] : e.where === 'host' && !e.p.windows && e.p.runtime === 'daemon' ? [sh`sudo systemctl enable --now ${e.p.unit}`] : ops.restart),
      ],
    };
  },
  restart: (e) => {
    if (e.ctx.cause === 'lapi_restart') return null; // the reconnect step restarts it
    const ops = serviceOps(e);
    const text: Record<Runtime, string> = {
      webserver: `Restart ${code(e.p.unit)} so the bouncer inside it starts again:`,
      app: `Restart PHP (${code(e.p.unit)}) so the bouncer is loaded again:`,
      daemon: ops.enable.length > 0 ? 'Restart the bouncer and make sure it starts at boot:' : 'Restart the bouncer:',
    };
    return {
      text: text[e.p.runtime],
      commands: [...ops.restart, ...(e.p.runtime === 'daemon' ? ops.enable : [])],
    };
  },
  rekey: (e) => {
    const base = e.ctx.bouncerName.replace(/@.*$/, '') || e.ctx.bouncerName;
    const newName = `${base}-new`;
    const edit = editConfig(e);
    const ops = serviceOps(e);
    const dockerEnv =
      e.cli === 'cscli' && e.ctx.deployment === 'docker'
        ? " If the key is set through `BOUNCER_KEY_<name>` in the crowdsec container's environment, change it there and recreate that container instead."
        : '';
    const restart = edit.restarts ? [] : ops.restart;
    return {
      text: `Register a new key under a new name, ${code(newName)} (keys are shown once and cannot be recovered), copy the key it prints, and set it as ${code(e.p.keyLine)} ${edit.where}.${dockerEnv} Once the new entry pulls, remove the old one: ${code(lapiCmd(e, `bouncers delete ${nameArg(e.ctx.bouncerName)}`))}.`,
      commands: [lapiCmd(e, `bouncers add ${nameArg(newName)}`), ...edit.commands, ...restart],
    };
  },
  network: (e) => {
    const docker =
      e.where === 'docker'
        ? " Between containers, use the Local API's service name on a shared network (e.g. `http://crowdsec:8080/`), not 127.0.0.1."
        : e.ctx.deployment === 'docker'
          ? ' A Local API in a container must publish its port to the host (e.g. `ports: ["127.0.0.1:8080:8080"]`).'
          : '';
    return {
      text: `If the bouncer runs on another host, the Local API must listen on an address it can reach (not 127.0.0.1) and the port must be open between them.${docker} Test, then correct the URL in its config to ${code(fillLine(e, e.p.urlLine))}:`,
      commands: reachCommands(e),
    };
  },
  enableModule: (e) =>
    e.p.moduleEnable
      ? { text: e.p.moduleEnable.text, commands: e.p.moduleEnable.commands.map((c) => (e.p.runsOn === 'kubernetes' ? c : inBouncer(e, c))) }
      : null,
  fixConfig: (e) => {
    const edit = editConfig(e);
    const ops = serviceOps(e);
    const check = [
      ...(e.p.syntaxCheck ?? []).map((c) => inBouncer(e, c)),
      ...(e.p.selfTest ? [inBouncer(e, sh`sudo ${e.p.selfTest} -c ${e.p.configPath} -t`)] : []),
    ];
    const restart = edit.restarts ? [] : ops.restart;
    const yaml = e.p.configPath.endsWith('.yaml') ? ' Check the YAML indentation.' : '';
    const local = e.p.localOverride ? ` A value in ${code(e.p.configPath + '.local')} wins over the main file.` : '';
    const then = check.length > 0 ? (edit.restarts ? ' Then check it:' : ' Then check it and restart:') : edit.restarts ? '' : ' Then restart it:';
    return {
      text: `Fix the configuration: set ${code(fillLine(e, e.p.urlLine))}${e.p.trailingSlash ? ' (keep the trailing `/`)' : ''} and ${code(e.p.keyLine)} ${edit.where}.${yaml}${local}${then}`,
      commands: [...edit.commands, ...check, ...restart],
    };
  },
  permissions: (e) => {
    if (!e.p.readBy || e.where !== 'host' || e.p.configPath.startsWith('WordPress')) return null;
    return {
      text: `The config must be readable by the web server user (${code(e.p.readBy)}):`,
      commands: ['ls -la /etc/crowdsec/bouncers/', sh`sudo chmod 640 ${e.p.configPath}`, sh`sudo chown ${'root:' + e.p.readBy} ${e.p.configPath}`],
    };
  },
};

/** The seed page's order; a cause moves its own steps to the front. */
const SEED_ORDER: { diagnose: StepId[]; resolve: StepId[] } = {
  diagnose: ['registration', 'service', 'module', 'logs', 'connectivity', 'keyTest', 'config'],
  resolve: ['reconnect', 'configureKey', 'restart', 'rekey', 'network', 'enableModule', 'fixConfig', 'permissions'],
};

function ordered(first: StepId[], seed: StepId[]): StepId[] {
  return [...first, ...seed.filter((id) => !first.includes(id))];
}

function verifySteps(e: Env): RunbookStep[] {
  const ops = serviceOps(e);
  const live =
    e.ctx.kind === 'remediation'
      ? ` A live-mode bouncer${e.p.liveByDefault ? ' (the default for this one)' : ''} pulls only when it serves a request, so send one through it first.`
      : '';
  const test: RunbookStep =
    e.p.verify ??
    (e.ctx.kind === 'firewall'
      ? FIREWALL_VERIFY
      : {
          text: 'Request your service as that IP: expect 403 Forbidden or a captcha. (This works when the service trusts X-Forwarded-For from where you run curl; otherwise ban the address you test from.)',
          commands: ['curl -H "X-Forwarded-For: 192.0.2.1" http://your-service/'],
        });
  return [
    { text: 'The bouncer service is running:', commands: ops.status },
    {
      text: `Pulls resume: "Last API pull" of ${code(e.ctx.bouncerName)} updates within seconds to minutes.${live}`,
      commands: [lapiCmd(e, 'bouncers list')],
    },
    { text: 'Its logs show a successful connection (no more connection refused or 403):', commands: ops.logs.slice(0, 1) },
    {
      text: 'Test remediation with a 5-minute decision on a documentation address:',
      commands: [lapiCmd(e, 'decisions add --ip 192.0.2.1 --duration 5m --reason test')],
    },
    { text: test.text, commands: test.commands },
    { text: 'Remove the test decision:', commands: [lapiCmd(e, 'decisions delete --ip 192.0.2.1')] },
  ];
}

const WHERE: Record<Deployment, string> = { host: 'host', docker: 'Docker', kubernetes: 'Kubernetes' };

export function runbookFor(ctx: RunbookContext): Runbook {
  const e = envFor(ctx);
  const issue = ctx.kind === 'firewall' ? 'Firewall Integration Offline' : 'RC Integration Offline';
  const first = CAUSES[ctx.cause]?.first ?? CAUSES.unknown.first;
  const build = (ids: StepId[], table: Partial<Record<StepId, StepFn>>): RunbookStep[] =>
    ids.flatMap((id) => {
      const step = table[id]?.(e);
      return step ? [step] : [];
    });
  const typeText = ctx.bouncerType === '' ? 'unknown type' : `type ${code(ctx.bouncerType)}`;
  const likely = ctx.cause === 'unknown' ? `Likely cause: ${causeSummary('unknown')}.` : `Most likely ${causeSummary(ctx.cause)}; those steps come first.`;
  return {
    title: `${issue}: ${code(ctx.bouncerName)} (${e.p.label}, ${WHERE[e.where]})`,
    summary: `${code(ctx.bouncerName)} (${typeText}) has stopped pulling decisions from the Local API at ${code(e.url)}, so ${ctx.kind === 'firewall' ? 'its firewall rules are going stale' : 'threats reaching it are not blocked or challenged'}. ${likely}`,
    configPath: e.p.configPath,
    serviceName: e.p.unit,
    sections: [
      { title: 'Diagnose', steps: build(ordered(first.diagnose, SEED_ORDER.diagnose), DIAGNOSE) },
      { title: 'Resolve', steps: build(ordered(first.resolve, SEED_ORDER.resolve), RESOLVE) },
      { title: 'Verify', steps: verifySteps(e) },
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// Formatting

/** For a terminal: title, summary, headed sections, numbered steps, commands indented under them. */
export function formatRunbookText(r: Runbook, opts: { color?: boolean } = {}): string {
  const c = pc.createColors(opts.color ?? false);
  const lines: string[] = [c.bold(r.title), r.summary, '', `Config:  ${r.configPath}`, `Service: ${r.serviceName}`];
  for (const section of r.sections) {
    lines.push('', c.bold(c.underline(section.title)));
    section.steps.forEach((step, i) => {
      const n = `${i + 1}.`;
      lines.push(`  ${c.bold(n)} ${step.text}`);
      for (const command of step.commands) lines.push(`       ${c.cyan(command)}`);
    });
  }
  return lines.join('\n') + '\n';
}

/** For notifications and the dashboard: fenced commands that no command can close early. */
export function formatRunbookMarkdown(r: Runbook): string {
  const lines: string[] = [`## ${r.title}`, '', r.summary, '', `- **Config:** ${code(r.configPath)}`, `- **Service:** ${code(r.serviceName)}`];
  for (const section of r.sections) {
    lines.push('', `### ${section.title}`, '');
    section.steps.forEach((step, i) => {
      lines.push(`${i + 1}. ${step.text}`);
      if (step.commands.length > 0) {
        const body = step.commands.join('\n');
        const longest = Math.max(0, ...(body.match(/`+/g) ?? []).map((run) => run.length));
        const fence = '`'.repeat(Math.max(3, longest + 1));
        lines.push('', `   ${fence}bash`, ...step.commands.map((cmd) => `   ${cmd}`), `   ${fence}`, '');
      }
    });
  }
  return (
    lines
      .join('\n')
      .replace(/\n{3,}/g, '\n\n')
      .trimEnd() + '\n'
  );
}
