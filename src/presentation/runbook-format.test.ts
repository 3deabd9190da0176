import { describe, expect, it } from 'vitest';
import { runbookFor, type Runbook } from '../core/health/runbooks/index.ts';
import { formatRunbookMarkdown, formatRunbookText } from './runbook-format.ts';
import { runbookContext as ctxFor } from '../../test/support/runbook-context.ts';

describe('control characters', () => {
  it('are shown escaped, in text and in markdown', () => {
    const r = runbookFor(ctxFor('crowdsec-nginx-bouncer', { bouncerName: 'evil\n\u001b[31mred\u202e' }));
    for (const out of [formatRunbookText(r), formatRunbookMarkdown(r)]) {
      expect(out).not.toContain('\u001b');
      expect(out).not.toContain('\u202e');
      expect(out).toContain('`evil\\n\\x1b[31mred\\u202e`');
    }
  });
});

describe('formatting', () => {
  const small: Runbook = {
    title: 'RC Integration Offline: `web`',
    summary: 'It stopped.',
    configPath: '/etc/x.conf',
    serviceName: 'nginx',
    sections: [
      {
        title: 'Diagnose',
        steps: [
          { text: 'Look:', commands: ['sudo systemctl status nginx', 'sudo nginx -t'] },
          { text: 'Think.', commands: [] },
        ],
      },
      { title: 'Resolve', steps: [{ text: 'Fix `a```b`:', commands: ['echo ```'] }] },
      { title: 'Verify', steps: [{ text: 'Check:', commands: ['sudo vigil bouncers list'] }] },
    ],
  };

  it('text: headings, numbered steps, indented commands', () => {
    expect(formatRunbookText(small)).toBe(
      [
        'RC Integration Offline: `web`',
        'It stopped.',
        '',
        'Config:  /etc/x.conf',
        'Service: nginx',
        '',
        'Diagnose',
        '  1. Look:',
        '       sudo systemctl status nginx',
        '       sudo nginx -t',
        '  2. Think.',
        '',
        'Resolve',
        '  1. Fix `a```b`:',
        '       echo ```',
        '',
        'Verify',
        '  1. Check:',
        '       sudo vigil bouncers list',
        '',
      ].join('\n'),
    );
  });

  it('text with color: bold headings, cyan commands', () => {
    const out = formatRunbookText(small, { color: true });
    expect(out.split('\n').slice(6, 9)).toEqual([
      '\u001b[1m\u001b[4mDiagnose\u001b[24m\u001b[22m',
      '  \u001b[1m1.\u001b[22m Look:',
      '       \u001b[36msudo systemctl status nginx\u001b[39m',
    ]);
  });

  it('markdown: fenced commands, with a fence longer than any backticks inside', () => {
    expect(formatRunbookMarkdown(small)).toBe(
      [
        '## RC Integration Offline: `web`',
        '',
        'It stopped.',
        '',
        '- **Config:** `/etc/x.conf`',
        '- **Service:** `nginx`',
        '',
        '### Diagnose',
        '',
        '1. Look:',
        '',
        '   ```bash',
        '   sudo systemctl status nginx',
        '   sudo nginx -t',
        '   ```',
        '',
        '2. Think.',
        '',
        '### Resolve',
        '',
        '1. Fix `a```b`:',
        '',
        '   ````bash',
        '   echo ```',
        '   ````',
        '',
        '### Verify',
        '',
        '1. Check:',
        '',
        '   ```bash',
        '   sudo vigil bouncers list',
        '   ```',
        '',
      ].join('\n'),
    );
  });

  it('a whole runbook as text: firewall bouncer on a host, key refused', () => {
    const r = runbookFor(ctxFor('crowdsec-firewall-bouncer', { bouncerName: 'fw-1', cause: 'authentication' }));
    expect(formatRunbookText(r)).toBe(FIREWALL_AUTH_TEXT);
  });

  it('a whole runbook as markdown: Traefik bouncer in Docker, stopped', () => {
    const r = runbookFor(ctxFor('crowdsec-traefik-bouncer', { bouncerName: 'traefik', deployment: 'docker', cause: 'stopped_or_network' }));
    expect(formatRunbookMarkdown(r)).toBe(TRAEFIK_DOCKER_MD);
  });
});

