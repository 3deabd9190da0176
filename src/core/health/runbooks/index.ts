/**
 * Runbooks for bouncer issues: what they are made of (types), how values are quoted, how each kind
 * of bouncer is run (profiles), the steps, and `runbookFor` composing them. Pure: builds text, runs
 * nothing. Presentation (terminal text, Markdown) lives in src/presentation/.
 */
export { runbookFor } from './bouncer-runbook.ts';
export { parseLapi } from './env.ts';
export { bouncerService } from './profile-for.ts';
export { code, shellQuote } from './quoting.ts';
export type { StepId } from './steps.ts';
export {
  DEPLOYMENTS,
  SERVICE_MANAGERS,
  type BouncerIssueKind,
  type ServiceManager,
  type CauseKind,
  type Deployment,
  type Runbook,
  type RunbookContext,
  type RunbookSection,
  type RunbookStep,
} from './types.ts';
