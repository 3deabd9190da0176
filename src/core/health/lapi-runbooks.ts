/**
 * Runbooks for `vigil watch`'s issues about CrowdSec's own Local API: down (stopped, crashed, not
 * listening where bouncers reach it) and replaced (Vigil serves its address, or its config disables
 * it). Pure: builds text, runs nothing; every value that reaches a shell command goes through `shellQuote`.
 */
import { causeSummary } from './causes.ts';
import { code, parseLapi, shellQuote, type Deployment, type Runbook, type RunbookStep } from './runbooks/index.ts';

export type LapiIssueKind = 'lapi_down' | 'lapi_replaced';

export interface LapiRunbookContext {
  issue: LapiIssueKind;
  lapiUrl: string;
  deployment: Deployment;
  cause: string;
  container?: string;
  namespace?: string;
}

export function lapiRunbookFor(ctx: LapiRunbookContext): Runbook {
  const lapi = parseLapi(ctx.lapiUrl);
  const health = `curl -sS -i ${shellQuote(`${lapi.url}health`)}`;
  const ops = crowdsecCommands(ctx);
  const likely = `Most likely ${causeSummary(ctx.cause)}.`;
  const listening: RunbookStep = {
    text: `What listens on port ${code(lapi.port)} (nothing, CrowdSec, or another program):`,
    commands: [`sudo ss -ltnp 'sport = :${lapi.port}'`],
  };
  if (ctx.issue === 'lapi_replaced') return lapiReplacedRunbook(lapi.url, likely, health, ops.config, listening);
  return {
    title: `CrowdSec Local API Down: ${code(lapi.url)}`,
    summary: `CrowdSec's Local API at ${code(lapi.url)} does not answer: bouncers keep their last decisions but get no new ones, and agents cannot send alerts. ${likely}`,
    configPath: '/etc/crowdsec/config.yaml',
    serviceName: 'crowdsec',
    sections: [
      {
        title: 'Diagnose',
        steps: [
          { text: 'Is crowdsec running?', commands: [ops.status] },
          { text: 'Why it stopped (a `level=fatal` line, a panic, `address already in use`, a database error):', commands: [ops.logs] },
          { text: 'Does its Local API answer where the bouncers reach it?', commands: [health] },
          listening,
          { text: "Its Local API's listen address (`listen_uri`) and whether it is enabled:", commands: [ops.config] },
        ],
      },
      {
        title: 'Resolve',
        steps: [
          { text: 'Start it again (after fixing what its log names):', commands: [ops.restart] },
          {
            text: `If another program holds port ${code(lapi.port)}, stop it or move CrowdSec's \`listen_uri\`, and every bouncer's \`api_url\` with it.`,
            commands: [],
          },
        ],
      },
      {
        title: 'Verify',
        steps: [
          { text: 'It answers `{"status":"up"}`:', commands: [health] },
          { text: 'This issue resolves at the next poll, and bouncers pull again:', commands: ['sudo vigil issues list', 'sudo cscli bouncers list'] },
        ],
      },
    ],
  };
}

/** How to see, restart and read CrowdSec where it runs: host (systemd), docker or kubernetes. */
function crowdsecCommands(ctx: LapiRunbookContext): { status: string; logs: string; restart: string; config: string } {
  const c = shellQuote(ctx.container ?? 'crowdsec');
  const ns = shellQuote(ctx.namespace ?? 'crowdsec');
  return ctx.deployment === 'docker'
    ? {
        status: `docker ps -a --filter name=${c}`,
        logs: `docker logs --tail 50 ${c}`,
        restart: `docker restart ${c}`,
        config: `docker exec ${c} cat /etc/crowdsec/config.yaml`,
      }
    : ctx.deployment === 'kubernetes'
      ? {
          status: `kubectl get pods -n ${ns}`,
          logs: `kubectl logs -n ${ns} deploy/crowdsec-lapi --tail 50`,
          restart: `kubectl rollout restart -n ${ns} deploy/crowdsec-lapi`,
          config: `kubectl exec -n ${ns} deploy/crowdsec-lapi -- cat /etc/crowdsec/config.yaml`,
        }
      : {
          status: 'sudo systemctl status crowdsec --no-pager',
          logs: 'sudo tail -n 50 /var/log/crowdsec.log  # or: sudo journalctl -u crowdsec -n 50 --no-pager',
          restart: 'sudo systemctl restart crowdsec',
          config: 'sudo grep -nA3 "server:" /etc/crowdsec/config.yaml /etc/crowdsec/config.yaml.local 2>/dev/null',
        };
}

/** Vigil (or another program) answers at CrowdSec's address, or CrowdSec's Local API is disabled. */
function lapiReplacedRunbook(url: string, likely: string, health: string, configCommand: string, listening: RunbookStep): Runbook {
  return {
    title: `CrowdSec Local API Replaced: ${code(url)}`,
    summary: `This vigil watch reads a CrowdSec whose Local API no longer serves the bouncers. ${likely} Stop this watch, or point it at the CrowdSec that still serves them; \`vigil serve\` raises the bouncers' issues itself.`,
    configPath: '/etc/crowdsec/config.yaml',
    serviceName: 'crowdsec',
    sections: [
      {
        title: 'Diagnose',
        steps: [
          { text: 'Who answers at the Local API address (`Server: Vigil` is vigil serve):', commands: [health] },
          { text: "Whether CrowdSec's own Local API is disabled (`enable: false`):", commands: [configCommand] },
          listening,
        ],
      },
      {
        title: 'Resolve',
        steps: [
          {
            text: 'The stack was switched to Vigil: stop this watch (Vigil serve watches the bouncers now, see its issues):',
            commands: ['sudo systemctl disable --now vigil-watch  # or stop the vigil watch process', 'sudo vigil issues list'],
          },
          {
            text: 'Or point this watch at the CrowdSec that still serves the bouncers:',
            commands: ['sudo vigil watch --crowdsec-config /path/to/that/config.yaml'],
          },
        ],
      },
      {
        title: 'Verify',
        steps: [{ text: 'The issue resolves when CrowdSec serves this address again, or it is gone with this watch.', commands: [health] }],
      },
    ],
  };
}
