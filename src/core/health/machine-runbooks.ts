/**
 * Runbooks for machine (log processor) issues: LP Offline, LP Late, LP Pending Validation and LP No
 * Alerts, tailored to one machine and led by its most likely cause, as runbooks.ts does for
 * bouncers. The agent is CrowdSec's `crowdsec` service; its credentials are
 * /etc/crowdsec/local_api_credentials.yaml (`url`, `login`, `password`). Pure: builds text, runs nothing.
 */
import { causeSummary } from './causes.ts';
import { machineStepsFirst } from './machine-causes.ts';
import { code, parseLapi, shellQuote, type Deployment, type Runbook, type RunbookStep } from './runbooks/index.ts';

export const AGENT_CREDENTIALS_FILE = '/etc/crowdsec/local_api_credentials.yaml';

export type MachineIssueKind = 'lp_offline' | 'lp_late' | 'lp_pending' | 'lp_no_alerts' | 'lp_no_logs_read' | 'lp_no_logs_parsed';

export interface MachineRunbookContext {
  machineId: string;
  issue: MachineIssueKind;
  /** e.g. http://127.0.0.1:8080/ */
  lapiUrl: string;
  /** Where the Local API and the agent run. */
  deployment: Deployment;
  cause: string;
  /** Docker container of the Local API and agent (default `crowdsec`). */
  container?: string;
  /** Kubernetes namespace (default `crowdsec`). */
  namespace?: string;
  cli?: 'vigil' | 'cscli';
}

export type MachineStepId =
  | 'machineList'
  | 'agentService'
  | 'agentLogs'
  | 'agentVersion'
  | 'credentials'
  | 'connectivity'
  | 'clock'
  | 'acquisition'
  | 'scenarios'
  | 'validate'
  | 'resetPassword'
  | 'recreate'
  | 'installCredentials'
  | 'restartAgent'
  | 'network'
  | 'secret'
  | 'fixAcquisition'
  | 'enableScenarios'
  | 'acquisitionConfig'
  | 'sourceFiles'
  | 'parsers'
  | 'explain'
  | 'installCollection';

interface Env {
  ctx: MachineRunbookContext;
  cli: 'vigil' | 'cscli';
  url: string;
  host: string;
  port: string;
  name: string;
}

/** `machines add`-style argument: `--` first when a name could pass for an option. */
const nameArg = (name: string): string => (name.startsWith('-') ? `-- ${shellQuote(name)}` : shellQuote(name));

/** A command run where the Local API's CLI lives. `args` must already be shell-safe. */
function lapiCmd(e: Env, args: string): string {
  switch (e.ctx.deployment) {
    case 'host':
      return `sudo ${e.cli} ${args}`;
    case 'docker':
      return `docker exec ${shellQuote(e.ctx.container ?? 'crowdsec')} ${e.cli} ${args}`;
    case 'kubernetes': {
      const ns = shellQuote(e.ctx.namespace ?? 'crowdsec');
      return `kubectl exec -n ${ns} -it $(kubectl get pods -n ${ns} -l type=lapi -o name) -- ${e.cli} ${args}`;
    }
  }
}

/** A command run on the agent (CrowdSec's `cscli`, a shell command), wherever it runs. */
function agentCmd(e: Env, hostCommand: string): string {
  const bare = hostCommand.replace(/^sudo /, '');
  switch (e.ctx.deployment) {
    case 'host':
      return hostCommand;
    case 'docker':
      return `docker exec ${shellQuote(e.ctx.container ?? 'crowdsec')} ${bare}`;
    case 'kubernetes': {
      const ns = shellQuote(e.ctx.namespace ?? 'crowdsec');
      return `kubectl exec -n ${ns} -it $(kubectl get pods -n ${ns} -l type=agent -o name | head -1) -- ${bare}`;
    }
  }
}

function agentOps(e: Env): { status: string[]; logs: string[]; restart: string[] } {
  const c = shellQuote(e.ctx.container ?? 'crowdsec');
  const ns = shellQuote(e.ctx.namespace ?? 'crowdsec');
  switch (e.ctx.deployment) {
    case 'host':
      return {
        status: ['sudo systemctl status crowdsec --no-pager'],
        logs: ["sudo journalctl -u crowdsec --since '-1h' --no-pager | tail -50", 'sudo tail -50 /var/log/crowdsec.log'],
        restart: ['sudo systemctl restart crowdsec', 'sudo systemctl enable crowdsec'],
      };
    case 'docker':
      return { status: [`docker ps -a --filter name=${c}`], logs: [`docker logs --tail 50 ${c}`], restart: [`docker restart ${c}`] };
    case 'kubernetes':
      return {
        status: [`kubectl get pods -n ${ns} -l type=agent`],
        logs: [`kubectl logs -n ${ns} -l type=agent --tail=50`],
        restart: [`kubectl rollout restart daemonset/crowdsec-agent -n ${ns}`],
      };
  }
}

