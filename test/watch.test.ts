import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/lib/clock.ts';
import { DEFAULT_RULES } from '../src/core/health/evaluate.ts';
import { SqliteSource } from '../src/watch/sources.ts';
import { Watcher } from '../src/watch/watcher.ts';
import { DIALECTS, useFreshStore } from './support/databases.ts';
import { listBouncers, setBouncerKind } from '../src/store/bouncers.ts';
import { healthIssues, openHealthIssues } from '../src/store/health-issues.ts';
import { usageMetricsReceivedAt } from '../src/store/usage-metrics.ts';

/**
 * The watcher over CrowdSec's own SQLite database (its 1.4.6 schema verbatim, and the 1.6.4+ bouncer
 * columns), with Vigil's store on each database and a manual clock: issues open and resolve from
 * CrowdSec's rows, a locked database is one issue of its own that neither raises nor resolves
 * bouncer issues, and version quirks (1.4 creation-time last_pull, name@ip children) raise nothing.
 */

// crowdsec-wire-protocol.md §2 "SQLite schema", verbatim (bouncers and machines).
const SCHEMA_146 = [
  "CREATE TABLE `bouncers` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NULL, `updated_at` datetime NULL, `name` text NOT NULL, `api_key` text NOT NULL, `revoked` bool NOT NULL, `ip_address` text NULL DEFAULT '', `type` text NULL, `version` text NULL, `until` datetime NULL, `last_pull` datetime NOT NULL, `auth_type` text NOT NULL DEFAULT 'api-key');",
  'CREATE UNIQUE INDEX `bouncers_name_key` ON `bouncers` (`name`);',
  "CREATE TABLE `machines` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NULL, `updated_at` datetime NULL, `last_push` datetime NULL, `last_heartbeat` datetime NULL, `machine_id` text NOT NULL, `password` text NOT NULL, `ip_address` text NOT NULL, `scenarios` text NULL, `version` text NULL, `is_validated` bool NOT NULL DEFAULT false, `status` text NULL, `auth_type` text NOT NULL DEFAULT 'password');",
];
// The same table as ent creates it from CrowdSec 1.6.4+'s schema (nullable last_pull, os columns, auto_created), plus its metrics table.
const SCHEMA_16 = [
  "CREATE TABLE `bouncers` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `name` text NOT NULL, `api_key` text NOT NULL, `revoked` bool NOT NULL, `ip_address` text NULL DEFAULT '', `type` text NULL, `version` text NULL, `last_pull` datetime NULL, `auth_type` text NOT NULL DEFAULT 'api-key', `osname` text NULL, `osfamily` text NULL, `osversion` text NULL, `featureflags` text NULL, `auto_created` bool NOT NULL DEFAULT false);",
  'CREATE UNIQUE INDEX `bouncers_name_key` ON `bouncers` (`name`);',
  'CREATE TABLE `metrics` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `generated_type` text NOT NULL, `generated_by` text NOT NULL, `received_at` datetime NOT NULL, `pushed_at` datetime NULL, `payload` text NOT NULL);',
];

const H = 3600_000;
const T0 = Date.parse('2026-11-24T10:00:00Z');
/** How ent writes a time into SQLite. */
const entTime = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '000000+00:00');

