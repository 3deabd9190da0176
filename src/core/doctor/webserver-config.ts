/**
 * Is the CrowdSec integration loaded in the web server? Pure: reads the full configuration that
 * `nginx -T` dumps (every included file, each after a `# configuration file PATH:` header) or the
 * module list of `apache2ctl -M`, and says which integration is there, with file:line evidence.
 *
 * nginx integrations recognised:
 * - the Lua bouncer (lua-cs-bouncer / crowdsec-nginx-bouncer): `lua_package_path …crowdsec…`,
 *   `require "crowdsec"`, `cs.init("…/crowdsec-nginx-bouncer.conf", …)`, `access_by_lua*`;
 *   it needs the Lua module (`load_module …ngx_http_lua_module.so`, or OpenResty);
 * - the C module from the seed: `load_module …ngx_http_crowdsec_module.so` + `crowdsec_enabled on`;
 * - a forward-auth bouncer: `auth_request` to a location proxied to Vigil's (or another) bouncer.
 */

export interface ConfigEvidence {
  file: string;
  line: number;
  text: string;
}

export interface NginxIntegration {
  lua: ConfigEvidence[];
  luaModule: ConfigEvidence[];
  cModule: ConfigEvidence[];
  forwardAuth: ConfigEvidence[];
  /** Bouncer configuration files named in `cs.init("…")`. */
  bouncerConfigs: string[];
  /** Nothing CrowdSec-related at all. */
  none: boolean;
}

const LUA =
  /lua_package_path\s+['"][^'"]*crowdsec|require\s*\(?\s*['"]crowdsec['"]|\bcs\.(?:init|Allow|SetupStream)\s*\(|lua_shared_dict\s+crowdsec_cache|access_by_lua_file\s+\S*crowdsec/i;
const LUA_MODULE = /load_module\s+\S*ngx_http_lua_module\.so|openresty/i;
const C_MODULE = /load_module\s+\S*ngx_http_crowdsec_module\.so|^\s*crowdsec_(?:enabled|api_url|api_key)\b/i;
const AUTH_REQUEST = /(?:^|[{;]\s*)auth_request\s+([^\s;]+)\s*;/;

/** Walks `nginx -T` output: `# configuration file /etc/nginx/nginx.conf:` starts each file. */
export function scanNginxDump(dump: string): NginxIntegration {
  const out: NginxIntegration = { lua: [], luaModule: [], cModule: [], forwardAuth: [], bouncerConfigs: [], none: true };
  let file = '(nginx -T)';
  let line = 0;
  const authLocations: ConfigEvidence[] = [];
  for (const raw of dump.split(/\r?\n/)) {
    const header = /^# configuration file (.+):$/.exec(raw);
    if (header) {
      file = header[1];
      line = 0;
      continue;
    }
    line++;
    const text = raw.replace(/#.*$/, '').trim();
    if (text === '') continue;
    const ev = { file, line, text: text.slice(0, 200) };
    if (LUA.test(text)) out.lua.push(ev);
    if (LUA_MODULE.test(text) && /load_module/.test(text)) out.luaModule.push(ev);
    if (C_MODULE.test(text)) out.cModule.push(ev);
    const init = /cs\.init\(\s*["']([^"']+)["']/.exec(text);
    if (init) out.bouncerConfigs.push(init[1]);
    const auth = AUTH_REQUEST.exec(text);
    if (auth && auth[1] !== 'off') authLocations.push(ev);
  }
  out.forwardAuth = authLocations;
  out.none = out.lua.length === 0 && out.cModule.length === 0 && out.forwardAuth.length === 0;
  return out;
}

/** `nginx -t` / `-T` prints its verdict on stderr: `… syntax is ok`, `… test is successful`, or `[emerg] …`. */
export function nginxTestErrors(stderr: string): string[] {
  return stderr
    .split(/\r?\n/)
    .filter((l) => /\[(emerg|alert|crit|error)\]|test failed/.test(l))
    .map((l) => l.trim());
}

/** `apache2ctl -M` lists `crowdsec_module (shared)` when mod_crowdsec is enabled. */
export function apacheHasCrowdsec(modules: string): ConfigEvidence[] {
  return modules
    .split(/\r?\n/)
    .map((text, i) => ({ file: '(apache2ctl -M)', line: i + 1, text: text.trim() }))
    .filter((e) => /crowdsec/i.test(e.text));
}
