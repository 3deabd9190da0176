import { CAUSE_KINDS } from '../causes.ts';
import { describe, expect, it } from 'vitest';
import { bouncerFamily, type BouncerFamily } from '../bouncer-kind.ts';
import { DEPLOYMENTS, runbookFor, shellQuote, type CauseKind, type Deployment, type RunbookContext } from './index.ts';
import { runbookContext as ctxFor, runbookSection as section, allCommands } from '../../../../test/support/runbook-context.ts';

const CAUSES: CauseKind[] = CAUSE_KINDS;

/** One real type per family, with the config file and service its runbook must name. */
const FAMILIES: Array<{ family: BouncerFamily; type: string; configPath: string; service: string; hostOnly?: 'host' | 'kubernetes' }> = [
  { family: 'nginx', type: 'crowdsec-nginx-bouncer', configPath: '/etc/crowdsec/bouncers/crowdsec-nginx-bouncer.conf', service: 'nginx' },
  { family: 'openresty', type: 'crowdsec-openresty-bouncer', configPath: '/etc/crowdsec/bouncers/crowdsec-openresty-bouncer.conf', service: 'openresty' },
  {
    family: 'ingress-nginx',
    type: 'crowdsec-ingress-nginx-bouncer',
    configPath: '/etc/nginx/lua/plugins/crowdsec/crowdsec-bouncer.conf',
    service: 'ingress-nginx-controller',
    hostOnly: 'kubernetes',
  },
  { family: 'apache', type: 'crowdsec-apache2-bouncer', configPath: '/etc/crowdsec/bouncers/crowdsec-apache2-bouncer.conf', service: 'apache2' },
  {
    family: 'traefik',
    type: 'crowdsec-traefik-bouncer',
    configPath: '/etc/crowdsec/bouncers/crowdsec-traefik-bouncer.yaml',
    service: 'crowdsec-traefik-bouncer',
  },
  { family: 'haproxy', type: 'crowdsec-haproxy-bouncer', configPath: '/etc/crowdsec/bouncers/crowdsec-haproxy-bouncer.conf', service: 'haproxy' },
  { family: 'caddy', type: 'caddy-cs-bouncer', configPath: '/etc/caddy/Caddyfile', service: 'caddy' },
  { family: 'envoy', type: 'cs-envoy-bouncer', configPath: '/etc/crowdsec/bouncers/cs-envoy-bouncer.yaml', service: 'cs-envoy-bouncer' },
  {
    family: 'cloudflare',
    type: 'crowdsec-cloudflare-bouncer',
    configPath: '/etc/crowdsec/bouncers/crowdsec-cloudflare-bouncer.yaml',
    service: 'crowdsec-cloudflare-bouncer',
  },
  {
    family: 'aws-waf',
    type: 'crowdsec-aws-waf-bouncer',
    configPath: '/etc/crowdsec/bouncers/crowdsec-aws-waf-bouncer.yaml',
    service: 'crowdsec-aws-waf-bouncer',
  },
  {
    family: 'wordpress',
    type: 'csphplapi_WordPress',
    configPath: 'WordPress options crowdsec_api_url and crowdsec_api_key (wp-admin → CrowdSec)',
    service: 'php-fpm',
  },
  { family: 'php', type: 'csphplapi', configPath: '/var/www/crowdsec-standalone-bouncer/scripts/settings.php', service: 'php-fpm' },
  {
    family: 'firewall',
    type: 'crowdsec-firewall-bouncer',
    configPath: '/etc/crowdsec/bouncers/crowdsec-firewall-bouncer.yaml',
    service: 'crowdsec-firewall-bouncer',
    hostOnly: 'host',
  },
  {
    family: 'blocklist-mirror',
    type: 'crowdsec-blocklist-mirror',
    configPath: '/etc/crowdsec/bouncers/crowdsec-blocklist-mirror.yaml',
    service: 'crowdsec-blocklist-mirror',
  },
  { family: 'custom', type: 'crowdsec-custom-bouncer', configPath: '/etc/crowdsec/bouncers/crowdsec-custom-bouncer.yaml', service: 'crowdsec-custom-bouncer' },
  { family: 'vigil', type: 'vigil-bouncer', configPath: '/etc/crowdsec/bouncers/vigil-forward-auth.yaml', service: 'vigil-forward-auth' },
  { family: 'generic', type: 'curl', configPath: '/etc/crowdsec/bouncers/<bouncer-config>.yaml', service: '<bouncer-service>' },
];

