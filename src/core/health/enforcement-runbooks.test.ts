import { describe, expect, it } from 'vitest';
import type { HealthIssue } from '../model/health-issue.ts';
import { enforcementRunbookFor } from './enforcement-runbooks.ts';
import { canaryUrlOf, issueRunbook } from './issue-view.ts';
import type { Runbook } from './runbooks/index.ts';
import type { CauseKind } from './causes.ts';
import { oneCause, openIssue } from '../../../test/support/health-issues.ts';
import { allCommands } from '../../../test/support/runbook-context.ts';

const steps = (r: Runbook, title: string) => r.sections.find((s) => s.title === title)?.steps ?? [];

const canaryIssue = (cause: CauseKind): HealthIssue =>
  openIssue(0, {
    id: 3,
    kind: 'remediation_not_enforced',
    subject: 'canary:site',
    bouncerName: 'vigil-forward-auth',
    summary: "canary 'site': http://127.0.0.1:59226/ does not block 192.0.2.1 (step check failed): 200 after 2.09 s",
    evidence: oneCause(cause, 'medium'),
  });

describe('canary runbooks', () => {
  it("use the canary's URL and the bouncer's config file and service", () => {
    const r = issueRunbook(canaryIssue('integration_not_loaded'), { type: 'vigil-bouncer/v1', kindOverride: null }, 'http://127.0.0.1:8080/', 'host')!;
    expect(r.configPath).toBe('/etc/crowdsec/bouncers/vigil-forward-auth.yaml');
    expect(r.serviceName).toBe('vigil-forward-auth');
    expect(allCommands(r)).toContain('sudo vigil verify --url http://127.0.0.1:59226/ --bouncer vigil-forward-auth --ip 192.0.2.1');
    expect(JSON.stringify(r)).not.toContain('<canary-url>');
  });

  it('Resolve says how to fix, not Diagnose again word for word', () => {
    for (const cause of ['integration_not_loaded', 'client_address_not_passed', 'site_unreachable', 'decision_not_pulled', 'unknown'] as const) {
      const r = issueRunbook(canaryIssue(cause), { type: 'vigil-bouncer/v1', kindOverride: null }, 'http://127.0.0.1:8080/', 'host')!;
      const diagnose = new Set(steps(r, 'Diagnose').map((s) => s.text));
      for (const s of steps(r, 'Resolve')) expect(diagnose.has(s.text), `${cause}: ${s.text}`).toBe(false);
    }
    for (const cause of ['origins_dropped', 'origins_filtered', 'decisions_missing']) {
      const r = enforcementRunbookFor({ issue: 'remediation_drift', bouncerName: 'fw', cause, serviceName: 'crowdsec-firewall-bouncer' });
      const diagnose = new Set(steps(r, 'Diagnose').map((s) => s.text));
      for (const s of steps(r, 'Resolve')) expect(diagnose.has(s.text), `${cause}: ${s.text}`).toBe(false);
      expect(allCommands(r)).toContain('sudo systemctl restart crowdsec-firewall-bouncer');
    }
  });

  it('restart through service(8) without systemd, and no `bouncers inspect` for cscli 1.4', () => {
    const r = enforcementRunbookFor({
      issue: 'remediation_drift',
      bouncerName: 'fw',
      cause: 'decisions_missing',
      serviceName: 'crowdsec-firewall-bouncer',
      serviceManager: 'none',
      cli: 'cscli',
    });
    expect(allCommands(r)).toContain('sudo service crowdsec-firewall-bouncer restart');
    for (const c of allCommands(r)) expect(c).not.toContain('bouncers inspect');
  });

  it('read the URL from the summary only for that canary', () => {
    expect(canaryUrlOf("canary 'a b': https://x.test/p?q=1 does not challenge 192.0.2.9 (step check failed): …", 'a b')).toBe('https://x.test/p?q=1');
    expect(canaryUrlOf("canary 'other': https://x.test/ does not block 192.0.2.1", 'a')).toBeUndefined();
  });
});
