import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, freshDbUrl, withStoreAt } from './support/databases.ts';
import { runVigil } from './support/cli.ts';
import { ManualClock } from '../src/lib/clock.ts';
import { allowlistItems, allowlistMatches, getAllowlist, listAllowlists } from '../src/store/allowlists.ts';

/**
 * `vigil import crowdsec` from a CrowdSec 1.6.6+ database (issue 29 items 1 and 5). Debian's CrowdSec
 * 1.4.6 has no allowlist tables (test/import-crowdsec.test.ts imports from it: none copied), so this
 * database is built with CrowdSec 1.7.8's SQLite schema as ent creates it (pkg/database/ent/migrate/
 * schema.go: allow_lists, allow_list_items and their edge table), times as ent writes them.
 */
const NOW = Date.UTC(2026, 11, 7, 12, 0, 0);
const entTime = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '000000+00:00');
const HOUR = 3_600_000;

function crowdsec16Db(file: string): void {
  const db = new Database(file);
  db.exec(`
    CREATE TABLE bouncers (id integer PRIMARY KEY AUTOINCREMENT, created_at datetime NOT NULL, updated_at datetime NOT NULL, name text NOT NULL UNIQUE,
      api_key text NOT NULL, revoked bool NOT NULL, ip_address text NULL DEFAULT '', type text NULL, version text NULL, last_pull datetime NULL,
      auth_type text NOT NULL DEFAULT 'api-key', osname text NULL, osfamily text NULL, osversion text NULL, featureflags text NULL, auto_created bool NOT NULL DEFAULT false);
    CREATE TABLE machines (id integer PRIMARY KEY AUTOINCREMENT, created_at datetime NOT NULL, updated_at datetime NOT NULL, last_push datetime NULL,
      last_heartbeat datetime NULL, machine_id text NOT NULL UNIQUE, password text NOT NULL, ip_address text NOT NULL, scenarios text NULL, version text NULL,
      is_validated bool NOT NULL DEFAULT false, auth_type text NOT NULL DEFAULT 'password');
    CREATE TABLE decisions (id integer PRIMARY KEY AUTOINCREMENT, created_at datetime NOT NULL, updated_at datetime NOT NULL, until datetime NULL,
      scenario text NOT NULL, type text NOT NULL, start_ip integer NULL, end_ip integer NULL, start_suffix integer NULL, end_suffix integer NULL,
      ip_size integer NULL, scope text NOT NULL, value text NOT NULL, origin text NOT NULL, simulated bool NOT NULL DEFAULT false, uuid text NULL, alert_decisions integer NULL);
    CREATE TABLE allow_lists (id integer PRIMARY KEY AUTOINCREMENT, created_at datetime NOT NULL, updated_at datetime NOT NULL, name text NOT NULL,
      from_console bool NOT NULL, description text NULL, allowlist_id text NULL);
    CREATE UNIQUE INDEX allowlist_name ON allow_lists (name);
    CREATE TABLE allow_list_items (id integer PRIMARY KEY AUTOINCREMENT, created_at datetime NOT NULL, updated_at datetime NOT NULL, expires_at datetime NULL,
      comment text NULL, value text NOT NULL, start_ip integer NULL, end_ip integer NULL, start_suffix integer NULL, end_suffix integer NULL, ip_size integer NULL);
    CREATE TABLE allow_list_allowlist_items (allow_list_id integer NOT NULL, allow_list_item_id integer NOT NULL, PRIMARY KEY (allow_list_id, allow_list_item_id),
      CONSTRAINT allow_list_allowlist_items_allow_list_id FOREIGN KEY (allow_list_id) REFERENCES allow_lists (id) ON DELETE CASCADE,
      CONSTRAINT allow_list_allowlist_items_allow_list_item_id FOREIGN KEY (allow_list_item_id) REFERENCES allow_list_items (id) ON DELETE CASCADE);
  `);
  const created = entTime(NOW - 24 * HOUR);
  const list = db.prepare('INSERT INTO allow_lists (created_at, updated_at, name, from_console, description, allowlist_id) VALUES (?, ?, ?, ?, ?, ?)');
  list.run(created, created, 'office', 0, 'Office network', null);
  list.run(created, created, 'console-partners', 1, 'Managed in the Console', '67a1c9');
  const item = db.prepare('INSERT INTO allow_list_items (created_at, updated_at, expires_at, comment, value, ip_size) VALUES (?, ?, ?, ?, ?, 4)');
  item.run(created, created, null, 'vpn', '192.168.0.0/16');
  item.run(created, created, entTime(NOW + HOUR), '', '10.1.2.3');
  item.run(created, created, entTime(NOW - HOUR), 'gone', '10.9.9.9');
  item.run(created, created, null, '', '198.51.100.0/24');
  const link = db.prepare('INSERT INTO allow_list_allowlist_items (allow_list_id, allow_list_item_id) VALUES (?, ?)');
  link.run(1, 1);
  link.run(1, 2);
  link.run(1, 3);
  link.run(2, 4);
  db.prepare('INSERT INTO decisions (created_at, updated_at, until, scenario, type, scope, value, origin) VALUES (?, ?, ?, ?, ?, ?, ?, ?)').run(
    created,
    created,
    entTime(NOW + 2 * HOUR),
    'crowdsecurity/ssh-bf',
    'ban',
    'Ip',
    '203.0.113.50',
    'crowdsec',
  );
  db.close();
}

