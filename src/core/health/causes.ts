import type { StepId } from './runbooks/index.ts';
import { MACHINE_CAUSES } from './machine-causes.ts';
import { ENFORCEMENT_CAUSES } from './enforcement-causes.ts';
import { LIVE_CAUSES } from './live-causes.ts';
import { LAPI_CAUSES } from './lapi-causes.ts';
import { FLEET_CAUSES } from './fleet-silence-causes.ts';
import { CONSOLE_CAUSES } from './console-causes.ts';

/**
 * The likely causes the health engine can name, one entry each: the seed's "Common Root Causes" as
 * far as the Local API can see them. A new cause is one entry here (its words, its runbook summary,
 * the runbook steps it moves to the front); the evaluator then only has to raise it.
 */
export interface CauseDefinition {
  /** In an operator's words: the CLI, notifications, the dashboard. */
  text: string;
  /** The runbook's "most likely because …". */
  summary: string;
  /** The runbook steps this cause moves to the front; absent (or empty), the seed's order. */
  first?: { diagnose: StepId[]; resolve: StepId[] };
}

export const CAUSES = {
  // Machines' (log processors') causes live in machine-causes.ts.
  ...MACHINE_CAUSES,
  // Canaries and drift (proof of enforcement) live in enforcement-causes.ts.
  ...ENFORCEMENT_CAUSES,
  // Fail-open and silent live-mode bouncers (issue 25) live in live-causes.ts.
  ...LIVE_CAUSES,
  // CrowdSec's own Local API down or replaced (`vigil watch`) live in lapi-causes.ts.
  ...LAPI_CAUSES,
  key_leaked: {
    text: 'one API key used from more addresses than allowed (leaked, or a DaemonSet larger than the cap)',
    summary: 'its key is used from more addresses than limits.max_instances_per_key: a leaked key, or more instances than the cap',
    first: { diagnose: ['registration', 'logs'], resolve: ['rekey'] },
  },
  // Many bouncers silent at once (fleet-silence.ts).
  ...FLEET_CAUSES,
  // The Console's newest issues (console-issues.ts).
  ...CONSOLE_CAUSES,
  authentication: {
    text: 'authentication failure (key invalid, bouncer deleted or re-registered)',
    summary: 'the Local API refuses its key (wrong, regenerated or revoked key, or the bouncer was deleted)',
    first: { diagnose: ['keyTest', 'registration', 'logs'], resolve: ['rekey'] },
  },
  configuration: {
    text: 'configuration error (API URL)',
    summary: 'its configuration points it at the wrong place (API URL) or is malformed',
    first: { diagnose: ['config', 'logs'], resolve: ['fixConfig', 'permissions'] },
  },
  stopped_or_network: {
    text: 'service stopped, integration not loaded, or network',
    summary: 'it is stopped, not loaded by its server, or cannot reach the Local API',
    first: { diagnose: ['service', 'logs', 'connectivity', 'module'], resolve: ['restart', 'network', 'enableModule'] },
  },
  lapi_restart: {
    text: 'did not reconnect after a Local API restart',
    summary: 'it did not reconnect after the Local API restarted',
    first: { diagnose: ['logs', 'service'], resolve: ['reconnect'] },
  },
  instance_stopped: {
    text: 'one instance of a shared key stopped while the others still pull (a pod replaced, or its address changed)',
    summary: 'this instance stopped while other instances with the same key (or certificate) still pull: a pod was replaced or its address changed',
    first: { diagnose: ['registration', 'service', 'logs'], resolve: ['restart'] },
  },
  never_pulled: {
    text: 'registered but never configured or started',
    summary: 'it was registered but never configured or started',
    first: { diagnose: ['config', 'service', 'registration'], resolve: ['configureKey', 'rekey'] },
  },
  unknown: {
    text: 'unknown',
    summary: 'not clear from what the Local API saw, so the steps follow the usual order',
  },
} as const satisfies Record<string, CauseDefinition>;

export type CauseKind = keyof typeof CAUSES;
export const CAUSE_KINDS = Object.keys(CAUSES) as CauseKind[];

/** What a cause means for a person; an unknown name (an older store's) as it is. */
export function causeText(cause: string): string {
  return (CAUSES as Record<string, CauseDefinition>)[cause]?.text ?? cause;
}

export function causeSummary(cause: string): string {
  return ((CAUSES as Record<string, CauseDefinition>)[cause] ?? CAUSES.unknown).summary;
}
