import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { bouncerFamily, resolveKind } from '../src/core/health/bouncer-kind.ts';
import { CAUSE_KINDS } from '../src/core/health/causes.ts';
import { enforcementRunbookFor } from '../src/core/health/enforcement-runbooks.ts';
import { runbookFor, type Runbook } from '../src/core/health/runbooks/index.ts';

/**
 * Every command a runbook prints for the bouncers and tools installed here, checked against the real
 * programs' own help: Debian's crowdsec-custom-bouncer 0.0.15 (no `-t`), crowdsec-firewall-bouncer
 * 0.0.25, nginx, and cscli 1.4.6 (no `bouncers inspect`). A flag or subcommand the program does not
 * have fails here before an operator meets it.
 */
function help(argv: string[]): string {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 10_000, env: { ...process.env, LC_ALL: 'C' } });
  return `${r.stdout ?? ''}${r.stderr ?? ''}`;
}
const installed = (bin: string) => spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0;
const commandsOf = (r: Runbook) => r.sections.flatMap((s) => s.steps.flatMap((st) => st.commands));

/** The words of the command's first program, `sudo` and anything after a pipe or redirection left out. */
function words(command: string): string[] {
  const first = command.split(/\s[|&]|\s\d?>/)[0]!;
  return first
    .replace(/^sudo /, '')
    .trim()
    .split(/\s+/);
}

function runbooks(): Runbook[] {
  const out: Runbook[] = [];
  for (const type of ['crowdsec-custom-bouncer', 'crowdsec-firewall-bouncer', 'crowdsec-nginx-bouncer']) {
    for (const cause of CAUSE_KINDS) {
      for (const cli of ['vigil', 'cscli'] as const) {
        for (const serviceManager of ['systemd', 'none'] as const) {
          out.push(
            runbookFor({
              bouncerName: 'edge',
              bouncerType: type,
              family: bouncerFamily(type),
              kind: resolveKind(type, null),
              lapiUrl: 'http://127.0.0.1:8080/',
              deployment: 'host',
              cause,
              cli,
              serviceManager,
            }),
          );
        }
      }
    }
  }
  for (const cause of ['origins_dropped', 'origins_filtered', 'decisions_missing', 'decision_not_pulled', 'integration_not_loaded'])
    for (const issue of ['remediation_drift', 'remediation_not_enforced'] as const)
      out.push(enforcementRunbookFor({ issue, bouncerName: 'edge', cause, cli: 'cscli', serviceName: 'crowdsec-firewall-bouncer' }));
  return out;
}

const GO_BOUNCERS = ['crowdsec-custom-bouncer', 'crowdsec-firewall-bouncer'].filter(installed);

describe('runbook commands exist in the installed programs', () => {
  const all = [...new Set(runbooks().flatMap(commandsOf))];

  it.runIf(GO_BOUNCERS.length > 0)("the Go bouncers' flags are in their -h", () => {
    let checked = 0;
    for (const bin of GO_BOUNCERS) {
      const usage = help([bin, '-h']);
      for (const command of all) {
        const w = words(command);
        if (w[0] !== bin) continue;
        for (const flag of w.filter((x) => /^-[A-Za-z]/.test(x))) {
          checked++;
          expect(usage, `${command}: ${bin} has no ${flag}`).toMatch(new RegExp(`^\\s+${flag}\\b`, 'm'));
        }
      }
    }
    expect(checked).toBeGreaterThan(0);
  });

  it.runIf(installed('nginx'))("nginx's flags are in nginx -h", () => {
    const usage = help(['nginx', '-h']);
    const flags = all.flatMap((c) => (words(c)[0] === 'nginx' ? words(c).filter((x) => x.startsWith('-')) : []));
    expect(flags.length).toBeGreaterThan(0);
    for (const flag of flags) expect(usage, `nginx has no ${flag}`).toContain(`${flag} `);
  });

  it.runIf(installed('cscli'))("cscli's subcommands and flags are in its --help", () => {
    const cscli = all.filter((c) => words(c)[0] === 'cscli');
    expect(cscli.length).toBeGreaterThan(0);
    for (const command of cscli) {
      const w = words(command);
      const sub = w.slice(1, 3).filter((x) => !x.startsWith('-'));
      const usage = help(['cscli', ...sub, '--help']);
      expect(usage, `${command}: no "cscli ${sub.join(' ')}"`).toContain(`cscli ${sub.join(' ')} `);
      for (const flag of w.filter((x) => x.startsWith('--'))) expect(usage, `${command}: no ${flag}`).toContain(flag);
    }
  });
});
