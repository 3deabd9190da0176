/** A bouncer runbook's context for unit tests: `edge-1` of this type, on a host, its Local API at 127.0.0.1:8080, cause unknown. */
import { bouncerFamily, resolveKind } from '../../src/core/health/bouncer-kind.ts';
import type { Runbook, RunbookContext } from '../../src/core/health/runbooks/index.ts';

export function runbookContext(type: string, over: Partial<RunbookContext> = {}): RunbookContext {
  return {
    bouncerName: 'edge-1',
    bouncerType: type,
    family: bouncerFamily(type),
    kind: resolveKind(type, null),
    lapiUrl: 'http://127.0.0.1:8080/',
    deployment: 'host',
    cause: 'unknown',
    ...over,
  };
}

export const runbookSection = (r: Runbook, title: 'Diagnose' | 'Resolve' | 'Verify') => r.sections.find((s) => s.title === title)!;

/** Every command a runbook prints, in order. */
export const allCommands = (r: Runbook) => r.sections.flatMap((s) => s.steps.flatMap((st) => st.commands));
