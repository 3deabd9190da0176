import type { HealthIssue } from '../model/health-issue.ts';
import type { Bouncer } from '../model/records.ts';
import { bouncerFamily, resolveKind } from './bouncer-kind.ts';
import { bouncerService, runbookFor, type BouncerIssueKind, type Deployment, type Runbook } from './runbooks/index.ts';
import { machineRunbookFor, type MachineIssueKind } from './machine-runbooks.ts';
import { enforcementRunbookFor } from './enforcement-runbooks.ts';
import { lapiRunbookFor } from './lapi-runbooks.ts';
import { fleetSilentRunbook } from './fleet-silence-runbook.ts';
import { consoleRunbookFor } from './console-runbooks.ts';
import type { IssueKind, LikelyCause } from './types.ts';
import type { RunbookSettings } from './runbook-settings.ts';

const BOUNCER_ISSUES: ReadonlySet<IssueKind> = new Set<BouncerIssueKind>(['integration_late', 'rc_integration_offline', 'fw_integration_offline']);
const isBouncerIssue = (k: IssueKind): k is BouncerIssueKind => BOUNCER_ISSUES.has(k);
const MACHINE_ISSUES: ReadonlySet<IssueKind> = new Set<MachineIssueKind>([
  'lp_offline',
  'lp_late',
  'lp_pending',
  'lp_no_alerts',
  'lp_no_logs_read',
  'lp_no_logs_parsed',
]);
const isMachineIssue = (k: IssueKind): k is MachineIssueKind => MACHINE_ISSUES.has(k);

export type IssueStatus = 'open' | 'flapping' | 'resolved';

export function issueStatus(i: HealthIssue, flapping: Set<string>): IssueStatus {
  if (i.resolvedAt !== null) return 'resolved';
  return flapping.has(`${i.kind}|${i.subject}`) ? 'flapping' : 'open';
}

export function topCause(i: HealthIssue): LikelyCause | undefined {
  return i.evidence.causes[0];
}

/**
 * The runbook for a bouncer issue, led by its most likely cause; for fleet-level issues only Fleet Silent has one.
 * `settings` (the store's, see runbook-settings.ts) switches the commands to `cscli` for `vigil watch`.
 */
export function issueRunbook(
  i: HealthIssue,
  bouncer: Pick<Bouncer, 'type' | 'kindOverride'> | undefined,
  lapiUrl: string,
  deployment: Deployment,
  settings?: Pick<RunbookSettings, 'cli' | 'container' | 'namespace' | 'serviceManager'>,
): Runbook | undefined {
  if (i.subject.startsWith('machine:')) return machineIssueRunbook(i, lapiUrl, deployment, settings);
  if (i.kind === 'lapi_down' || i.kind === 'lapi_replaced')
    return lapiRunbookFor({
      issue: i.kind,
      lapiUrl,
      deployment,
      cause: topCause(i)?.cause ?? 'unknown',
      container: settings?.container,
      namespace: settings?.namespace,
    });
  if (i.kind === 'fleet_silent') return fleetSilentRunbook(lapiUrl);
  const consoleRunbook = consoleRunbookFor(i);
  if (consoleRunbook) return consoleRunbook;
  if (!i.bouncerName) return undefined;
  const type = bouncer?.type ?? '';
  if (i.kind === 'remediation_not_enforced' || i.kind === 'remediation_drift') {
    const canary = i.subject.startsWith('canary:') ? i.subject.slice('canary:'.length) : undefined;
    const service = bouncer ? bouncerService(bouncerFamily(type), type) : undefined;
    return enforcementRunbookFor({
      issue: i.kind,
      bouncerName: i.bouncerName,
      cause: topCause(i)?.cause ?? 'unknown',
      canary,
      canaryUrl: canary === undefined ? undefined : canaryUrlOf(i.summary, canary),
      ...(service ? { configPath: service.configPath, serviceName: service.unit } : {}),
      serviceManager: settings?.serviceManager,
      cli: settings?.cli,
    });
  }
  return runbookFor({
    bouncerName: i.bouncerName,
    bouncerType: type,
    family: bouncerFamily(type),
    kind: resolveKind(type, bouncer?.kindOverride ?? null),
    lapiUrl,
    deployment,
    cause: topCause(i)?.cause ?? 'unknown',
    ...(isBouncerIssue(i.kind) ? { issue: i.kind } : {}),
    ...(settings ? { cli: settings.cli, container: settings.container, namespace: settings.namespace, serviceManager: settings.serviceManager } : {}),
  });
}

/** The runbook for a machine (log processor) issue, subject `machine:<machine_id>`. */
function machineIssueRunbook(
  i: HealthIssue,
  lapiUrl: string,
  deployment: Deployment,
  settings?: Pick<RunbookSettings, 'cli' | 'container' | 'namespace'>,
): Runbook | undefined {
  if (!isMachineIssue(i.kind)) return undefined;
  return machineRunbookFor({
    machineId: i.subject.slice('machine:'.length),
    issue: i.kind,
    lapiUrl,
    deployment,
    cause: topCause(i)?.cause ?? 'unknown',
    ...(settings ? { cli: settings.cli, container: settings.container, namespace: settings.namespace } : {}),
  });
}

/** The URL a canary tests, from its issue's summary (`canary 'NAME': URL does not block …`, enforcement.ts). */
export function canaryUrlOf(summary: string, canary: string): string | undefined {
  const prefix = `canary '${canary}': `;
  if (!summary.startsWith(prefix)) return undefined;
  const rest = summary.slice(prefix.length);
  const end = rest.search(/ does not (block|challenge) /);
  return end > 0 ? rest.slice(0, end) : undefined;
}