const FIREWALL_AUTH_TEXT = [
  'Firewall Integration Offline: `fw-1` (firewall bouncer, host)',
  '`fw-1` (type `crowdsec-firewall-bouncer`) has stopped pulling decisions from the Local API at `http://127.0.0.1:8080/`, so its firewall rules are going stale. Most likely the Local API refuses its key (wrong, regenerated or revoked key, or the bouncer was deleted); those steps come first.',
  '',
  'Config:  /etc/crowdsec/bouncers/crowdsec-firewall-bouncer.yaml',
  'Service: crowdsec-firewall-bouncer',
  '',
  'Diagnose',
  '  1. From where the bouncer runs, test its key (the one in its config): 200 means the key works; 403 means the Local API does not know it (wrong, regenerated, revoked, or the bouncer was deleted).',
  "       curl -s -o /dev/null -I -w '%{http_code}\\n' -H 'X-Api-Key: <paste-api-key>' http://127.0.0.1:8080/v1/decisions",
  '  2. Check `fw-1` in the bouncer list on the Local API: is it listed, is it valid (✔️, not revoked), and how old is its "Last API pull"?',
  '       sudo vigil bouncers list',
  '       sudo vigil bouncers inspect fw-1',
  '  3. Read its recent logs. `connection refused` or a timeout: the Local API is unreachable. `401`/`403` or `API error: access forbidden`: the key is refused. `module not loaded`: the integration is not enabled. `invalid configuration`: the config file.',
  '       sudo journalctl -u crowdsec-firewall-bouncer -n 50',
  '       sudo tail -50 /var/log/crowdsec-firewall-bouncer.log',
  '  4. Check that the firewall bouncer (`crowdsec-firewall-bouncer`) is running:',
  '       sudo systemctl status crowdsec-firewall-bouncer',
  '  5. From where the bouncer runs, test that the Local API answers at `http://127.0.0.1:8080/`:',
  '       nc -zv 127.0.0.1 8080',
  '       curl -I http://127.0.0.1:8080/',
  '  6. Check the URL and key it uses: the URL should be `api_url: http://127.0.0.1:8080/` (with the trailing `/`), and the key must not be empty or a leftover `${API_KEY}`. Values in `/etc/crowdsec/bouncers/crowdsec-firewall-bouncer.yaml.local` override the main file.',
  "       sudo grep -snE '^\\s*(api_url|api_key|mode):' /etc/crowdsec/bouncers/crowdsec-firewall-bouncer.yaml /etc/crowdsec/bouncers/crowdsec-firewall-bouncer.yaml.local",
  '       sudo crowdsec-firewall-bouncer -c /etc/crowdsec/bouncers/crowdsec-firewall-bouncer.yaml -t',
  '',
  'Resolve',
  '  1. Register a new key under a new name, `fw-1-new` (keys are shown once and cannot be recovered), copy the key it prints, and set it as `api_key: <paste-new-key>` in `/etc/crowdsec/bouncers/crowdsec-firewall-bouncer.yaml`. Once the new entry pulls, remove the old one: `sudo vigil bouncers delete fw-1`.',
  '       sudo vigil bouncers add fw-1-new',
  '       sudo nano /etc/crowdsec/bouncers/crowdsec-firewall-bouncer.yaml',
  '       sudo systemctl restart crowdsec-firewall-bouncer',
  '  2. Restart the bouncer and make sure it starts at boot:',
  '       sudo systemctl restart crowdsec-firewall-bouncer',
  '       sudo systemctl enable crowdsec-firewall-bouncer',
  '  3. If the bouncer runs on another host, the Local API must listen on an address it can reach (not 127.0.0.1) and the port must be open between them. Test, then correct the URL in its config to `api_url: http://127.0.0.1:8080/`:',
  '       nc -zv 127.0.0.1 8080',
  '       curl -I http://127.0.0.1:8080/',
  '  4. Fix the configuration: set `api_url: http://127.0.0.1:8080/` (keep the trailing `/`) and `api_key: <paste-new-key>` in `/etc/crowdsec/bouncers/crowdsec-firewall-bouncer.yaml`. Check the YAML indentation. A value in `/etc/crowdsec/bouncers/crowdsec-firewall-bouncer.yaml.local` wins over the main file. Then check it and restart:',
  '       sudo nano /etc/crowdsec/bouncers/crowdsec-firewall-bouncer.yaml',
  '       sudo crowdsec-firewall-bouncer -c /etc/crowdsec/bouncers/crowdsec-firewall-bouncer.yaml -t',
  '       sudo systemctl restart crowdsec-firewall-bouncer',
  '',
  'Verify',
  '  1. The bouncer service is running:',
  '       sudo systemctl status crowdsec-firewall-bouncer',
  '  2. Pulls resume: "Last API pull" of `fw-1` updates within seconds to minutes.',
  '       sudo vigil bouncers list',
  '  3. Its logs show a successful connection (no more connection refused or 403):',
  '       sudo journalctl -u crowdsec-firewall-bouncer -n 50',
  '  4. Test remediation with a 5-minute decision on a documentation address:',
  '       sudo vigil decisions add --ip 192.0.2.1 --duration 5m --reason test',
  '  5. Check that 192.0.2.1 reached the firewall (use the line for the `mode:` in its config: nftables, iptables/ipset or pf):',
  '       sudo nft list table ip crowdsec | grep -F 192.0.2.1',
  '       sudo ipset list | grep -F 192.0.2.1',
  '       sudo iptables -L -n | grep -i crowdsec',
  '       sudo pfctl -t crowdsec-blacklists -T show | grep -F 192.0.2.1',
  '  6. Remove the test decision:',
  '       sudo vigil decisions delete --ip 192.0.2.1',
  '',
].join('\n');