const DIAGNOSE: Record<string, (e: Env) => RunbookStep | null> = {
  machineList: (e) => ({
    text: `Check ${code(e.ctx.machineId)} in the machine list: is it there, validated (✔️), and how old is its Last Heartbeat (⚠️ after 2 minutes)?`,
    commands: [lapiCmd(e, 'machines list'), lapiCmd(e, `machines inspect ${e.name}`)],
  }),
  agentService: (e) => ({ text: 'Check that the CrowdSec agent (`crowdsec`) is running:', commands: agentOps(e).status }),
  agentLogs: (e) => ({
    text: 'Read its recent logs. `connection refused` or a timeout: the Local API is unreachable. `incorrect Username or Password`: the credentials no longer match. `machine … not validated`: it waits for validation. `401` on other calls: its token is refused.',
    commands: agentOps(e).logs,
  }),
  agentVersion: (e) => ({
    text: 'Check what logs in: the CrowdSec agent sends `crowdsec/<version>` as User-Agent; a script or proxy that rewrites it is refused.',
    commands: [agentCmd(e, 'sudo crowdsec -version')],
  }),
  credentials: (e) => ({
    text: `Check the agent's credentials file: \`url\` should be ${code(e.url)} and \`login\` ${code(e.ctx.machineId)} (the password is not shown here).`,
    commands: [agentCmd(e, `sudo grep -nE '^(url|login):' ${AGENT_CREDENTIALS_FILE}`), agentCmd(e, 'sudo cscli lapi status')],
  }),
  connectivity: (e) => ({
    text: `From the agent host, test that the Local API answers at ${code(e.url)} (401 means it answers and wants a login):`,
    commands: [`curl -s -o /dev/null -w '%{http_code}\\n' ${shellQuote(`${e.url}v1/heartbeat`)}`, `nc -zv ${shellQuote(e.host)} ${shellQuote(e.port)}`],
  }),
  clock: (e) => ({
    text: "Compare the agent's clock with the Local API host's: tokens expire after an hour, so a clock off by more is refused.",
    commands: [agentCmd(e, 'date -u'), 'date -u', 'timedatectl status'],
  }),
  acquisition: (e) => ({
    text: 'Check that its logs are read and parsed: `Lines read` should grow under Acquisition, `Lines parsed` under Parsers (LP No Logs Read / No Logs Parsed otherwise).',
    commands: [agentCmd(e, 'sudo cscli metrics show acquisition parsers')],
  }),
  scenarios: (e) => ({
    text: 'Check that scenarios are installed, not in simulation, and receive events (Scenario Metrics: Current Count, Overflows):',
    commands: [agentCmd(e, 'sudo cscli scenarios list'), agentCmd(e, 'sudo cscli simulation status'), agentCmd(e, 'sudo cscli metrics show scenarios')],
  }),
  acquisitionConfig: (e) => ({
    text: 'List the log sources it is configured to read (acquis.yaml and every file in acquis.d/): each needs a source (`filenames:`, `journalctl_filter:`, `container_name:`…) and `labels: {type: …}`.',
    commands: [agentCmd(e, 'sudo cat /etc/crowdsec/acquis.yaml'), agentCmd(e, 'sudo ls -l /etc/crowdsec/acquis.d/')],
  }),
  sourceFiles: (e) => ({
    text: 'Check that the files exist, grow and are readable by the agent (in a container, that they are mounted into it); its log says `no matching files` or `permission denied` otherwise.',
    commands: [
      agentCmd(e, 'sudo ls -l /var/log/'),
      agentCmd(e, "sudo grep -iE 'no matching files|permission denied|acquisition' /var/log/crowdsec.log | tail -20"),
    ],
  }),
  parsers: (e) => ({
    text: 'Check that parsers for the service are installed (a collection brings them) and see which stage drops the lines (Parser Metrics: Hits, Parsed, Unparsed):',
    commands: [agentCmd(e, 'sudo cscli parsers list'), agentCmd(e, 'sudo cscli metrics show parsers')],
  }),
  explain: (e) => ({
    text: 'Run one of its log lines through the parsers to see where it stops (set `--type` to the `labels.type` of its acquisition):',
    commands: [agentCmd(e, "sudo cscli explain --log '<one line of the log>' --type nginx")],
  }),
};

