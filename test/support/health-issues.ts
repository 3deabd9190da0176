import type { CauseKind, LikelyCause } from '../../src/core/health/types.ts';
import type { HealthIssue, IssueEvidence } from '../../src/core/model/health-issue.ts';
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
