// Moved to core/decisions/new-decisions.ts (pure); re-exported for the tests and benches that import it here.
export { buildDecision, DECISION_LIMITS, DEFAULT_DECISION, manualAlert, type DecisionRequest } from '../core/decisions/new-decisions.ts';