const RESOLVE: Record<string, (e: Env) => RunbookStep | null> = {
  validate: (e) => ({
    text: `If ${code(e.ctx.machineId)} is yours, validate it; the agent logs in at its next try. If not (registrations are open to anyone who can reach the Local API), delete it.`,
    commands: [lapiCmd(e, `machines validate ${e.name}`), lapiCmd(e, `machines delete ${e.name}`)],
  }),
  resetPassword: (e) => ({
    text: `Give it a new password and write the credentials file the agent reads (on the agent's host; elsewhere use \`-f -\` and copy what it prints into ${code(AGENT_CREDENTIALS_FILE)}), then restart the agent:`,
    commands: [lapiCmd(e, `machines add ${e.name} --auto --force -f ${AGENT_CREDENTIALS_FILE}`), ...agentOps(e).restart.slice(0, 1)],
  }),
  recreate: (e) => ({
    text: `The agent logs in under a name the Local API does not know. Either correct \`login:\` in ${code(AGENT_CREDENTIALS_FILE)} to ${code(e.ctx.machineId)} and set its password, or add the name it uses; then restart the agent:`,
    commands: [lapiCmd(e, `machines add ${e.name} --auto --force -f ${AGENT_CREDENTIALS_FILE}`), ...agentOps(e).restart.slice(0, 1)],
  }),
  installCredentials: (e) => ({
    text: `Write its credentials where the agent reads them (${code(AGENT_CREDENTIALS_FILE)}; a new password, since the old one cannot be shown again), then start the agent:`,
    commands: [lapiCmd(e, `machines add ${e.name} --auto --force -f ${AGENT_CREDENTIALS_FILE}`), ...agentOps(e).restart],
  }),
  restartAgent: (e) => ({
    text:
      e.ctx.cause === 'lapi_restart'
        ? 'The Local API restarted around the time it went quiet and the agent did not log in again. Restart it so it logs in afresh:'
        : 'Restart the agent and make sure it starts at boot:',
    commands: agentOps(e).restart,
  }),
  network: (e) => ({
    text: `If the agent runs on another host, the Local API must listen on an address it can reach (not 127.0.0.1) and the port must be open; then set \`url: ${e.url}\` in ${code(AGENT_CREDENTIALS_FILE)}:`,
    commands: [`nc -zv ${shellQuote(e.host)} ${shellQuote(e.port)}`],
  }),
  secret: () => ({
    text: 'Tokens are signed with the Local API secret: after it changes (or on a replica with another one), old tokens are refused and the agent must log in again. Give every replica the same secret, and restart the agent if it keeps its old token.',
    commands: [],
  }),
  fixAcquisition: (e) => ({
    text: 'If no lines are read, fix its acquisition (the log files or sources in acquis.yaml and acquis.d/, and their permissions); if lines are read but not parsed, install the collection for that service:',
    commands: [agentCmd(e, 'sudo ls /etc/crowdsec/acquis.yaml /etc/crowdsec/acquis.d/'), agentCmd(e, 'sudo cscli collections list')],
  }),
  installCollection: (e) => ({
    text: "Install the collection for the service whose lines are not parsed (it brings the parsers and scenarios), check that the acquisition's `labels.type` names that parser's program, then reload the agent:",
    commands: [agentCmd(e, 'sudo cscli collections install crowdsecurity/nginx'), ...agentOps(e).restart.slice(0, 1)],
  }),
  enableScenarios: (e) => ({
    text: 'If scenarios are in simulation, their alerts stay local: take them out of simulation (or install a collection if none is there), then reload the agent. A quiet service may simply have had no attack.',
    commands: [agentCmd(e, 'sudo cscli simulation disable --global'), ...agentOps(e).restart.slice(0, 1)],
  }),
};