for (const dialect of DIALECTS) {
  describe(`vigil watch over CrowdSec's SQLite database (store: ${dialect})`, () => {
    const store = useFreshStore(dialect);
    let dir: string;
    let csPath: string;
    let cs: SqliteDatabase.Database;
    let clock: ManualClock;

    beforeEach(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-watch-'));
      csPath = path.join(dir, 'crowdsec.db');
      clock = new ManualClock(T0);
    });
    afterEach(() => {
      cs?.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    function crowdsec(schema: string[]) {
      cs = new SqliteDatabase(csPath);
      for (const stmt of schema) cs.exec(stmt);
    }
    const add146 = (name: string, b: { created: number; lastPull: number; ip?: string; type?: string; version?: string }) =>
      cs
        .prepare(
          'INSERT INTO bouncers (created_at, updated_at, name, api_key, revoked, ip_address, type, version, until, last_pull, auth_type) VALUES (?,?,?,?,0,?,?,?,?,?,?)',
        )
        .run(
          entTime(b.created),
          entTime(b.created),
          name,
          'ab'.repeat(64),
          b.ip ?? '',
          b.type ?? null,
          b.version ?? null,
          entTime(b.created),
          entTime(b.lastPull),
          'api-key',
        );
    const pull = (name: string, at: number, ip?: string) =>
      cs.prepare('UPDATE bouncers SET last_pull = ?, ip_address = coalesce(?, ip_address) WHERE name = ?').run(entTime(at), ip ?? null, name);
    const open = async () => (await openHealthIssues(store())).map((i) => `${i.kind} ${i.subject}`).sort();

    it('opens issues from CrowdSec rows and resolves them when its last_pull moves; 1.4 never-pulled rows are not offline early', async () => {
      crowdsec(SCHEMA_146);
      add146('nginx', { created: T0 - 48 * H, lastPull: T0 - 10_000, ip: '10.0.0.1', type: 'crowdsec-nginx-bouncer', version: 'v1.0.8' });
      // 1.4: registered an hour ago, never pulled, last_pull = created_at.
      add146('fresh', { created: T0 - H, lastPull: T0 - H + 0.3 });
      const watcher = new Watcher(store(), new SqliteSource(csPath), clock, DEFAULT_RULES);

      let r = await watcher.pollOnce();
      expect(r.read).toBe('ok');
      expect(await open()).toEqual([]);
      const mirrored = await listBouncers(store());
      expect(mirrored.map((b) => [b.name, b.lastPullAt, b.type])).toEqual([
        ['nginx', T0 - 10_000, 'crowdsec-nginx-bouncer'],
        ['fresh', null, ''],
      ]);
      expect(mirrored.every((b) => b.apiKeyHash === '')).toBe(true);

      clock.set(T0 + 25 * H);
      r = await watcher.pollOnce();
      expect(await open()).toEqual(['rc_integration_offline bouncer:fresh', 'rc_integration_offline bouncer:nginx', 'se_no_active_rc fleet']);
      const issues = await openHealthIssues(store());
      const byName = (n: string) => issues.find((i) => i.bouncerName === n)!;
      expect((byName('nginx').evidence.causes[0] as { cause: string }).cause).toBe('stopped_or_network');
      expect((byName('fresh').evidence.causes[0] as { cause: string }).cause).toBe('never_pulled');
      expect(byName('nginx').since).toBe(T0 - 10_000);
      // CrowdSec's database records no refused keys: the evidence says so rather than "nothing arrived".
      const evidence = (byName('nginx').evidence.causes[0] as { evidence: string[] }).evidence.join('\n');
      expect(evidence).toContain("refused keys and wrong URLs are not recorded where this was read from (CrowdSec's database keeps none)");
      expect(evidence).not.toContain('nothing at all has arrived');

      pull('nginx', T0 + 25 * H - 5000);
      clock.advance(30_000);
      r = await watcher.pollOnce();
      expect(r.evaluation.resolved.map((i) => i.subject).sort()).toEqual(['bouncer:nginx', 'fleet']);
      expect(await open()).toEqual(['rc_integration_offline bouncer:fresh']);

      // Deleted in CrowdSec: its issue resolves and the mirror forgets it.
      cs.prepare('DELETE FROM bouncers WHERE name = ?').run('fresh');
      clock.advance(30_000);
      await watcher.pollOnce();
      expect(await open()).toEqual([]);
      expect((await listBouncers(store())).map((b) => b.name)).toEqual(['nginx']);
    });

    it('a locked database is one "source unavailable" issue: bouncer issues are neither raised nor resolved meanwhile', async () => {
      crowdsec(SCHEMA_146); // rollback-journal mode: a writer's EXCLUSIVE lock blocks readers
      add146('nginx', { created: T0 - 48 * H, lastPull: T0 - 10_000, ip: '10.0.0.1', type: 'crowdsec-nginx-bouncer' });
      add146('firewall', { created: T0 - 48 * H, lastPull: T0 - 10_000, ip: '10.0.0.2', type: 'crowdsec-firewall-bouncer' });
      const watcher = new Watcher(store(), new SqliteSource(csPath, { busyTimeoutMs: 50 }), clock, DEFAULT_RULES);
      await watcher.pollOnce();
      pull('firewall', T0 + 25 * H);
      clock.set(T0 + 25 * H);
      await watcher.pollOnce();
      expect(await open()).toEqual(['rc_integration_offline bouncer:nginx']);
      const before = (await openHealthIssues(store()))[0]!;

      // CrowdSec (another connection) holds the write lock past the busy timeout.
      const writer = new SqliteDatabase(csPath);
      writer.exec('BEGIN EXCLUSIVE');
      writer.prepare('UPDATE bouncers SET last_pull = ? WHERE name = ?').run(entTime(T0 + 25 * H + 60_000), 'nginx');
      clock.advance(60_000);
      let r = await watcher.pollOnce();
      expect(r.read).toBe('failed');
      expect(r.error).toMatch(/database is locked \(SQLITE_BUSY after 50 ms\)/);
      expect(await open()).toEqual(['rc_integration_offline bouncer:nginx', 'source_unavailable source']);
      // The firewall bouncer goes silent meanwhile: nothing is raised from data we could not read.
      clock.advance(24 * H + 60_000);
      r = await watcher.pollOnce();
      expect(r.evaluation.opened).toEqual([]);
      expect(r.evaluation.resolved).toEqual([]);
      const during = await openHealthIssues(store());
      const source = during.find((i) => i.kind === 'source_unavailable')!;
      expect(source).toMatchObject({ criticality: 'high', bouncerName: null, since: T0 + 25 * H + 60_000 });
      expect(source.summary).toContain(`sqlite:${csPath} (2 failed attempts over 24h1m0s)`);
      expect(source.evidence.notes.join('\n')).toContain('use_wal: true');
      expect(during.find((i) => i.bouncerName === 'nginx')!.lastSeenAt).toBe(before.lastSeenAt);
      expect(watcher.status()).toMatchObject({ up: false, consecutiveFailures: 2, failingSince: T0 + 25 * H + 60_000 });

      // The lock is released, with nginx's pull committed: source resolves, nginx resolves, the firewall's silence is now seen.
      writer.exec('COMMIT');
      writer.close();
      clock.set(T0 + 25 * H + 90_000);
      r = await watcher.pollOnce();
      expect(r.read).toBe('ok');
      expect(r.evaluation.resolved.map((i) => i.kind).sort()).toEqual(['rc_integration_offline', 'source_unavailable']);
      expect(await open()).toEqual([]);
      clock.set(T0 + 50 * H);
      pull('nginx', T0 + 50 * H - 1000);
      await watcher.pollOnce();
      expect(await open()).toEqual(['fw_integration_offline bouncer:firewall']);
      expect((await healthIssues(store(), { includeResolved: true })).filter((i) => i.kind === 'source_unavailable').map((i) => i.resolvedAt)).toEqual([
        T0 + 25 * H + 90_000,
      ]);
    });

    it('a missing database is a source failure too, from the first poll', async () => {
      const watcher = new Watcher(store(), new SqliteSource(path.join(dir, 'nope.db')), clock, DEFAULT_RULES);
      const r = await watcher.pollOnce();
      expect(r.read).toBe('failed');
      expect(r.error).toMatch(/cannot open .*check the path/);
      expect(await open()).toEqual(['source_unavailable source']);
      expect(fs.existsSync(path.join(dir, 'nope.db'))).toBe(false); // never created
    });

    it('1.6.4+: name@ip children of a pulling parent raise nothing; usage metrics count as a sign of life; IP changes are noted', async () => {
      crowdsec(SCHEMA_16);
      const add = (name: string, b: { lastPull: number | null; ip: string; auto?: boolean; created?: number }) =>
        cs
          .prepare(
            'INSERT INTO bouncers (created_at, updated_at, name, api_key, revoked, ip_address, type, version, last_pull, auth_type, auto_created) VALUES (?,?,?,?,0,?,?,?,?,?,?)',
          )
          .run(
            entTime(b.created ?? T0 - 48 * H),
            entTime(T0),
            name,
            'cd'.repeat(64),
            b.ip,
            'crowdsec-nginx-bouncer',
            'v1.1.0',
            b.lastPull === null ? null : entTime(b.lastPull),
            'api-key',
            b.auto ? 1 : 0,
          );
      add('nginx', { lastPull: T0 - 5000, ip: '172.18.0.4' });
      add('nginx@172.18.0.5', { lastPull: T0 - 30 * H, ip: '172.18.0.5', auto: true });
      add('nginx@172.18.0.6', { lastPull: null, ip: '172.18.0.6', auto: true, created: T0 - 40 * H });
      // A live-mode bouncer with no traffic: no pull for two days, but it reports usage metrics (1.6.3+).
      add('quiet-live', { lastPull: T0 - 48 * H, ip: '10.1.1.1' });
      cs.prepare("INSERT INTO metrics (generated_type, generated_by, received_at, payload) VALUES ('RC', 'quiet-live', ?, '{}')").run(
        entTime(T0 - 20 * 60_000),
      );
      const watcher = new Watcher(store(), new SqliteSource(csPath), clock, DEFAULT_RULES);
      await watcher.pollOnce();
      expect(await open()).toEqual([]);
      expect((await listBouncers(store())).map((b) => b.name)).toEqual(['nginx', 'nginx@172.18.0.5', 'nginx@172.18.0.6', 'quiet-live']);
      expect((await usageMetricsReceivedAt(store())).size).toBe(1);

      // The parent's address changes, then the whole family goes silent: one issue, under the parent, noting the change.
      cs.prepare('UPDATE bouncers SET ip_address = ?, last_pull = ? WHERE name = ?').run('172.18.0.9', entTime(T0 + 1000), 'nginx');
      clock.advance(2000);
      await watcher.pollOnce();
      clock.set(T0 + 26 * H);
      cs.prepare("INSERT INTO metrics (generated_type, generated_by, received_at, payload) VALUES ('RC', 'quiet-live', ?, '{}')").run(entTime(T0 + 25 * H));
      await watcher.pollOnce();
      expect(await open()).toEqual(['rc_integration_offline bouncer:nginx']);
      const issue = (await openHealthIssues(store()))[0]!;
      expect(issue.evidence.notes.join('\n')).toMatch(/its IP address changed from '172\.18\.0\.4' to '172\.18\.0\.9'/);
    });

    it("an operator's kind override on the mirror survives syncs", async () => {
      crowdsec(SCHEMA_146);
      add146('edge', { created: T0 - 48 * H, lastPull: T0 - 10_000, ip: '10.0.0.1', type: 'my-custom-thing' });
      const watcher = new Watcher(store(), new SqliteSource(csPath), clock, DEFAULT_RULES);
      await watcher.pollOnce();
      await setBouncerKind(store(), 'edge', 'firewall', T0);
      clock.set(T0 + 25 * H);
      await watcher.pollOnce();
      expect(await open()).toEqual(['fw_integration_offline bouncer:edge', 'se_no_active_rc fleet']);
    });
  });
}
