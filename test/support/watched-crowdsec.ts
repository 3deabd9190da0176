import type { Cleanups } from './cleanups.ts';
import { crowdsecBouncersAvailable } from './crowdsec-bouncers.ts';
import { crowdsecAvailable, startCrowdsec, type CrowdsecInstance } from './crowdsec-instance.ts';

/**
 * Whether the tests of `vigil watch` over a real CrowdSec can run: CrowdSec 1.4.6 and the real
 * crowdsec-custom-bouncer installed. In CI nothing is skipped, so a missing one fails the test.
 * `note` is for the describe's title (why it was skipped, or nothing).
 */
export function watchedCrowdsecAvailable(): { skip: boolean; note: string } {
  const cs = crowdsecAvailable();
  const bouncers = crowdsecBouncersAvailable();
  const reason = !cs.available ? cs.reason : !bouncers.custom ? bouncers.reason : undefined;
  const skip = reason !== undefined && !process.env.CI;
  return { skip, note: skip ? ` (skipped: ${reason})` : '' };
}

/**
 * A CrowdSec 1.4.6 logging to files with its Prometheus endpoint on (what `vigil watch` reads
 * besides the database), in a fresh folder `work`. Destroyed by `cleanups`: with useCleanups('all')
 * declared before the describe's afterAll, after it, so the Local API outlives its clients.
 */
export async function startWatchedCrowdsec(cleanups: Cleanups, dirPrefix: string): Promise<{ work: string; lapi: CrowdsecInstance }> {
  const work = cleanups.tempDir(dirPrefix);
  const lapi = await startCrowdsec({ workDir: work, logMedia: 'file', prometheus: true });
  cleanups.push(() => lapi.destroy());
  return { work, lapi };
}
