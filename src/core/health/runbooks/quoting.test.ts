import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { CAUSE_KINDS } from '../causes.ts';
import { DEPLOYMENTS, runbookFor, shellQuote, type CauseKind } from './index.ts';
import { runbookContext as ctxFor, runbookSection as section, allCommands } from '../../../../test/support/runbook-context.ts';

const CAUSES: CauseKind[] = CAUSE_KINDS;

describe('quoting', () => {
  const HOSTILE = "x'; rm -rf /";

  it('quotes a hostile bouncer name everywhere it reaches a command', () => {
    for (const deployment of DEPLOYMENTS) {
      for (const cause of CAUSES) {
        const r = runbookFor(ctxFor('crowdsec-nginx-bouncer', { bouncerName: HOSTILE, deployment, cause }));
        const cmds = allCommands(r);
        expect(cmds.some((c) => c.endsWith(`bouncers inspect 'x'\\''; rm -rf /'`))).toBe(true);
        for (const c of cmds) {
          const rest = c.split(`'x'\\''; rm -rf /'`).join('').split(`'x'\\''; rm -rf /-new'`).join('');
          expect(rest).not.toContain('rm -rf');
        }
      }
    }
    const rekey = section(runbookFor(ctxFor('crowdsec-nginx-bouncer', { bouncerName: HOSTILE, cause: 'authentication' })), 'Resolve').steps[0];
    expect(rekey.commands[0]).toBe(`sudo vigil bouncers add 'x'\\''; rm -rf /-new'`);
    expect(rekey.text).toContain("`sudo vigil bouncers delete 'x'\\''; rm -rf /'`");
  });

  it('quotes the container, the namespace and the URL', () => {
    const cmds = allCommands(
      runbookFor(ctxFor('crowdsec-custom-bouncer', { deployment: 'docker', container: 'lapi; reboot', lapiUrl: 'http://10.0.0.5:8080/$(id)' })),
    );
    expect(cmds).toContain("docker exec 'lapi; reboot' vigil bouncers list");
    expect(cmds).toContain("curl -I 'http://10.0.0.5:8080/$(id)/'");
    const k8s = allCommands(runbookFor(ctxFor('crowdsec-custom-bouncer', { deployment: 'kubernetes', namespace: 'a b' })));
    expect(k8s).toContain("kubectl exec -n 'a b' -it $(kubectl get pods -n 'a b' -l type=lapi -o name) -- vigil bouncers list");
  });

  it('puts `--` before a name that looks like an option', () => {
    const cmds = allCommands(runbookFor(ctxFor('crowdsec-nginx-bouncer', { bouncerName: '-rf' })));
    expect(cmds).toContain('sudo vigil bouncers inspect -- -rf');
    expect(cmds).toContain('sudo vigil bouncers add -- -rf-new');
  });

  it('uses the base name of an auto-created `name@ip` entry for the new registration', () => {
    const r = runbookFor(ctxFor('crowdsec-nginx-bouncer', { bouncerName: 'web@10.0.0.7', cause: 'authentication' }));
    expect(section(r, 'Resolve').steps[0].commands[0]).toBe('sudo vigil bouncers add web-new');
  });

  it('makes control characters visible, in commands and in prose', () => {
    const name = 'evil\n\u001b[31mred\u202e';
    const r = runbookFor(ctxFor('crowdsec-nginx-bouncer', { bouncerName: name }));
    expect(allCommands(r)).toContain("sudo vigil bouncers inspect $'evil\\n\\x1b[31mred\\u202e'");
    const prose = [r.title, r.summary, ...r.sections.flatMap((s) => s.steps.map((st) => st.text))].join('\n');
    expect(prose).not.toContain('\u001b');
    expect(prose).not.toContain('\u202e');
    expect(prose).toContain('`evil\\n\\x1b[31mred\\u202e`');
  });

  it('leaves safe words bare and round-trips the rest through bash', () => {
    expect(shellQuote('crowdsec-firewall-bouncer')).toBe('crowdsec-firewall-bouncer');
    expect(shellQuote('web@10.0.0.7:8080/x')).toBe('web@10.0.0.7:8080/x');
    expect(shellQuote('')).toBe("''");
    expect(shellQuote('a b')).toBe("'a b'");
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
    const samples = [
      "x'; rm -rf /",
      'a b',
      '$(id)',
      '`id`',
      '"q"',
      '*',
      '~root',
      'back\\slash',
      'new\nline',
      "tab\tand 'q' \\ \u001b",
      '\u202e',
      'é ü 名前',
      '',
    ];
    for (const s of samples) {
      const out = execFileSync('bash', ['-c', `printf '%s' ${shellQuote(s)}`], { encoding: 'utf8' });
      expect(out).toBe(s);
    }
  });
});
