/**
 * Runbooks for Remediation Not Enforced (a canary was not blocked) and Remediation Drift (a bouncer
 * holds other than it is sent), led by the most likely cause. Pure: builds text, runs nothing; every
 * value that reaches a shell command goes through `shellQuote`.
 */
import { causeSummary } from './causes.ts';
import { code, shellQuote, type Runbook, type RunbookStep, type ServiceManager } from './runbooks/index.ts';

export type EnforcementIssueKind = 'remediation_not_enforced' | 'remediation_drift';

export interface EnforcementRunbookContext {
  issue: EnforcementIssueKind;
  bouncerName: string;
  cause: string;
  /** remediation_not_enforced: the canary's name (subject `canary:NAME`). */
  canary?: string;
  /** remediation_not_enforced: the URL the canary tests, when known. */
  canaryUrl?: string;
  /** The bouncer's config file and service, from its family's profile (runbooks/profile-for.ts). */
  configPath?: string;
  serviceName?: string;
  serviceManager?: ServiceManager;
  cli?: 'vigil' | 'cscli';
}

const arg = (v: string) => (v.startsWith('-') ? `-- ${shellQuote(v)}` : shellQuote(v));

/** One concern, in its two voices: how to see it (Diagnose) and how to fix it (Resolve). */
interface Concern {
  diagnose?: RunbookStep;
  resolve?: RunbookStep;
}

const RELOAD_SERVERS = ['sudo nginx -t', 'sudo nginx -s reload', 'sudo caddy reload --config /etc/caddy/Caddyfile'];

/** Each concern's steps, filled in with this bouncer's commands; the cause picks which come first. */
function enforcementConcerns(
  ctx: EnforcementRunbookContext,
  { cli, url, inspectCommand, restartCommand }: { cli: string; url: string; inspectCommand: string; restartCommand: string },
): Record<string, Concern> {
  return {
    offline: {
      diagnose: {
        text: 'The bouncer did not pull the test decision: see whether it is offline (its RC Integration Offline or Integration Late issue) and follow that runbook.',
        commands: ['sudo vigil issues list', `sudo ${cli} bouncers list`],
      },
    },
    module: {
      diagnose: {
        text: 'The site is not protected where the canary asks: check that the integration is in that server block / location (nginx `auth_request`, Caddy `forward_auth`, the Lua `access_by_lua_block`, the Traefik middleware on that router).',
        commands: [
          'sudo nginx -T 2>/dev/null | grep -nE "server_name|location|auth_request|access_by_lua"',
          'caddy adapt --config /etc/caddy/Caddyfile 2>/dev/null | grep -c forward_auth',
        ],
      },
      resolve: {
        text: `Put the integration in the server block or location that serves ${ctx.canaryUrl ? code(ctx.canaryUrl) : 'the canary URL'} (docs/bouncer.md has the nginx and Caddy snippets), then test and reload the web server (the line for yours):`,
        commands: RELOAD_SERVERS,
      },
    },
    clientAddress: {
      diagnose: {
        text: 'The bouncer judges the proxy instead of the client: the proxy must pass X-Forwarded-For and the bouncer must trust that proxy (nginx `real_ip_header` / `set_real_ip_from`, forward-auth `trusted_proxies`, Caddy `trusted_proxies`).',
        commands: ['sudo nginx -T 2>/dev/null | grep -nE "real_ip|X-Forwarded-For"'],
      },
      resolve: {
        text: "Pass the client's address and trust the proxy that sends it: nginx `proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;`, the forward-auth bouncer's `trusted_proxies:` listing the proxy's address, Caddy's `trusted_proxies`; then reload:",
        commands: RELOAD_SERVERS,
      },
    },
    site: {
      diagnose: {
        text: `The URL stopped answering during the test: check that it answers now.`,
        commands: [`curl -sS -o /dev/null -w '%{http_code}\\n' ${url}`],
      },
      resolve: {
        text: 'Bring the site back (web server running, the canary URL still right in vigil.yaml); the next canary run tells whether it blocks.',
        commands: RELOAD_SERVERS.slice(0, 1),
      },
    },
    origins: {
      diagnose: {
        text: "Compare the bouncer's filters (origins, scopes, scenarios) with the origins it reports; a filter that leaves out an origin you rely on, or a bouncer bug dropping one (cs-firewall-bouncer #506), shows here.",
        commands: [inspectCommand, `sudo ${cli} decisions list -o json | jq -r '.[].decisions[]?.origin' | sort | uniq -c`],
      },
      resolve: {
        text: 'If an origin you rely on is missing from what it holds, upgrade the bouncer (cs-firewall-bouncer #506 dropped some), then restart it so it pulls the full set:',
        commands: [restartCommand],
      },
    },
    originsFilter: {
      diagnose: {
        text: "Its configuration asks for some origins only (`origins:` in the bouncer's config, sent as `?origins=` on each pull).",
        commands: [inspectCommand],
      },
      resolve: {
        text: `Add the origins it should enforce (e.g. \`origins: crowdsec,cscli\`)${ctx.configPath ? ` in ${code(ctx.configPath)}` : ''} and restart it; if leaving them out is on purpose, silence this issue (\`vigil issues silence\`).`,
        commands: [restartCommand],
      },
    },
    restart: {
      resolve: {
        text: 'A restart makes the bouncer pull the full set again (startup=true): a lost cache or a missed delta is rebuilt.',
        commands: [restartCommand],
      },
    },
  };
}

