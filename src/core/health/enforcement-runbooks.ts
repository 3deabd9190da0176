/**
 * Runbooks for Remediation Not Enforced (a canary was not blocked) and Remediation Drift (a bouncer
 * holds other than it is sent), led by the most likely cause. Pure: builds text, runs nothing; every
 * value that reaches a shell command goes through `shellQuote`.
 */
import { causeSummary } from './causes.ts';
import { code, shellQuote, type Runbook, type RunbookStep } from './runbooks/index.ts';

export type EnforcementIssueKind = 'remediation_not_enforced' | 'remediation_drift';

export interface EnforcementRunbookContext {
  issue: EnforcementIssueKind;
  bouncerName: string;
  cause: string;
  /** remediation_not_enforced: the canary's name (subject `canary:NAME`). */
  canary?: string;
  cli?: 'vigil' | 'cscli';
}

const arg = (v: string) => (v.startsWith('-') ? `-- ${shellQuote(v)}` : shellQuote(v));

export function enforcementRunbookFor(ctx: EnforcementRunbookContext): Runbook {
  const cli = ctx.cli ?? 'vigil';
  const b = arg(ctx.bouncerName);
  const inspect: RunbookStep = {
    text: `What the Local API knows of ${code(ctx.bouncerName)} (last pull, filters, usage metrics):`,
    commands: [`sudo ${cli} bouncers inspect ${b}`],
  };
  const steps: Record<string, RunbookStep> = {
    offline: {
      text: 'The bouncer did not pull the test decision: see whether it is offline (its RC Integration Offline or Integration Late issue) and follow that runbook.',
      commands: [`sudo vigil issues list`, `sudo ${cli} bouncers list`],
    },
    module: {
      text: 'The site is not protected where the canary asks: check that the integration is in that server block / location (nginx `auth_request`, Caddy `forward_auth`, the Lua `access_by_lua_block`, the Traefik middleware on that router).',
      commands: [
        'sudo nginx -T 2>/dev/null | grep -nE "server_name|location|auth_request|access_by_lua"',
        'caddy adapt --config /etc/caddy/Caddyfile 2>/dev/null | grep -c forward_auth',
      ],
    },
    clientAddress: {
      text: 'The bouncer judges the proxy instead of the client: the proxy must pass X-Forwarded-For and the bouncer must trust that proxy (nginx `real_ip_header` / `set_real_ip_from`, forward-auth `trusted_proxies`, Caddy `trusted_proxies`).',
      commands: ['sudo nginx -T 2>/dev/null | grep -nE "real_ip|X-Forwarded-For"'],
    },
    site: { text: 'The URL stopped answering during the test: check the web server and the canary URL.', commands: [] },
    origins: {
      text: "Compare the bouncer's filters (origins, scopes, scenarios) with the origins it reports; a filter that leaves out an origin you rely on, or a bouncer bug dropping one (cs-firewall-bouncer #506), shows here.",
      commands: [`sudo ${cli} bouncers inspect ${b}`, `sudo ${cli} decisions list -o json | jq -r '.[].decisions[]?.origin' | sort | uniq -c`],
    },
    originsFilter: {
      text: "Its configuration asks for some origins only (`origins:` in the bouncer's config, sent as `?origins=` on each pull). Add the origins it should enforce (e.g. `origins: crowdsec,cscli`) and restart it; if leaving them out is on purpose, silence this issue (`vigil issues silence`).",
      commands: [`sudo ${cli} bouncers inspect ${b}`],
    },
    restart: {
      text: 'A restart makes the bouncer pull the full set again (startup=true): a lost cache or a missed delta is rebuilt.',
      commands: ['sudo systemctl restart <bouncer-service>'],
    },
  };
  const order: Record<string, string[]> = {
    decision_not_pulled: ['offline'],
    integration_not_loaded: ['module', 'clientAddress'],
    client_address_not_passed: ['clientAddress', 'module'],
    site_unreachable: ['site', 'module'],
    origins_dropped: ['origins', 'restart'],
    origins_filtered: ['originsFilter', 'origins'],
    decisions_missing: ['restart', 'origins'],
    decisions_extra: ['restart', 'origins'],
  };
  const fallback = ctx.issue === 'remediation_drift' ? ['origins', 'restart'] : ['offline', 'module', 'clientAddress'];
  const ids = order[ctx.cause] ?? fallback;
  const verify: RunbookStep[] =
    ctx.issue === 'remediation_not_enforced'
      ? [
          {
            text: `The same test by hand (the canary's next run resolves the issue when it passes):`,
            commands: [`sudo vigil verify --url <canary-url> --bouncer ${b} --ip 192.0.2.1`],
          },
        ]
      : [
          {
            text: 'The next two usage-metrics reports agree with what it is sent (the issue resolves at the first that agrees):',
            commands: [inspect.commands[0]!],
          },
        ];
  const what =
    ctx.issue === 'remediation_not_enforced'
      ? `Canary ${code(ctx.canary ?? '')} found that ${code(ctx.bouncerName)} does not enforce a decision it should.`
      : `${code(ctx.bouncerName)} reports holding a different set of decisions from the one the Local API sends it.`;
  return {
    title: `${ctx.issue === 'remediation_not_enforced' ? 'Remediation Not Enforced' : 'Remediation Drift'}: ${code(ctx.bouncerName)}`,
    summary: `${what} Most likely ${causeSummary(ctx.cause)}; those steps come first.`,
    configPath: '',
    serviceName: '',
    sections: [
      { title: 'Diagnose', steps: [inspect, ...ids.map((id) => steps[id]!)] },
      { title: 'Resolve', steps: ids.filter((id) => id !== 'offline').map((id) => steps[id]!) },
      { title: 'Verify', steps: verify },
    ],
  };
}
