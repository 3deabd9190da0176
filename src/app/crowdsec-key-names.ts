import { keyFingerprint } from '../core/bouncers/api-key.ts';
import type { Clock } from '../lib/clock.ts';
import { readCrowdsecKeys } from '../watch/crowdsec-keys.ts';

/** CrowdSec's bouncers change when a package is installed: read again this often, */
const READ_EVERY_MS = 60_000;
/** … or this soon when a refused key is not among them (a package installed a moment ago). */
const REREAD_UNKNOWN_AFTER_MS = 5_000;
/** How long an evaluation waits for a read of CrowdSec's database before going on with what it knows. */
const WAIT_MS = 1_000;

/**
 * The bouncers of CrowdSec's own database on this host by key fingerprint (the refused-request
 * record keeps fingerprints, never keys): the health engine names a refused key found there as one
 * registered with cscli after the switch. Empty when CrowdSec's config or database is not here or does not answer.
 */
export function crowdsecKeyNames(
  configFile: string,
  env: NodeJS.ProcessEnv,
  fingerprintSecret: Buffer,
  clock: Clock,
  read: typeof readCrowdsecKeys = readCrowdsecKeys,
): (refused: readonly string[]) => Promise<ReadonlyMap<string, string>> {
  let readAt = -Infinity;
  let names: ReadonlyMap<string, string> = new Map();
  let reading: Promise<void> | undefined;
  return async (refused) => {
    const now = clock.now();
    const age = now - readAt;
    const fresh = age >= 0 && (age < REREAD_UNKNOWN_AFTER_MS || (age < READ_EVERY_MS && refused.every((f) => names.has(f))));
    if (fresh) return names;
    readAt = now;
    reading ??= read(configFile, env)
      .then((keys) => {
        names = keys.ok ? new Map([...keys.nameOfHash].map(([hash, name]) => [keyFingerprint(fingerprintSecret, hash), name])) : new Map();
      })
      .finally(() => (reading = undefined));
    // The health evaluation waits at most WAIT_MS: a CrowdSec PostgreSQL or MySQL that does not
    // answer (up to its 5 s timeout) must not hold every evaluation; the names then come next time.
    await Promise.race([reading, new Promise<void>((resolve) => setTimeout(resolve, WAIT_MS).unref())]);
    return names;
  };
}
