import fs from 'node:fs';
import { readCrowdsecConfig } from './crowdsec-config.ts';
import { errorText } from './sources/source.ts';
import { sourceFor } from './sources.ts';

/**
 * The API-key hashes of the bouncers in CrowdSec's own database on this host (SHA-512 hex, as CrowdSec
 * and Vigil both store them): a key Vigil refuses but CrowdSec has was registered with `cscli bouncers
 * add` after the switch (a bouncer package's postinst), and `vigil doctor` and the health engine say
 * so. Read-only, on whichever database CrowdSec's config names (SQLite, PostgreSQL, MySQL/MariaDB).
 */
export type CrowdsecKeys = { ok: true; db: string; nameOfHash: ReadonlyMap<string, string> } | { ok: false; reason: string };

/** A database that does not answer in this long is reported, not waited for: the caller is a health evaluation. */
const READ_TIMEOUT_MS = 5_000;

export async function readCrowdsecKeys(configFile: string, env: NodeJS.ProcessEnv): Promise<CrowdsecKeys> {
  if (!fs.existsSync(configFile)) return { ok: false, reason: `no CrowdSec config at ${configFile}` };
  let setup: ReturnType<typeof readCrowdsecConfig>;
  try {
    setup = readCrowdsecConfig(configFile, env);
  } catch (e) {
    return { ok: false, reason: errorText(e) };
  }
  // A SQLite file that is not there was never CrowdSec's database on this host: never created by a read.
  if (setup.db.type === 'sqlite' && !fs.existsSync(setup.db.path)) return { ok: false, reason: `no CrowdSec database at ${setup.db.path}` };
  const source = sourceFor(setup.db, { timeoutMs: READ_TIMEOUT_MS, busyTimeoutMs: 1_000 });
  try {
    const { bouncers } = await source.readForImport('bouncers');
    const nameOfHash = new Map<string, string>();
    for (const r of bouncers) if (typeof r.api_key === 'string' && r.api_key !== '' && typeof r.name === 'string') nameOfHash.set(r.api_key, r.name);
    return { ok: true, db: source.description, nameOfHash };
  } catch (e) {
    return { ok: false, reason: `cannot read the bouncers of CrowdSec's database (${errorText(e)})` };
  } finally {
    await source.close().catch(() => {});
  }
}
