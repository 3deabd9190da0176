import type { MessageContent } from './types.ts';

/** A dashboard page for a message's reader: `path` under `/ui/`, on the dashboard's own listener when it has one. */
export function dashboardLink(c: Pick<MessageContent, 'lapiUrl' | 'dashboardUrl'>, path = ''): string {
  return `${(c.dashboardUrl ?? c.lapiUrl).replace(/\/+$/, '')}/ui/${path}`;
}

/** The issue's page in the dashboard (its likely cause and runbook). */
export const issueLink = (c: Pick<MessageContent, 'lapiUrl' | 'dashboardUrl'>, id: number): string => dashboardLink(c, `issues/${id}`);
