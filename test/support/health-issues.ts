import type { CauseKind, Finding, LikelyCause } from '../../src/core/health/types.ts';
import type { RefusedRequest } from '../../src/core/model/records.ts';
import type { HealthIssue, IssueEvidence } from '../../src/core/model/health-issue.ts';
import type { CanaryRun } from '../../src/core/health/enforcement.ts';
import { machineRunbookFor, type MachineRunbookContext } from '../../src/core/health/machine-runbooks.ts';

/** An issue still open, opened and last seen at `at`; no causes unless `over.evidence` gives some. */
export function openIssue(at: number, over: Partial<HealthIssue> & Pick<HealthIssue, 'kind' | 'subject'>): HealthIssue {
  return {
    id: 1,
    criticality: 'critical',
    bouncerName: null,
    openedAt: at,
    lastSeenAt: at,
    resolvedAt: null,
    since: at,
    summary: '',
    evidence: { causes: [], notes: [] },
    ...over,
  };
}

/** Evidence naming one likely cause, with nothing more behind it. */
export const oneCause = (cause: CauseKind, confidence: LikelyCause['confidence'] = 'high'): IssueEvidence => ({
  causes: [{ cause, confidence, evidence: [] }],
  notes: [],
});

type AgentRunbook = MachineRunbookContext;
/** The runbook of agent `agent1` on a Local API at 127.0.0.1:8080, as its issue page shows it. */
export const agentRunbook = (issue: AgentRunbook['issue'], cause: AgentRunbook['cause'], deployment: AgentRunbook['deployment']) =>
  machineRunbookFor({ machineId: 'agent1', issue, lapiUrl: 'http://127.0.0.1:8080/', deployment, cause });

/** A canary run of `shop` through `nginx-fa` that passed: 192.0.2.44 was blocked 450 ms after the decision. */
export const passedCanaryRun = (startedAt: number, over: Partial<CanaryRun> = {}): CanaryRun => ({
  id: 1,
  canary: 'shop',
  bouncerName: 'nginx-fa',
  url: 'http://127.0.0.1:8088/',
  address: '192.0.2.44',
  expect: 'ban',
  startedAt,
  finishedAt: startedAt + 3000,
  verdict: 'pass',
  failedStep: null,
  summary: 'ok',
  fix: null,
  decisionId: '7',
  decisionRemoved: true,
  answerStatus: 403,
  pulledAfterMs: 400,
  enforcedAfterMs: 450,
  totalMs: 3000,
  steps: [],
  ...over,
});

let refusedId = 0;
/** A builder of refused requests with these defaults, each given the next id. */
export const refusedRequests =
  (defaults: Omit<RefusedRequest, 'id'>) =>
  (over: Partial<RefusedRequest> = {}): RefusedRequest => ({ id: ++refusedId, ...defaults, ...over });

/** Findings as `kind:subject`, what most evaluation tests compare. */
export const findingKinds = (findings: readonly Finding[]): string[] => findings.map((f) => `${f.kind}:${f.subject}`);
