/**
 * `vigil watch` poll cost at fleet sizes: read CrowdSec's SQLite bouncers table (1.4.6 schema),
 * mirror it into Vigil's store (first poll inserts; later polls update every row whose last_pull
 * moved) and evaluate. `node bench/watch-poll.bench.ts [N…]` (default 1000 10000); a Vigil store URL
 * in VIGIL_BENCH_STORE (default a temp SQLite file).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { ManualClock } from '../src/lib/clock.ts';
import { DEFAULT_RULES } from '../src/core/health/evaluate.ts';
import { Store } from '../src/store/store.ts';
import { SqliteSource } from '../src/watch/sources.ts';
import { Watcher } from '../src/watch/watcher.ts';

const sizes = process.argv
  .slice(2)
  .map(Number)
  .filter((n) => n > 0);
const entTime = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '000000+00:00');

for (const n of sizes.length ? sizes : [1000, 10_000]) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-watch-bench-'));
  const cs = new SqliteDatabase(path.join(dir, 'crowdsec.db'));
  cs.pragma('journal_mode = WAL');
  cs.exec(
    "CREATE TABLE `bouncers` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NULL, `updated_at` datetime NULL, `name` text NOT NULL, `api_key` text NOT NULL, `revoked` bool NOT NULL, `ip_address` text NULL DEFAULT '', `type` text NULL, `version` text NULL, `until` datetime NULL, `last_pull` datetime NOT NULL, `auth_type` text NOT NULL DEFAULT 'api-key');",
  );
  const t0 = Date.now();
  const ins = cs.prepare(
    'INSERT INTO bouncers (created_at, updated_at, name, api_key, revoked, ip_address, type, version, until, last_pull) VALUES (?,?,?,?,0,?,?,?,?,?)',
  );
  cs.transaction(() => {
    for (let i = 0; i < n; i++)
      ins.run(
        entTime(t0 - 86_400_000),
        entTime(t0),
        `bouncer-${i}`,
        'ab'.repeat(64),
        `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
        'crowdsec-firewall-bouncer',
        'v0.0.25',
        entTime(t0),
        entTime(t0 - (i % 600) * 1000),
      );
  })();
  const storeUrl = process.env.VIGIL_BENCH_STORE ?? `sqlite:${path.join(dir, 'vigil.db')}`;
  const store = await Store.open(storeUrl);
  const clock = new ManualClock(t0);
  const watcher = new Watcher(store, new SqliteSource(path.join(dir, 'crowdsec.db')), clock, DEFAULT_RULES);
  const time = async (label: string) => {
    const s = performance.now();
    const r = await watcher.pollOnce();
    if (r.read !== 'ok') throw new Error(r.error);
    console.log(`${String(n).padStart(7)} bouncers  ${label.padEnd(34)} ${(performance.now() - s).toFixed(0).padStart(6)} ms`);
  };
  await time('first poll (mirror inserts)');
  await time('poll, nothing changed');
  cs.prepare('UPDATE bouncers SET last_pull = ?').run(entTime(t0 + 30_000));
  clock.advance(30_000);
  await time('poll, every last_pull moved');
  await store.close();
  cs.close();
  fs.rmSync(dir, { recursive: true, force: true });
}
