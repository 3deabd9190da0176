import type { StepId } from './runbooks/index.ts';

/**
 * Causes of issue 25's rules (fail-open.ts, live-rhythm.ts), spread into the cause registry
 * (causes.ts): their words and the bouncer runbook steps they move to the front.
 */
export const LIVE_CAUSES = {
  fail_open: {
    text: 'authentication: the bouncer is failing open or blocked from updates',
    summary:
      'the Local API refuses every request it makes (a wrong, regenerated or deleted key, or a refused client certificate): a live-mode bouncer then lets every client through, a stream-mode one keeps stale decisions',
    first: { diagnose: ['keyTest', 'registration', 'config', 'logs'], resolve: ['rekey', 'configureKey'] },
  },
  live_silent: {
    text: 'a live-mode bouncer fell silent: no queries where its traffic rhythm expects them, or its usage-metrics reports stopped',
    summary: 'it stopped asking the Local API: the service or web-server module is stopped or not loaded, or it cannot reach the Local API',
    first: { diagnose: ['service', 'module', 'logs', 'connectivity'], resolve: ['restart', 'enableModule', 'network'] },
  },
} as const satisfies Record<string, { text: string; summary: string; first: { diagnose: StepId[]; resolve: StepId[] } }>;