export function enforcementRunbookFor(ctx: EnforcementRunbookContext): Runbook {
  const cli = ctx.cli ?? 'vigil';
  const b = arg(ctx.bouncerName);
  // cscli 1.4 has no `bouncers inspect`: its list shows the last pull.
  const inspectCommand = cli === 'vigil' ? `sudo vigil bouncers inspect ${b}` : 'sudo cscli bouncers list';
  const service = ctx.serviceName && !ctx.serviceName.startsWith('<') ? ctx.serviceName : undefined;
  const restartCommand = service
    ? ctx.serviceManager === 'none'
      ? `sudo service ${shellQuote(service)} restart`
      : `sudo systemctl restart ${shellQuote(service)}`
    : 'sudo systemctl restart <bouncer-service>';
  const url = ctx.canaryUrl ? shellQuote(ctx.canaryUrl) : '<canary-url>';
  const inspect: RunbookStep = {
    text: `What the Local API knows of ${code(ctx.bouncerName)} (last pull${cli === 'vigil' ? ', filters, usage metrics' : ''}):`,
    commands: [inspectCommand],
  };
  const concerns = enforcementConcerns(ctx, { cli, url, inspectCommand, restartCommand });
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
  const voice = (which: keyof Concern) => ids.flatMap((id) => (concerns[id]?.[which] ? [concerns[id][which]] : []));
  const verify: RunbookStep[] =
    ctx.issue === 'remediation_not_enforced'
      ? [
          {
            text: `The same test by hand (the canary's next run resolves the issue when it passes):`,
            commands: [`sudo vigil verify --url ${url} --bouncer ${b} --ip 192.0.2.1`],
          },
        ]
      : [
          {
            text: 'The next two usage-metrics reports agree with what it is sent (the issue resolves at the first that agrees):',
            commands: [inspectCommand],
          },
        ];
  const what =
    ctx.issue === 'remediation_not_enforced'
      ? `Canary ${code(ctx.canary ?? '')}${ctx.canaryUrl ? ` (${code(ctx.canaryUrl)})` : ''} found that ${code(ctx.bouncerName)} does not enforce a decision it should.`
      : `${code(ctx.bouncerName)} reports holding a different set of decisions from the one the Local API sends it.`;
  const resolve = voice('resolve');
  return {
    title: `${ctx.issue === 'remediation_not_enforced' ? 'Remediation Not Enforced' : 'Remediation Drift'}: ${code(ctx.bouncerName)}`,
    summary: `${what} Most likely ${causeSummary(ctx.cause)}; those steps come first.`,
    configPath: ctx.configPath ?? '',
    serviceName: ctx.serviceName ?? '',
    sections: [
      { title: 'Diagnose', steps: [inspect, ...voice('diagnose')] },
      // A bouncer that did not pull is fixed by the offline runbook the Diagnose step points to.
      ...(resolve.length > 0 ? [{ title: 'Resolve' as const, steps: resolve }] : []),
      { title: 'Verify', steps: verify },
    ],
  };
}
