import type { HealthIssue } from '../model/health-issue.ts';
import type { ChannelFilter } from './types.ts';
import { globToRegExp } from './glob.ts';

/** Compiled once per channel; each issue is then one check per list. */
export function compileFilter(f: ChannelFilter): (issue: Pick<HealthIssue, 'criticality' | 'kind' | 'bouncerName'>) => boolean {
  const criticality = new Set<string>(f.criticality);
  const kinds = new Set<string>(f.kinds);
  const bouncers = f.bouncers.map(globToRegExp);
  return (issue) => {
    if (criticality.size > 0 && !criticality.has(issue.criticality)) return false;
    if (kinds.size > 0 && !kinds.has(issue.kind)) return false;
    // A channel scoped to some bouncers is about them: fleet-level issues (no bouncer) stay out.
    if (bouncers.length > 0 && (issue.bouncerName === null || !bouncers.some((re) => re.test(issue.bouncerName!)))) return false;
    return true;
  };
}