const LAPI_PREFIX: Record<Deployment, string> = {
  host: 'sudo vigil',
  docker: 'docker exec crowdsec vigil',
  kubernetes: 'kubectl exec -n crowdsec -it $(kubectl get pods -n crowdsec -l type=lapi -o name) -- vigil',
};

describe('runbookFor: every family × deployment × cause', () => {
  for (const f of FAMILIES) {
    for (const deployment of DEPLOYMENTS) {
      for (const cause of CAUSES) {
        it(`${f.family} / ${deployment} / ${cause}`, () => {
          expect(bouncerFamily(f.type)).toBe(f.family);
          const r = runbookFor(ctxFor(f.type, { deployment, cause }));
          expect(r.configPath).toBe(f.configPath);
          expect(r.serviceName).toBe(f.service);
          expect(r.sections.map((s) => s.title)).toEqual(['Diagnose', 'Resolve', 'Verify']);
          for (const s of r.sections) {
            expect(s.steps.length).toBeGreaterThan(0);
            for (const step of s.steps) expect(step.text).not.toBe('');
          }
          // Commands on the Local API go through its CLI, prefixed for where it runs.
          expect(allCommands(r)).toContain(`${LAPI_PREFIX[deployment]} bouncers list`);
          expect(allCommands(r)).toContain(`${LAPI_PREFIX[deployment]} decisions add --ip 192.0.2.1 --duration 5m --reason test`);
          // The bouncer's own logs, where it runs.
          const where = f.hostOnly ?? deployment;
          const logs = section(r, 'Verify').steps[2].commands[0];
          if (where === 'host') expect(logs).toBe(`sudo journalctl -u ${shellQuote(f.service)} -n 50`);
          if (where === 'docker') expect(logs).toBe('docker logs --tail 50 <bouncer-container>');
          if (where === 'kubernetes') expect(logs).toMatch(/^kubectl logs /);
          // Nothing that would make a terminal show something other than what runs.
          for (const c of allCommands(r)) expect(c).not.toMatch(/[\u0000-\u001f\u007f]/);
        });
      }
    }
  }
});

describe('runbookFor: variants chosen by the type', () => {
  it.each<[string, string, string]>([
    ['Crowdsec-Bouncer-Traefik-Plugin', '/etc/traefik/', 'traefik'],
    ['crowdsec-spoa-bouncer', '/etc/crowdsec/bouncers/crowdsec-spoa-bouncer.yaml', 'crowdsec-spoa-bouncer'],
    ['crowdsec-cloudflare-worker-bouncer', '/etc/crowdsec/bouncers/crowdsec-cloudflare-worker-bouncer.yaml', 'crowdsec-cloudflare-worker-bouncer'],
    ['ngx_http_crowdsec_module', '/etc/nginx/nginx.conf', 'nginx'],
    [
      'cs-windows-fw-bouncer',
      'C:\\ProgramData\\CrowdSec\\bouncers\\cs-windows-firewall-bouncer\\cs-windows-firewall-bouncer.yaml',
      'cs-windows-firewall-bouncer',
    ],
  ])('%s → %s (%s)', (type, configPath, service) => {
    const r = runbookFor(ctxFor(type));
    expect(r.configPath).toBe(configPath);
    expect(r.serviceName).toBe(service);
  });

  it("uses each format's own key names", () => {
    const text = (type: string) => JSON.stringify(runbookFor(ctxFor(type, { cause: 'configuration' })));
    expect(text('crowdsec-nginx-bouncer')).toContain('API_URL=http://127.0.0.1:8080/');
    expect(text('crowdsec-nginx-bouncer')).toContain('API_KEY=<paste-new-key>');
    expect(text('crowdsec-traefik-bouncer')).toContain('crowdsec_lapi_url: http://127.0.0.1:8080/');
    expect(text('crowdsec-cloudflare-bouncer')).toContain('crowdsec_lapi_key: <paste-new-key>');
    expect(text('crowdsec-firewall-bouncer')).toContain('api_url: http://127.0.0.1:8080/');
    expect(text('crowdsec-firewall-bouncer')).toContain('crowdsec-firewall-bouncer.yaml.local');
    expect(text('crowdsec-apache2-bouncer')).toContain('CrowdsecAPIKey <paste-new-key>');
  });

  it('includes the web server checks and module enabling', () => {
    const cmds = (type: string) => allCommands(runbookFor(ctxFor(type)));
    expect(cmds('crowdsec-nginx-bouncer')).toContain('sudo nginx -t');
    expect(cmds('crowdsec-apache2-bouncer')).toContain('sudo apache2ctl -t');
    expect(cmds('crowdsec-apache2-bouncer')).toContain('sudo a2enmod crowdsec');
    expect(cmds('csphplapi_WordPress')).toContain('wp plugin activate crowdsec');
    expect(cmds('crowdsec-nginx-bouncer').some((c) => c.includes('load_module'))).toBe(true);
  });

  it('runs web server checks inside the container on Docker', () => {
    const cmds = allCommands(runbookFor(ctxFor('crowdsec-nginx-bouncer', { deployment: 'docker' })));
    expect(cmds).toContain('docker exec <bouncer-container> nginx -t');
  });

  it("keeps a firewall bouncer's commands on the host when the Local API is in Docker", () => {
    const r = runbookFor(ctxFor('crowdsec-firewall-bouncer', { deployment: 'docker' }));
    expect(allCommands(r)).toContain('sudo systemctl status crowdsec-firewall-bouncer');
    expect(allCommands(r)).toContain('docker exec crowdsec vigil bouncers list');
    expect(r.title).toContain('host');
  });
});

