/**
 * Runbooks for the Console's newest issues (console-issues.ts), led by the issue's cause. Pure:
 * builds text, runs nothing.
 */
import type { HealthIssue } from '../model/health-issue.ts';
import { causeSummary } from './causes.ts';
import { shellQuote, type Runbook, type RunbookSection } from './runbooks/index.ts';

const sections = (diagnose: RunbookSection['steps'], resolve: RunbookSection['steps'], verify: RunbookSection['steps']): RunbookSection[] => [
  { title: 'Diagnose', steps: diagnose },
  { title: 'Resolve', steps: resolve },
  { title: 'Verify', steps: verify },
];

const runbook = (title: string, cause: string, s: RunbookSection[]): Runbook => ({
  title,
  summary: causeSummary(cause),
  configPath: '',
  serviceName: '',
  sections: s,
});

/** The runbook of one of these issues; undefined for any other kind. */
export function consoleRunbookFor(i: Pick<HealthIssue, 'kind' | 'bouncerName' | 'evidence'>): Runbook | undefined {
  const cause = i.evidence.causes[0]?.cause ?? 'unknown';
  switch (i.kind) {
    case 'component_outdated':
      return componentOutdated(cause);
    case 'se_too_many_alerts':
      return tooManyAlerts(cause);
    case 'integration_zero_ips':
      return integrationZeroIps(cause, i);
    case 'blocking_safe_ip':
      return blockingSafeIp(cause);
    default:
      return undefined;
  }
}

/** A component behind the newest release: find it, upgrade it from the CrowdSec repository, restart it. */
function componentOutdated(cause: string): Runbook {
  return runbook(
    'Component Outdated: a bouncer or agent runs an old version',
    cause,
    sections(
      [
        {
          text: 'Which components run which version (the issue lists each one behind, with the newest known release):',
          commands: ['sudo vigil issues list', 'sudo vigil bouncers list', 'sudo vigil machines list'],
        },
        {
          text: 'On the host of each one, the installed package:',
          commands: ["apt-cache policy crowdsec crowdsec-firewall-bouncer-nftables 2>/dev/null | grep -E '^[a-z]|Installed|Candidate'"],
        },
      ],
      [
        {
          text: 'Upgrade it as the issue says (its "upgrade:" line), from the CrowdSec repository (packagecloud.io/crowdsec): distribution archives often lag behind.',
          commands: [],
        },
        {
          text: 'Restart it so its next request carries the new version in its User-Agent:',
          commands: ['sudo systemctl restart crowdsec-firewall-bouncer   # or crowdsec, or the bouncer you upgraded'],
        },
      ],
      [
        {
          text: 'The Local API records the version at the next pull (bouncers) or login (agents); the issue resolves at the next evaluation.',
          commands: ['sudo vigil bouncers list'],
        },
      ],
    ),
  );
}

/** Too many alerts: find the scenario or parser that floods, tune or simulate it. */
function tooManyAlerts(cause: string): Runbook {
  return runbook(
    'Security Engine Too Many Alerts: more than 250,000 alerts in 6 hours',
    cause,
    sections(
      [
        {
          text: 'Which scenarios and which agents send them (the issue names the top ones):',
          commands: ['sudo vigil issues list', 'sudo cscli alerts list --limit 50'],
        },
        {
          text: 'On the agent that sends most: which scenarios fire, and whether a parser duplicates lines (parsed ≫ read):',
          commands: ['sudo cscli metrics show scenarios parsers acquisition'],
        },
      ],
      [
        {
          text: 'An over-sensitive or custom scenario: raise its capacity or leakspeed, or add `blackhole: 1m` so one source raises one alert per minute; or put it in simulation while you tune it:',
          commands: ['sudo cscli simulation enable SCENARIO', 'sudo systemctl reload crowdsec'],
        },
        {
          text: 'A parser duplicating events, or the same log acquired twice (two acquis files on one path): remove the duplicate and reload CrowdSec.',
          commands: [],
        },
        { text: 'A real large attack: the alerts are right; block the ranges at the edge and let decisions expire.', commands: [] },
      ],
      [{ text: 'The issue resolves once the last 6 hours hold 250,000 alerts or fewer.', commands: ['sudo vigil issues list'] }],
    ),
  );
}

/** A bouncer that holds nothing: its filters or what it cannot apply. */
function integrationZeroIps(cause: string, i: Pick<HealthIssue, 'bouncerName'>): Runbook {
  const name = shellQuote(i.bouncerName ?? 'BOUNCER');
  return runbook(
    'Integration Pulling Zero IPs: a bouncer holds no decision while the Local API sends it some',
    cause,
    sections(
      [
        {
          text: 'What the Local API sends it, and what it reports holding (its usage metrics):',
          commands: [`sudo vigil bouncers inspect ${name}`, 'sudo vigil decisions list'],
        },
        {
          text: 'Its own filters: `scopes`, `origins`, `supported_decisions_types` (a firewall bouncer keeps `ban` only), `scenarios_containing` in its configuration file.',
          commands: [],
        },
        {
          text: "Whether it can apply what it pulls (firewall sets, permissions): its service's log (SERVICE: e.g. crowdsec-firewall-bouncer).",
          commands: [`sudo journalctl -u SERVICE --since "-1 h" | grep -iE 'error|fail|denied' | tail -20`],
        },
      ],
      [
        {
          text: 'Widen the filter that drops every decision (or fix what it cannot apply), then restart it: it pulls everything again at startup.',
          commands: ['sudo systemctl restart SERVICE'],
        },
      ],
      [
        {
          text: 'Its next usage-metrics report (every 30 min by default) shows active decisions; the issue resolves then.',
          commands: [`sudo vigil bouncers inspect ${name}`],
        },
      ],
    ),
  );
}

/** A decision on a known-safe address: remove it, fix the proxy address, allowlist it. */
function blockingSafeIp(cause: string): Runbook {
  return runbook(
    'Blocking Known Safe IP: a decision blocks an allowlisted, private, documentation or canary address',
    cause,
    sections(
      [
        {
          text: 'Which decisions, and where they came from (origin, scenario, agent; the issue lists them):',
          commands: ['sudo vigil issues list', 'sudo vigil decisions list'],
        },
        {
          text: "A private address from an agent's scenario: the logs it reads carry a reverse proxy's or load balancer's address, not the client's. Check the web server's real_ip / X-Forwarded-For settings.",
          commands: [],
        },
      ],
      [
        { text: 'Remove the decision:', commands: ['sudo vigil decisions delete --ip ADDRESS'] },
        {
          text: "A proxy's address: make the web server log the client address (nginx `real_ip_header X-Forwarded-For; set_real_ip_from PROXY;`), and whitelist the proxy in CrowdSec's parsers (crowdsecurity/whitelists).",
          commands: [],
        },
        { text: 'An address that must never be blocked: put it on an allowlist, so new decisions on it are refused.', commands: [] },
      ],
      [{ text: 'The issue resolves once no active decision blocks a known-safe address.', commands: ['sudo vigil issues list'] }],
    ),
  );
}
