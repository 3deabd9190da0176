/** The shape of a runbook and of what it is tailored to (runbookFor's input). */
import type { BouncerFamily } from '../bouncer-kind.ts';
import type { CauseKind } from '../causes.ts';

export type { CauseKind };
/** Where CrowdSec's (or Vigil's) Local API runs, as runbooks address it. */
export const DEPLOYMENTS = ['host', 'docker', 'kubernetes'] as const;
export type Deployment = (typeof DEPLOYMENTS)[number];

/** What starts and watches services on the bouncer's host: without systemd, runbooks start processes by hand and read log files. */
export const SERVICE_MANAGERS = ['systemd', 'none'] as const;
export type ServiceManager = (typeof SERVICE_MANAGERS)[number];

/** The bouncer issues this runbook serves: its title follows the issue's kind. */
export type BouncerIssueKind = 'integration_late' | 'rc_integration_offline' | 'fw_integration_offline';

export interface RunbookContext {
  bouncerName: string;
  bouncerType: string;
  family: BouncerFamily;
  kind: 'firewall' | 'remediation';
  /** e.g. http://127.0.0.1:8080/ */
  lapiUrl: string;
  deployment: Deployment;
  /** The most likely cause: its steps come first. */
  cause: CauseKind;
  /** Docker container of the Local API (default `crowdsec`). */
  container?: string;
  /** Kubernetes namespace of the Local API (default `crowdsec`). */
  namespace?: string;
  /** Which CLI manages bouncers on the Local API host (default `vigil`; `cscli` when Vigil watches a real CrowdSec). */
  cli?: 'vigil' | 'cscli';
  /** The open issue's kind (default: offline, for the bouncer's kind). */
  issue?: BouncerIssueKind;
  /** The host's service manager, as recorded by the process that runs the Local API (default systemd). */
  serviceManager?: ServiceManager;
}

export interface RunbookStep {
  text: string;
  commands: string[];
}
export interface RunbookSection {
  title: 'Diagnose' | 'Resolve' | 'Verify';
  steps: RunbookStep[];
}
export interface Runbook {
  title: string;
  summary: string;
  configPath: string;
  serviceName: string;
  sections: RunbookSection[];
}