describe('vigil import crowdsec: CrowdSec 1.6.6+ allowlists', () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-import-allowlists-'));
  const from = `sqlite:${path.join(work, 'crowdsec.db')}`;
  const clock = new ManualClock(NOW);
  beforeAll(() => crowdsec16Db(path.join(work, 'crowdsec.db')));
  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

  it('--dry-run on a fresh install: no Vigil store needed, none created, everything counted as new', async () => {
    const target = path.join(work, 'fresh', 'vigil.db');
    const r = await runVigil({ cwd: work, env: { VIGIL_DB: `sqlite:${target}` }, clock }, ['import', 'crowdsec', '--crowdsec-db', from, '--dry-run']);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain(`no Vigil store yet at ${target}: everything counts as new; none was created`);
    expect(r.err).toContain('would import from sqlite:');
    expect(r.err).toContain('0 bouncer(s) with their keys, 0 machine(s) with their passwords, 1 active decision(s), 2 allowlist(s) with 3 new value(s)');
    expect(r.err).toContain('skipped: 1 expired allowlist value(s): nothing to allow');
    expect(fs.existsSync(target)).toBe(false);
    expect(fs.existsSync(path.dirname(target))).toBe(false);
    // Without --dry-run the same command still creates the store, and says so.
    const real = await runVigil({ cwd: work, env: { VIGIL_DB: `sqlite:${target}` }, clock }, ['import', 'crowdsec', '--crowdsec-db', from, '-o', 'json']);
    expect(real.code, real.err).toBe(0);
    expect(fs.existsSync(target)).toBe(true);
  });

  for (const dialect of DIALECTS) {
    it(`${dialect}: copies each list with its active values (Console flag and id kept); a second run adds nothing`, async () => {
      const db = await freshDbUrl(dialect);
      try {
        const vigil = (...argv: string[]) => runVigil({ cwd: work, env: { VIGIL_DB: db.url }, clock }, argv);
        const run = await vigil('import', 'crowdsec', '--crowdsec-db', from, '-o', 'json');
        expect(run.code, run.err).toBe(0);
        const report = JSON.parse(run.out);
        expect([report.allowlists, report.allowlistValues, report.decisions]).toEqual([['office', 'console-partners'], 3, 1]);
        await withStoreAt(db.url, async (store) => {
          expect((await listAllowlists(store)).map((l) => [l.name, l.description, l.fromConsole, l.allowlistId, l.createdAt])).toEqual([
            ['office', 'Office network', false, '', NOW - 24 * HOUR],
            ['console-partners', 'Managed in the Console', true, '67a1c9', NOW - 24 * HOUR],
          ]);
          const office = (await getAllowlist(store, 'office'))!;
          expect((await allowlistItems(store, [office.id])).map((i) => [i.value, i.comment, i.expiresAt])).toEqual([
            ['192.168.0.0/16', 'vpn', null],
            ['10.1.2.3', '', NOW + HOUR],
          ]);
          expect(await allowlistMatches(store, '198.51.100.7', NOW)).toEqual(['198.51.100.0/24 from console-partners']);
        });
        const again = JSON.parse((await vigil('import', 'crowdsec', '--crowdsec-db', from, '-o', 'json')).out);
        expect([again.allowlistValues, again.decisions]).toEqual([0, 0]);
        // A Console-managed list stays read-only, as with cscli.
        const edit = await vigil('allowlists', 'add', 'console-partners', '203.0.113.1');
        expect(edit.code).toBe(1);
        expect(edit.err).toContain('allowlist console-partners is managed by console, cannot update with cscli');
      } finally {
        await db.cleanup();
      }
    });
  }
});
