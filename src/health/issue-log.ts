import type { Logger } from 'pino';
import type { EvaluationResult } from './engine.ts';

/** The log lines for an evaluation's changes (serve and watch say the same). */
export function logIssueChanges(log: Logger): (r: EvaluationResult) => void {
  return ({ opened, resolved, escalated }) => {
    for (const i of opened) log.warn({ issue: i.id, kind: i.kind, bouncer: i.bouncerName, criticality: i.criticality }, `issue opened: ${i.summary}`);
    for (const i of escalated) log.warn({ issue: i.id, kind: i.kind, bouncer: i.bouncerName, criticality: i.criticality }, `issue now ${i.kind}: ${i.summary}`);
    for (const i of resolved) log.info({ issue: i.id, kind: i.kind, bouncer: i.bouncerName }, `issue resolved: ${i.kind} ${i.subject}`);
  };
}
