/** Doctor's web server stage: nginx -t / apache2ctl -t, and whether the web server loads a CrowdSec integration. */
import path from 'node:path';
import { fail, ok, skip, warn, type Finding } from '../core/doctor/finding.ts';
import { scanLogLines } from '../core/doctor/log-signatures.ts';
import { apacheHasCrowdsec, nginxTestErrors, scanNginxDump } from '../core/doctor/webserver-config.ts';
import { isFileError } from './host.ts';
import type { DoctorOptions } from './options.ts';
import { apacheTest, nginxTest } from './service-probe.ts';

export async function nginxFindings(opts: DoctorOptions, file: string, timeoutMs: number): Promise<Finding[]> {
  const r = await nginxTest(opts.host, { configFile: opts.nginxConfig, timeoutMs });
  if ('missing' in r) return [skip('service', 'service.nginx', `nginx is not installed on ${opts.host.where}: nginx -t not run`)];
  if ('error' in r) return [fail('service', 'service.nginx', `nginx -t could not run: ${r.error}`)];
  const cmd = `${r.binary} -t${opts.nginxConfig ? ` -c ${opts.nginxConfig}` : ''}`;
  const out: Finding[] = [];
  let dump = r.dump;
  if (!r.ok) {
    const errors = nginxTestErrors(r.stderr);
    const kinds = scanLogLines(errors);
    const moduleMissing = kinds.hits.some((h) => h.kind === 'module-not-loaded');
    out.push(
      fail('service', 'service.nginx', `${cmd} failed: ${moduleMissing ? 'the CrowdSec module or Lua support is not loaded' : 'invalid configuration'}`, {
        evidence: errors.length ? errors : [r.stderr.trim().slice(0, 300)],
        fix: moduleMissing
          ? 'install and load what the directive needs (the Lua bouncer needs the lua module: apt install libnginx-mod-http-lua, or OpenResty; the C module needs load_module …/ngx_http_crowdsec_module.so), then nginx -t && systemctl reload nginx'
          : 'fix the line named above, then nginx -t && systemctl reload nginx',
      }),
    );
    // -T prints nothing when the test fails: read the main file itself for the integration check.
    const main = await opts.host.readFile(opts.nginxConfig ?? '/etc/nginx/nginx.conf');
    dump = isFileError(main) ? '' : `# configuration file ${opts.nginxConfig ?? '/etc/nginx/nginx.conf'}:\n${main.text}`;
  } else {
    out.push(ok('service', 'service.nginx', `${cmd}: syntax is ok, test is successful`));
  }
  const i = scanNginxDump(dump);
  const ev = (list: { file: string; line: number; text: string }[]) => list.slice(0, 4).map((e) => `${e.file}:${e.line}: ${e.text}`);
  if (i.none) {
    out.push(
      fail('service', 'service.integration', 'nginx has no CrowdSec integration: no Lua bouncer, no crowdsec module, no auth_request', {
        evidence: [
          'searched the whole configuration (nginx -T) for lua_package_path …crowdsec, require "crowdsec", load_module …ngx_http_crowdsec_module.so, crowdsec_enabled, auth_request',
        ],
        fix: "enable the bouncer in nginx: include its configuration (the Lua bouncer's conf.d/crowdsec_nginx.conf, or load_module + crowdsec_enabled on), then nginx -t && systemctl reload nginx",
      }),
    );
  } else if (r.ok) {
    const what = i.lua.length ? 'the CrowdSec Lua bouncer' : i.cModule.length ? 'the CrowdSec nginx module' : 'an auth_request (forward-auth) bouncer';
    out.push(ok('service', 'service.integration', `nginx loads ${what}`, { evidence: ev([...i.lua, ...i.cModule, ...i.forwardAuth]) }));
    if (i.bouncerConfigs.length && !i.bouncerConfigs.some((c) => path.posix.resolve('/', c) === path.posix.resolve('/', file)) && /\.conf$/.test(file)) {
      out.push(
        warn('service', 'service.integration', `nginx's Lua bouncer reads ${i.bouncerConfigs.join(', ')}, not ${file}`, {
          fix: `check that file instead: vigil doctor --config ${i.bouncerConfigs[0]}`,
        }),
      );
    }
  } else {
    out.push(
      skip('service', 'service.integration', 'CrowdSec directives are present, but nginx refuses the configuration: not loaded until it passes nginx -t', {
        evidence: ev([...i.lua, ...i.cModule, ...i.forwardAuth]),
      }),
    );
  }
  return out;
}

export async function apacheFindings(opts: DoctorOptions, timeoutMs: number): Promise<Finding[]> {
  const r = await apacheTest(opts.host, { timeoutMs });
  if ('missing' in r) return [skip('service', 'service.apache', `apache2ctl is not installed on ${opts.host.where}: apache2ctl -t not run`)];
  if ('error' in r) return [fail('service', 'service.apache', `apache2ctl -t could not run: ${r.error}`)];
  const out: Finding[] = [];
  if (!r.ok)
    out.push(
      fail('service', 'service.apache', `${r.binary} -t failed`, {
        evidence: r.stderr.trim().split('\n').slice(0, 6),
        fix: 'fix the line named above, then apache2ctl -t && systemctl reload apache2',
      }),
    );
  else out.push(ok('service', 'service.apache', `${r.binary} -t: Syntax OK`));
  const mods = apacheHasCrowdsec(r.modules);
  if (mods.length) out.push(ok('service', 'service.integration', 'apache loads the CrowdSec module', { evidence: mods.map((m) => m.text) }));
  else
    out.push(
      fail('service', 'service.integration', 'apache does not load the CrowdSec module (not in apache2ctl -M)', {
        fix: 'sudo a2enmod crowdsec && sudo systemctl restart apache2',
      }),
    );
  return out;
}
