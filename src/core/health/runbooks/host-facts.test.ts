import { describe, expect, it } from 'vitest';
import { CAUSE_KINDS } from '../causes.ts';
import { issueRunbook } from '../issue-view.ts';
import { DEPLOYMENTS, runbookFor, type Runbook } from './index.ts';
import { runbookContext as ctxFor, allCommands } from '../../../../test/support/runbook-context.ts';
import { oneCause, openIssue } from '../../../../test/support/health-issues.ts';

const allText = (r: Runbook) => [r.title, r.summary, ...r.sections.flatMap((s) => s.steps.map((st) => st.text))].join('\n');

const TYPES = [
  'crowdsec-custom-bouncer',
  'crowdsec-firewall-bouncer',
  'crowdsec-nginx-bouncer',
  'crowdsec-haproxy-bouncer',
  'caddy-cs-bouncer',
  'vigil-bouncer',
  'my-bouncer',
];

describe('the heading follows the issue kind', () => {
  it('a Warning (Integration Late) is not called Offline', () => {
    const late = runbookFor(ctxFor('crowdsec-custom-bouncer', { issue: 'integration_late', cause: 'stopped_or_network' }));
    expect(late.title).toMatch(/^Integration Late: `edge-1`/);
    expect(late.summary).toContain('has not pulled decisions for longer than usual');
    expect(runbookFor(ctxFor('crowdsec-custom-bouncer', { issue: 'rc_integration_offline' })).title).toMatch(/^RC Integration Offline: /);
    expect(runbookFor(ctxFor('crowdsec-firewall-bouncer', { issue: 'fw_integration_offline' })).title).toMatch(/^Firewall Integration Offline: /);
  });

  it('issueRunbook passes the open issue kind', () => {
    const issue = openIssue(0, {
      kind: 'integration_late',
      criticality: 'warning',
      subject: 'bouncer:cb',
      bouncerName: 'cb',
      summary: 'late',
      evidence: oneCause('stopped_or_network', 'medium'),
    });
    const r = issueRunbook(issue, { type: 'crowdsec-custom-bouncer', kindOverride: null }, 'http://127.0.0.1:8080/', 'host');
    expect(r?.title).toMatch(/^Integration Late: `cb`/);
  });
});

describe('a host without systemd', () => {
  it('prints no systemctl or journalctl, but the process, its launch command and its log file', () => {
    for (const type of TYPES) {
      for (const cause of CAUSE_KINDS) {
        const r = runbookFor(ctxFor(type, { serviceManager: 'none', cause }));
        for (const c of allCommands(r)) expect(c, `${type} / ${cause}`).not.toMatch(/systemctl|journalctl/);
      }
    }
    const r = runbookFor(ctxFor('crowdsec-custom-bouncer', { serviceManager: 'none', cause: 'stopped_or_network' }));
    const cmds = allCommands(r);
    expect(cmds).toContain('pgrep -af crowdsec-custom-bouncer');
    expect(cmds).toContain('sudo nohup crowdsec-custom-bouncer -c /etc/crowdsec/bouncers/crowdsec-custom-bouncer.yaml >/dev/null 2>&1 &');
    expect(cmds).toContain('sudo tail -50 /var/log/crowdsec-custom-bouncer.log');
    // A web server restarts through its init script.
    expect(allCommands(runbookFor(ctxFor('crowdsec-nginx-bouncer', { serviceManager: 'none', cause: 'stopped_or_network' })))).toContain(
      'sudo service nginx restart',
    );
    // Vigil's forward-auth logs to stdout: its output goes to a file the runbook then reads.
    const fa = allCommands(runbookFor(ctxFor('vigil-bouncer', { serviceManager: 'none', cause: 'stopped_or_network' })));
    expect(fa).toContain('sudo nohup vigil bouncer forward-auth -c /etc/crowdsec/bouncers/vigil-forward-auth.yaml >>/var/log/vigil-forward-auth.log 2>&1 &');
    expect(fa).toContain('sudo tail -50 /var/log/vigil-forward-auth.log');
  });

  it('keeps systemd where it is, and Docker and Kubernetes as they were', () => {
    expect(allCommands(runbookFor(ctxFor('crowdsec-custom-bouncer')))).toContain('sudo systemctl status crowdsec-custom-bouncer');
    for (const deployment of DEPLOYMENTS.filter((d) => d !== 'host')) {
      const a = runbookFor(ctxFor('crowdsec-nginx-bouncer', { deployment, serviceManager: 'none' }));
      const b = runbookFor(ctxFor('crowdsec-nginx-bouncer', { deployment }));
      expect(a).toEqual(b);
    }
  });
});

describe('commands the packages have', () => {
  it("never offers `-t` to the custom bouncer (Debian's 0.0.15 has none), still to the firewall bouncer", () => {
    for (const cause of CAUSE_KINDS) {
      for (const c of allCommands(runbookFor(ctxFor('crowdsec-custom-bouncer', { cause })))) expect(c).not.toMatch(/crowdsec-custom-bouncer .*-t\b/);
    }
    expect(allCommands(runbookFor(ctxFor('crowdsec-firewall-bouncer', { cause: 'configuration' })))).toContain(
      'sudo crowdsec-firewall-bouncer -c /etc/crowdsec/bouncers/crowdsec-firewall-bouncer.yaml -t',
    );
  });
});

describe("HAProxy's Lua bouncer", () => {
  it('puts `server crowdsec …` in the backend of haproxy.cfg, the key in the bouncer file', () => {
    const r = runbookFor(ctxFor('crowdsec-haproxy-bouncer', { cause: 'configuration', lapiUrl: 'http://127.0.0.1:44141/' }));
    const fix = r.sections[1]!.steps[0]!;
    expect(fix.text).toBe(
      'Fix the configuration: set `server crowdsec 127.0.0.1:44141` in the `backend crowdsec` section of `/etc/haproxy/haproxy.cfg`, and `API_KEY=<paste-new-key>` in `/etc/crowdsec/bouncers/crowdsec-haproxy-bouncer.conf`. Then check it and restart:',
    );
    expect(fix.commands.slice(0, 2)).toEqual(['sudo nano /etc/haproxy/haproxy.cfg', 'sudo nano /etc/crowdsec/bouncers/crowdsec-haproxy-bouncer.conf']);
    expect(allText(r)).not.toContain('(backend crowdsec in /etc/haproxy/haproxy.cfg)');
  });
});
