import fs from 'node:fs';
import SqliteDatabase from 'better-sqlite3';
import { describeDb, readCrowdsecConfig } from './crowdsec-config.ts';

/**
 * The API-key hashes of the bouncers in CrowdSec's own database on this host (SHA-512 hex, as CrowdSec
 * and Vigil both store them): a key Vigil refuses but CrowdSec has was registered with `cscli bouncers
 * add` after the switch (a bouncer package's postinst), and `vigil doctor` and the health engine say
 * so. Read-only, never created; SQLite only (CrowdSec on PostgreSQL or MySQL: not looked at).
 */
export type CrowdsecKeys = { ok: true; db: string; nameOfHash: ReadonlyMap<string, string> } | { ok: false; reason: string };

export function readCrowdsecKeys(configFile: string, env: NodeJS.ProcessEnv): CrowdsecKeys {
  if (!fs.existsSync(configFile)) return { ok: false, reason: `no CrowdSec config at ${configFile}` };
  let setup: ReturnType<typeof readCrowdsecConfig>;
  try {
    setup = readCrowdsecConfig(configFile, env);
  } catch (e) {
    return { ok: false, reason: (e as Error).message };
  }
  if (setup.db.type !== 'sqlite') return { ok: false, reason: `CrowdSec's database is ${describeDb(setup.db)}: only its SQLite database is looked at` };
  let db: SqliteDatabase.Database;
  try {
    db = new SqliteDatabase(setup.db.path, { readonly: true, fileMustExist: true, timeout: 1000 });
  } catch (e) {
    return { ok: false, reason: `cannot open CrowdSec's database ${setup.db.path} (${(e as Error).message})` };
  }
  try {
    const rows = db.prepare('SELECT name, api_key FROM bouncers').all() as { name: string; api_key: string | null }[];
    const nameOfHash = new Map<string, string>();
    for (const r of rows) if (r.api_key) nameOfHash.set(r.api_key, r.name);
    return { ok: true, db: describeDb(setup.db), nameOfHash };
  } catch (e) {
    return { ok: false, reason: `cannot read the bouncers of CrowdSec's database ${setup.db.path} (${(e as Error).message})` };
  } finally {
    db.close();
  }
}
