import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.ts';
import type { CliIo } from '../src/cli/io.ts';
import { systemClock } from '../src/lib/clock.ts';
import type { DoctorReport, Finding } from '../src/core/doctor/finding.ts';
import { localHost } from '../src/doctor/host.ts';

/**
 * `nginx -t` and the CrowdSec integration check against Debian's real nginx (installed by
 * scripts/install-nginx.sh in CI), on temporary configurations with and without the CrowdSec
 * directives. nginx is only tested (-T), never started.
 */
const nginx = await localHost().which('nginx');

let dir: string;

function nginxConf(name: string, top: string, http: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(
    file,
    `${top}
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log;
events {}
http {
  access_log off;
  client_body_temp_path ${dir}/tmp;
  proxy_temp_path ${dir}/tmp;
${http}
  server {
    listen 127.0.0.1:18999;
    location / { return 200 "app"; }
  }
}
`,
  );
  return file;
}

async function doctor(nginxConfig: string): Promise<{ code: number; findings: Finding[] }> {
  let out = '';
  const io: CliIo = { stdout: (t) => (out += t), stderr: () => {}, env: {}, cwd: dir, isTTY: false, clock: systemClock };
  const bouncerConf = path.join(dir, 'crowdsec-nginx-bouncer.conf');
  const code = await main(['doctor', '-o', 'json', '--timeout', '300ms', '--nginx-config', nginxConfig, '--log-file', `${dir}/error.log`, bouncerConf], io);
  const report = JSON.parse(out) as DoctorReport;
  return { code, findings: report.targets[0].findings.filter((f) => f.check === 'service.nginx' || f.check === 'service.integration') };
}

describe.skipIf(!nginx && !process.env.CI)('doctor: nginx -t and the CrowdSec integration (real nginx)', () => {
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-doctor-nginx-'));
    fs.mkdirSync(path.join(dir, 'tmp'));
    fs.writeFileSync(path.join(dir, 'crowdsec-nginx-bouncer.conf'), 'API_URL=http://127.0.0.1:1\nAPI_KEY=0123456789abcdef0123456789abcdef\n', { mode: 0o640 });
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('without any CrowdSec directive: the configuration is valid, the integration is missing', async () => {
    const conf = nginxConf('plain.conf', '', '');
    const { code, findings } = await doctor(conf);
    expect(code).toBe(1);
    expect(findings.map((f) => `${f.check}:${f.status}`)).toEqual(['service.nginx:ok', 'service.integration:fail']);
    expect(findings[0].title).toBe(`${nginx} -t -c ${conf}: syntax is ok, test is successful`);
    expect(findings[1].title).toBe('nginx has no CrowdSec integration: no Lua bouncer, no crowdsec module, no auth_request');
  });

  it("with the Lua bouncer's directives but no Lua module: module not loaded", async () => {
    const conf = nginxConf(
      'lua.conf',
      '',
      `  lua_package_path '/usr/local/lua/crowdsec/?.lua;;';
  lua_shared_dict crowdsec_cache 50m;
  init_by_lua_block {
    cs = require "crowdsec"
    local ok, err = cs.init("${dir}/crowdsec-nginx-bouncer.conf", "crowdsec-nginx-bouncer/v1.0.8")
  }`,
    );
    const { findings } = await doctor(conf);
    const test = findings.find((f) => f.check === 'service.nginx')!;
    expect(test.status).toBe('fail');
    expect(test.title).toBe(`${nginx} -t -c ${conf} failed: the CrowdSec module or Lua support is not loaded`);
    expect(test.evidence[0]).toMatch(/\[emerg\] .*unknown directive "lua_package_path" in .*lua\.conf:\d+/);
    expect(test.fix).toContain('libnginx-mod-http-lua');
    const integration = findings.find((f) => f.check === 'service.integration')!;
    expect(integration.status).toBe('skip');
    expect(integration.evidence[0]).toMatch(/lua\.conf:\d+: lua_package_path/);
  });

  it('with the CrowdSec C module the seed shows, not installed: dlopen fails', async () => {
    const conf = nginxConf('cmod.conf', 'load_module /usr/share/nginx/modules/ngx_http_crowdsec_module.so;', '  crowdsec_enabled on;');
    const { findings } = await doctor(conf);
    const test = findings.find((f) => f.check === 'service.nginx')!;
    expect(test.status).toBe('fail');
    expect(test.evidence.join('\n')).toMatch(/dlopen\(\) "\/usr\/share\/nginx\/modules\/ngx_http_crowdsec_module\.so" failed/);
    expect(test.title).toContain('the CrowdSec module or Lua support is not loaded');
  });

  it('with a forward-auth (auth_request) bouncer: valid and loaded', async () => {
    const conf = nginxConf(
      'fa.conf',
      '',
      `  server {
    listen 127.0.0.1:18998;
    location / { auth_request /_crowdsec; return 200 "protected"; }
    location = /_crowdsec { internal; proxy_pass http://127.0.0.1:18997/; }
  }`,
    );
    const { findings } = await doctor(conf);
    expect(findings.map((f) => `${f.check}:${f.status}`)).toEqual(['service.nginx:ok', 'service.integration:ok']);
    expect(findings[1].title).toBe('nginx loads an auth_request (forward-auth) bouncer');
    expect(findings[1].evidence[0]).toMatch(/fa\.conf:\d+: location \/ \{ auth_request \/_crowdsec; return 200 "protected"; \}/);
  });
});
