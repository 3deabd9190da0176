import type { MachineStepId } from './machine-runbooks.ts';

/**
 * The likely causes of a machine (log processor) issue: what the Local API can see of an agent
 * that stopped checking in or stopped pushing alerts. Spread into the cause registry (causes.ts),
 * so `causeText`/`causeSummary` and the stored issues treat them as any other cause. No `first` (none of the
 * bouncer runbook's steps apply); `machine` names the machine runbook's steps it moves to the front.
 */
export const MACHINE_CAUSES = {
  machine_bad_password: {
    text: 'login refused: wrong password (its credentials file no longer matches)',
    summary: "the Local API refuses its password: the agent's local_api_credentials.yaml no longer matches what Vigil stores",
    machine: { diagnose: ['credentials', 'agentLogs'], resolve: ['resetPassword'] },
  },
  machine_unknown: {
    text: 'login refused: unknown machine (deleted, or its credentials name another machine)',
    summary: 'it logs in under a machine name the Local API does not know: the machine was deleted, or its credentials file names another one',
    machine: { diagnose: ['credentials', 'machineList'], resolve: ['recreate'] },
  },
  machine_not_validated: {
    text: 'registered but not validated',
    summary: 'it registered itself but nobody validated it, so every login is refused',
    machine: { diagnose: ['machineList'], resolve: ['validate'] },
  },
  machine_login_rejected: {
    text: 'login rejected: not a CrowdSec agent request (User-Agent or body)',
    summary: 'its logins are rejected before the password is checked (a User-Agent that is not `name/version`, or a malformed body)',
    machine: { diagnose: ['agentLogs', 'agentVersion'], resolve: ['restartAgent'] },
  },
  jwt_rejected: {
    text: 'its token is refused (Local API secret changed, or clocks disagree)',
    summary: 'the Local API refuses the token it logged in with (signed with another secret, or expired by a clock that disagrees)',
    machine: { diagnose: ['agentLogs', 'clock'], resolve: ['secret', 'restartAgent'] },
  },
  machine_never_logged_in: {
    text: 'added but the agent never logged in (credentials never installed, or agent not started)',
    summary: 'it was added but the agent never logged in: the credentials were never put on the agent, or the agent never started',
    machine: { diagnose: ['credentials', 'agentService', 'connectivity'], resolve: ['installCredentials', 'restartAgent'] },
  },
  agent_stopped_or_network: {
    text: 'agent stopped, or cannot reach the Local API',
    summary: 'the CrowdSec agent is stopped or cannot reach the Local API',
    machine: { diagnose: ['agentService', 'agentLogs', 'connectivity'], resolve: ['restartAgent', 'network'] },
  },
  no_alerts: {
    text: 'no scenario fired (logs not read or not parsed, scenarios missing or in simulation, or a quiet service)',
    summary:
      'it runs, but no scenario has fired: its logs are not read or not parsed, its scenarios are missing or in simulation, or the service it watches is quiet',
    machine: { diagnose: ['acquisition', 'scenarios'], resolve: ['fixAcquisition', 'enableScenarios'] },
  },
  // LP No Logs Read / No Logs Parsed (log-processors.ts), from the agent's usage reports.
  acquisition_missing: {
    text: 'no log source configured (acquis.yaml and acquis.d/ define none)',
    summary: 'its acquisition configures no log source, so it reads nothing',
    machine: { diagnose: ['acquisitionConfig', 'agentLogs'], resolve: ['fixAcquisition'] },
  },
  logs_not_read: {
    text: 'its log sources read nothing (files missing, empty or unreadable, not mounted in the container, or a wrong datasource type)',
    summary:
      'its log sources read nothing: the files are missing, empty or unreadable (permissions), not mounted in its container, or the datasource type is wrong',
    machine: { diagnose: ['acquisitionConfig', 'sourceFiles', 'acquisition', 'agentLogs'], resolve: ['fixAcquisition'] },
  },
  logs_not_parsed: {
    text: 'lines are read but no parser accepts them (collection missing, or log format or type label mismatch)',
    summary: "lines are read but no parser accepts them: the service's collection is missing, or the log format or its `type` label does not match a parser",
    machine: { diagnose: ['acquisition', 'parsers', 'explain'], resolve: ['installCollection', 'fixAcquisition'] },
  },
} as const satisfies Record<string, { text: string; summary: string; machine: { diagnose: MachineStepId[]; resolve: MachineStepId[] } }>;

export type MachineCauseKind = keyof typeof MACHINE_CAUSES;

/** The machine runbook steps a cause moves to the front; `lapi_restart` and unknown causes have their own. */
export function machineStepsFirst(cause: string): { diagnose: readonly MachineStepId[]; resolve: readonly MachineStepId[] } {
  if (cause === 'lapi_restart') return { diagnose: ['agentLogs', 'agentService'], resolve: ['restartAgent'] };
  return (
    (MACHINE_CAUSES as Record<string, { machine: { diagnose: MachineStepId[]; resolve: MachineStepId[] } }>)[cause]?.machine ?? { diagnose: [], resolve: [] }
  );
}

/** Refused requests that are machines' (watcher logins, JWTs), not bouncer keys: bouncer rules skip them. */
export function isMachineRefusal(reason: string): boolean {
  return reason.startsWith('login:') || reason.startsWith('jwt:');
}
