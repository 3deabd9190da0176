import { describe, expect, it } from 'vitest';
import { apacheHasCrowdsec, nginxTestErrors, scanNginxDump } from './webserver-config.ts';
import { formatMode, lookupUser, readableBy, worldReadable } from './permissions.ts';

describe('nginx configuration dump', () => {
  it('finds the Lua bouncer across included files, with file:line', () => {
    const dump = [
      '# configuration file /etc/nginx/nginx.conf:',
      'load_module modules/ngx_http_lua_module.so;',
      'http {',
      '  include /etc/nginx/conf.d/*.conf;',
      '}',
      '',
      '# configuration file /etc/nginx/conf.d/crowdsec_nginx.conf:',
      "lua_package_path '/usr/local/lua/crowdsec/?.lua;;';",
      'lua_shared_dict crowdsec_cache 50m;',
      'init_by_lua_block {',
      '  cs = require "crowdsec"',
      '  local ok, err = cs.init("/etc/crowdsec/bouncers/crowdsec-nginx-bouncer.conf", "crowdsec-nginx-bouncer/v1.0.8")',
      '}',
    ].join('\n');
    const i = scanNginxDump(dump);
    expect(i.none).toBe(false);
    expect(i.lua.map((e) => `${e.file}:${e.line}`)).toEqual([
      '/etc/nginx/conf.d/crowdsec_nginx.conf:1',
      '/etc/nginx/conf.d/crowdsec_nginx.conf:2',
      '/etc/nginx/conf.d/crowdsec_nginx.conf:4',
      '/etc/nginx/conf.d/crowdsec_nginx.conf:5',
    ]);
    expect(i.luaModule).toHaveLength(1);
    expect(i.bouncerConfigs).toEqual(['/etc/crowdsec/bouncers/crowdsec-nginx-bouncer.conf']);
  });

  it('finds the C module and forward-auth, and nothing in a plain configuration', () => {
    expect(scanNginxDump('load_module modules/ngx_http_crowdsec_module.so;\nhttp {\n crowdsec_enabled on;\n}').cModule).toHaveLength(2);
    expect(scanNginxDump('location / {\n  auth_request /_vigil;\n}\n').forwardAuth[0].text).toBe('auth_request /_vigil;');
    expect(scanNginxDump('http {\n  # lua_package_path crowdsec (commented out)\n  server { listen 80; }\n}').none).toBe(true);
    expect(scanNginxDump('location / { auth_request off; }').none).toBe(true);
  });

  it('keeps the error lines of nginx -t', () => {
    const stderr = 'nginx: [emerg] unknown directive "lua_package_path" in /tmp/n.conf:5\nnginx: configuration file /tmp/n.conf test failed\n';
    expect(nginxTestErrors(stderr)).toEqual([
      'nginx: [emerg] unknown directive "lua_package_path" in /tmp/n.conf:5',
      'nginx: configuration file /tmp/n.conf test failed',
    ]);
  });

  it('finds mod_crowdsec in apache2ctl -M', () => {
    expect(apacheHasCrowdsec('Loaded Modules:\n core_module (static)\n crowdsec_module (shared)\n')).toHaveLength(1);
    expect(apacheHasCrowdsec('Loaded Modules:\n core_module (static)\n')).toEqual([]);
  });
});

describe('file permissions', () => {
  const passwd = 'root:x:0:0:root:/root:/bin/bash\nwww-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\nnobody:x:65534:65534::/:/usr/sbin/nologin\n';
  const group = 'root:x:0:\nwww-data:x:33:\nadm:x:4:www-data\n';
  it('reads users and groups', () => {
    expect(lookupUser(passwd, group, 'www-data')).toEqual({ name: 'www-data', uid: 33, gids: [33, 4] });
    expect(lookupUser(passwd, group, 'ghost')).toBeUndefined();
  });
  it('decides who can read', () => {
    const www = lookupUser(passwd, group, 'www-data')!;
    expect(readableBy({ mode: 0o600, uid: 0, gid: 0 }, www)).toBe(false);
    expect(readableBy({ mode: 0o640, uid: 0, gid: 33 }, www)).toBe(true);
    expect(readableBy({ mode: 0o640, uid: 0, gid: 4 }, www)).toBe(true);
    expect(readableBy({ mode: 0o604, uid: 0, gid: 0 }, www)).toBe(true);
    expect(readableBy({ mode: 0o000, uid: 33, gid: 33 }, lookupUser(passwd, group, 'root')!)).toBe(true);
    expect(worldReadable({ mode: 0o644, uid: 0, gid: 0 })).toBe(true);
    expect(formatMode(0o640)).toBe('0640');
  });
});