describe('runbookFor: the Local API side', () => {
  it('uses cscli when Vigil watches a real CrowdSec, with the given container and namespace', () => {
    const cmds = (over: Partial<RunbookContext>) => allCommands(runbookFor(ctxFor('crowdsec-firewall-bouncer', { cli: 'cscli', ...over })));
    expect(cmds({ deployment: 'host' })).toContain('sudo cscli bouncers list');
    expect(cmds({ deployment: 'docker', container: 'cs-lapi' })).toContain('docker exec cs-lapi cscli bouncers list');
    expect(cmds({ deployment: 'kubernetes', namespace: 'security' })).toContain(
      'kubectl exec -n security -it $(kubectl get pods -n security -l type=lapi -o name) -- cscli bouncers list',
    );
    // cscli 1.4.6 has no `bouncers inspect`; Vigil has.
    expect(cmds({}).some((c) => c.includes('inspect'))).toBe(false);
    expect(allCommands(runbookFor(ctxFor('crowdsec-firewall-bouncer')))).toContain('sudo vigil bouncers inspect edge-1');
  });

  it('tests reachability against the host and port of the URL', () => {
    const cmds = allCommands(runbookFor(ctxFor('crowdsec-custom-bouncer', { lapiUrl: 'https://lapi.example.net:8443/' })));
    expect(cmds).toContain('curl -I https://lapi.example.net:8443/');
    expect(cmds).toContain('nc -zv lapi.example.net 8443');
    expect(cmds).toContain("curl -s -o /dev/null -I -w '%{http_code}\\n' -H 'X-Api-Key: <paste-api-key>' https://lapi.example.net:8443/v1/decisions");
  });

  it('adds the trailing `/` and replaces a wildcard listen address', () => {
    const r = runbookFor(ctxFor('crowdsec-firewall-bouncer', { lapiUrl: 'http://0.0.0.0:8080', cause: 'configuration' }));
    expect(JSON.stringify(r)).toContain('api_url: http://<lapi-host>:8080/');
    expect(allCommands(r)).toContain("nc -zv '<lapi-host>' 8080");
  });
});