const ORDER: Record<MachineIssueKind, { diagnose: string[]; resolve: string[] }> = {
  lp_offline: {
    diagnose: ['machineList', 'agentService', 'agentLogs', 'connectivity', 'credentials'],
    resolve: ['restartAgent', 'resetPassword', 'network'],
  },
  lp_late: { diagnose: ['machineList', 'agentService', 'agentLogs', 'connectivity'], resolve: ['restartAgent', 'network'] },
  lp_pending: { diagnose: ['machineList'], resolve: ['validate'] },
  lp_no_alerts: { diagnose: ['acquisition', 'scenarios', 'agentLogs'], resolve: ['fixAcquisition', 'enableScenarios'] },
  lp_no_logs_read: { diagnose: ['acquisitionConfig', 'sourceFiles', 'acquisition', 'agentLogs'], resolve: ['fixAcquisition'] },
  lp_no_logs_parsed: { diagnose: ['acquisition', 'parsers', 'explain'], resolve: ['installCollection', 'fixAcquisition'] },
};

const TITLES: Record<MachineIssueKind, string> = {
  lp_offline: 'LP Offline',
  lp_late: 'LP Late',
  lp_pending: 'LP Pending Validation',
  lp_no_alerts: 'LP No Alerts',
  lp_no_logs_read: 'LP No Logs Read',
  lp_no_logs_parsed: 'LP No Logs Parsed',
};

function ordered(first: readonly string[], seed: string[]): string[] {
  return [...first, ...seed.filter((id) => !first.includes(id))];
}

export function machineRunbookFor(ctx: MachineRunbookContext): Runbook {
  const lapi = parseLapi(ctx.lapiUrl);
  const e: Env = { ctx, cli: ctx.cli ?? 'vigil', url: lapi.url, host: lapi.host, port: lapi.port, name: nameArg(ctx.machineId) };
  const first = machineStepsFirst(ctx.cause);
  const build = (ids: string[], table: Record<string, (e: Env) => RunbookStep | null>) =>
    ids.flatMap((id) => {
      const step = table[id]?.(e);
      return step ? [step] : [];
    });
  const what: Record<MachineIssueKind, string> = {
    lp_offline: 'has stopped checking in with the Local API, so the alerts and decisions from its logs are missing',
    lp_late: 'has missed its regular heartbeats',
    lp_pending: 'registered but cannot log in until it is validated',
    lp_no_alerts: 'is online but has pushed no alert for 48 hours',
    lp_no_logs_read: 'reports no log line read for 24 hours, so nothing reaches its scenarios',
    lp_no_logs_parsed: 'reads logs but has parsed none for 48 hours, so no scenario can fire on them',
  };
  const likely = ctx.cause === 'unknown' ? `Likely cause: ${causeSummary('unknown')}.` : `Most likely ${causeSummary(ctx.cause)}; those steps come first.`;
  const logs: RunbookStep[] = [
    {
      text: '`Lines read` grows under Acquisition Metrics, and `Lines parsed` under Parser Metrics:',
      commands: [agentCmd(e, 'sudo cscli metrics show acquisition parsers')],
    },
    {
      text: 'Its next usage report (every 30 minutes; the agent also sends one when it starts) clears the issue:',
      commands: [lapiCmd(e, `machines inspect ${e.name}`)],
    },
  ];
  const verify: RunbookStep[] =
    ctx.issue === 'lp_no_logs_read' || ctx.issue === 'lp_no_logs_parsed'
      ? logs
      : ctx.issue === 'lp_no_alerts'
        ? [
            { text: 'Scenarios receive events again (Scenario Metrics):', commands: [agentCmd(e, 'sudo cscli metrics show scenarios')] },
            { text: 'Its next alert clears the issue (Last Update moves):', commands: [lapiCmd(e, `machines inspect ${e.name}`)] },
          ]
        : [
            { text: 'The agent is running:', commands: agentOps(e).status },
            {
              text: `${code(ctx.machineId)} shows ✔️ and a Last Heartbeat under 2 minutes, without ⚠️ (the agent beats every 60 s):`,
              commands: [lapiCmd(e, 'machines list')],
            },
            { text: 'Its logs show a successful login (no more 401 or connection refused):', commands: agentOps(e).logs.slice(0, 1) },
          ];
  return {
    title: `${TITLES[ctx.issue]}: ${code(ctx.machineId)} (CrowdSec agent)`,
    summary: `${code(ctx.machineId)} ${what[ctx.issue]}. ${likely}`,
    configPath: AGENT_CREDENTIALS_FILE,
    serviceName: 'crowdsec',
    sections: [
      { title: 'Diagnose', steps: build(ordered(first.diagnose, ORDER[ctx.issue].diagnose), DIAGNOSE) },
      { title: 'Resolve', steps: build(ordered(first.resolve, ORDER[ctx.issue].resolve), RESOLVE) },
      { title: 'Verify', steps: verify },
    ],
  };
}
