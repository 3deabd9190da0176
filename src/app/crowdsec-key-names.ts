import { keyFingerprint } from '../core/bouncers/api-key.ts';
import type { Clock } from '../lib/clock.ts';
import { readCrowdsecKeys } from '../watch/crowdsec-keys.ts';

/** CrowdSec's bouncers change when a package is installed: read again this often, */
const READ_EVERY_MS = 60_000;
/** … or this soon when a refused key is not among them (a package installed a moment ago). */
const REREAD_UNKNOWN_AFTER_MS = 5_000;

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
): (refused: readonly string[]) => Promise<ReadonlyMap<string, string>> {
  let readAt = -Infinity;
  let names: ReadonlyMap<string, string> = new Map();
  return async (refused) => {
    const now = clock.now();
    const age = now - readAt;
    const fresh = age >= 0 && (age < REREAD_UNKNOWN_AFTER_MS || (age < READ_EVERY_MS && refused.every((f) => names.has(f))));
    if (fresh) return names;
    readAt = now;
    const keys = await readCrowdsecKeys(configFile, env);
    names = keys.ok ? new Map([...keys.nameOfHash].map(([hash, name]) => [keyFingerprint(fingerprintSecret, hash), name])) : new Map();
    return names;
  };
}