const TRAEFIK_DOCKER_MD = [
  '## RC Integration Offline: `traefik` (Traefik bouncer, Docker)',
  '',
  '`traefik` (type `crowdsec-traefik-bouncer`) has stopped pulling decisions from the Local API at `http://127.0.0.1:8080/`, so threats reaching it are not blocked or challenged. Most likely it is stopped, not loaded by its server, or cannot reach the Local API; those steps come first.',
  '',
  '- **Config:** `/etc/crowdsec/bouncers/crowdsec-traefik-bouncer.yaml`',
  '- **Service:** `crowdsec-traefik-bouncer`',
  '',
  '### Diagnose',
  '',
  '1. Check that the Traefik bouncer (`crowdsec-traefik-bouncer`) is running:',
  '',
  '   ```bash',
  '   docker ps -a --filter name=<bouncer-container>',
  '   ```',
  '',
  '2. Read its recent logs. `connection refused` or a timeout: the Local API is unreachable. `401`/`403` or `API error: access forbidden`: the key is refused. `module not loaded`: the integration is not enabled. `invalid configuration`: the config file.',
  '',
  '   ```bash',
  '   docker logs --tail 50 <bouncer-container>',
  '   ```',
  '',
  '3. From where the bouncer runs, test that the Local API answers at `http://127.0.0.1:8080/`:',
  '',
  '   ```bash',
  '   nc -zv 127.0.0.1 8080',
  '   curl -I http://127.0.0.1:8080/',
  '   ```',
  '',
  '4. Check `traefik` in the bouncer list on the Local API: is it listed, is it valid (✔️, not revoked), and how old is its "Last API pull"?',
  '',
  '   ```bash',
  '   docker exec crowdsec vigil bouncers list',
  '   docker exec crowdsec vigil bouncers inspect traefik',
  '   ```',
  '',
  '5. From where the bouncer runs, test its key (the one in its config): 200 means the key works; 403 means the Local API does not know it (wrong, regenerated, revoked, or the bouncer was deleted).',
  '',
  '   ```bash',
  "   curl -s -o /dev/null -I -w '%{http_code}\\n' -H 'X-Api-Key: <paste-api-key>' http://127.0.0.1:8080/v1/decisions",
  '   ```',
  '',
  '6. Check the URL and key it uses: the URL should be `crowdsec_lapi_url: http://127.0.0.1:8080/` (with the trailing `/`), and the key must not be empty or a leftover `${API_KEY}`.',
  '',
  '   ```bash',
  "   docker exec <bouncer-container> grep -snE 'crowdsec_lapi_(url|key)' /etc/crowdsec/bouncers/crowdsec-traefik-bouncer.yaml",
  '   ```',
  '',
  '### Resolve',
  '',
  '1. Restart the bouncer and make sure it starts at boot:',
  '',
  '   ```bash',
  '   docker restart <bouncer-container>',
  '   docker update --restart unless-stopped <bouncer-container>',
  '   ```',
  '',
  "2. If the bouncer runs on another host, the Local API must listen on an address it can reach (not 127.0.0.1) and the port must be open between them. Between containers, use the Local API's service name on a shared network (e.g. `http://crowdsec:8080/`), not 127.0.0.1. Test, then correct the URL in its config to `crowdsec_lapi_url: http://127.0.0.1:8080/`:",
  '',
  '   ```bash',
  '   nc -zv 127.0.0.1 8080',
  '   curl -I http://127.0.0.1:8080/',
  '   ```',
  '',
  '3. Register a new key under a new name, `traefik-new` (keys are shown once and cannot be recovered), copy the key it prints, and set it as `crowdsec_lapi_key: <paste-new-key>` on the Docker host, in the file mounted as `/etc/crowdsec/bouncers/crowdsec-traefik-bouncer.yaml` or the docker-compose.yml variable that fills it, then recreate the container. Once the new entry pulls, remove the old one: `docker exec crowdsec vigil bouncers delete traefik`.',
  '',
  '   ```bash',
  '   docker exec crowdsec vigil bouncers add traefik-new',
  '   docker compose up -d --force-recreate <bouncer-service>',
  '   ```',
  '',
  '4. Fix the configuration: set `crowdsec_lapi_url: http://127.0.0.1:8080/` (keep the trailing `/`) and `crowdsec_lapi_key: <paste-new-key>` on the Docker host, in the file mounted as `/etc/crowdsec/bouncers/crowdsec-traefik-bouncer.yaml` or the docker-compose.yml variable that fills it, then recreate the container. Check the YAML indentation.',
  '',
  '   ```bash',
  '   docker compose up -d --force-recreate <bouncer-service>',
  '   ```',
  '',
  '### Verify',
  '',
  '1. The bouncer service is running:',
  '',
  '   ```bash',
  '   docker ps -a --filter name=<bouncer-container>',
  '   ```',
  '',
  '2. Pulls resume: "Last API pull" of `traefik` updates within seconds to minutes. A live-mode bouncer pulls only when it serves a request, so send one through it first.',
  '',
  '   ```bash',
  '   docker exec crowdsec vigil bouncers list',
  '   ```',
  '',
  '3. Its logs show a successful connection (no more connection refused or 403):',
  '',
  '   ```bash',
  '   docker logs --tail 50 <bouncer-container>',
  '   ```',
  '',
  '4. Test remediation with a 5-minute decision on a documentation address:',
  '',
  '   ```bash',
  '   docker exec crowdsec vigil decisions add --ip 192.0.2.1 --duration 5m --reason test',
  '   ```',
  '',
  '5. Request your service as that IP: expect 403 Forbidden or a captcha. (This works when the service trusts X-Forwarded-For from where you run curl; otherwise ban the address you test from.)',
  '',
  '   ```bash',
  '   curl -H "X-Forwarded-For: 192.0.2.1" http://your-service/',
  '   ```',
  '',
  '6. Remove the test decision:',
  '',
  '   ```bash',
  '   docker exec crowdsec vigil decisions delete --ip 192.0.2.1',
  '   ```',
  '',
].join('\n');

describe('fields a runbook leaves empty', () => {
  it('are left out, not printed blank', () => {
    const r: Runbook = { title: 'T', summary: 'S', configPath: '', serviceName: '', sections: [{ title: 'Verify', steps: [{ text: 'Look.', commands: [] }] }] };
    expect(formatRunbookText(r)).not.toMatch(/Config:|Service:/);
    expect(formatRunbookMarkdown(r)).not.toMatch(/Config|Service/);
    expect(formatRunbookText({ ...r, serviceName: 'nginx' })).toContain('Service: nginx');
  });
});