describe('runbookFor: the likely cause comes first', () => {
  const first = (cause: CauseKind, type = 'crowdsec-firewall-bouncer') => {
    const r = runbookFor(ctxFor(type, { cause }));
    return { diagnose: section(r, 'Diagnose').steps[0], resolve: section(r, 'Resolve').steps[0], r };
  };

  it('authentication: test the key, then re-register under a new name and update the config', () => {
    const { diagnose, resolve } = first('authentication');
    expect(diagnose.commands[0]).toContain('X-Api-Key');
    expect(resolve.commands).toEqual([
      'sudo vigil bouncers add edge-1-new',
      'sudo nano /etc/crowdsec/bouncers/crowdsec-firewall-bouncer.yaml',
      'sudo systemctl restart crowdsec-firewall-bouncer',
    ]);
    expect(resolve.text).toContain('api_key: <paste-new-key>');
  });

  it('configuration: check api_url (with its trailing `/`) in the config file first', () => {
    const { diagnose, resolve } = first('configuration');
    expect(diagnose.text).toContain('`api_url: http://127.0.0.1:8080/` (with the trailing `/`)');
    expect(diagnose.commands[0]).toBe(
      "sudo grep -snE '^\\s*(api_url|api_key|mode):' /etc/crowdsec/bouncers/crowdsec-firewall-bouncer.yaml /etc/crowdsec/bouncers/crowdsec-firewall-bouncer.yaml.local",
    );
    expect(resolve.text).toMatch(/^Fix the configuration/);
  });

  it('stopped_or_network: service status, restart and enable, curl and nc', () => {
    const { diagnose, resolve, r } = first('stopped_or_network');
    expect(diagnose.commands).toEqual(['sudo systemctl status crowdsec-firewall-bouncer']);
    expect(resolve.commands).toEqual(['sudo systemctl restart crowdsec-firewall-bouncer', 'sudo systemctl enable crowdsec-firewall-bouncer']);
    expect(section(r, 'Resolve').steps[1].commands).toEqual(['nc -zv 127.0.0.1 8080', 'curl -I http://127.0.0.1:8080/']);
  });

  it('lapi_restart: restart the bouncer so it reconnects', () => {
    const { diagnose, resolve } = first('lapi_restart');
    expect(diagnose.commands[0]).toBe('sudo journalctl -u crowdsec-firewall-bouncer -n 50');
    expect(resolve.text).toContain('did not reconnect');
    expect(resolve.text).toContain('retry_initial_connect: true');
    expect(resolve.commands).toContain('sudo systemctl restart crowdsec-firewall-bouncer');
  });

  it('never_pulled: the key was never put in the config, or the bouncer never started', () => {
    const { diagnose, resolve } = first('never_pulled');
    expect(diagnose.text).toContain('actually put in its config');
    expect(resolve.text).toContain('never pulled');
    expect(resolve.commands).toEqual([
      'sudo nano /etc/crowdsec/bouncers/crowdsec-firewall-bouncer.yaml',
      'sudo systemctl enable --now crowdsec-firewall-bouncer',
    ]);
  });

  it('unknown: the seed page order', () => {
    const { diagnose, resolve } = first('unknown');
    expect(diagnose.commands[0]).toBe('sudo vigil bouncers list');
    expect(resolve.commands[0]).toBe('sudo systemctl restart crowdsec-firewall-bouncer');
  });

  it('keeps every step of the seed, only reordered', () => {
    const texts = (cause: CauseKind) =>
      runbookFor(ctxFor('crowdsec-nginx-bouncer', { cause }))
        .sections.filter((s) => s.title === 'Diagnose')
        .flatMap((s) => s.steps.map((st) => st.text.slice(0, 30)))
        .sort();
    expect(texts('authentication')).toEqual(texts('unknown'));
    expect(texts('stopped_or_network')).toEqual(texts('unknown'));
  });
});

describe('runbookFor: Verify', () => {
  it('tests a web bouncer with curl and X-Forwarded-For', () => {
    const v = section(runbookFor(ctxFor('crowdsec-nginx-bouncer')), 'Verify');
    expect(v.steps.flatMap((s) => s.commands)).toEqual([
      'sudo systemctl status nginx',
      'sudo vigil bouncers list',
      'sudo journalctl -u nginx -n 50',
      'sudo vigil decisions add --ip 192.0.2.1 --duration 5m --reason test',
      'curl -H "X-Forwarded-For: 192.0.2.1" http://your-service/',
      'sudo vigil decisions delete --ip 192.0.2.1',
    ]);
    expect(v.steps[4].text).toContain('403 Forbidden or a captcha');
  });

  it('checks the firewall sets instead of curl for a firewall bouncer', () => {
    const cmds = section(runbookFor(ctxFor('crowdsec-firewall-bouncer')), 'Verify').steps.flatMap((s) => s.commands);
    expect(cmds).toContain('sudo nft list table ip crowdsec | grep -F 192.0.2.1');
    expect(cmds).toContain('sudo iptables -L -n | grep -i crowdsec');
    expect(cmds.some((c) => c.includes('X-Forwarded-For'))).toBe(false);
  });

  it('checks the firewall for a custom bouncer the operator marked as one', () => {
    const r = runbookFor(ctxFor('curl', { kind: 'firewall' }));
    expect(allCommands(r)).toContain('sudo nft list table ip crowdsec | grep -F 192.0.2.1');
    expect(r.title).toMatch(/^Firewall Integration Offline/);
  });
});
