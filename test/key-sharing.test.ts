import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS, freshDbUrl } from './support/databases.ts';
import { requestFrom } from './support/http-from.ts';
import { startServer, createLogger, type RunningServer } from '../src/app/serve.ts';
import { loadConfig } from '../src/config/config.ts';
import { ManualClock } from '../src/lib/clock.ts';
import { hashApiKey } from '../src/core/bouncers/api-key.ts';
import { buildDecision, manualAlert } from '../src/decisions/new-decisions.ts';
import type { Store } from '../src/store/store.ts';
import { cliRunner } from './support/cli.ts';
import { createBouncer, deleteBouncers, getBouncer, listBouncers, setBouncerRevoked } from '../src/store/bouncers.ts';
import { addDecisions } from '../src/store/decisions.ts';

/**
 * CrowdSec 1.6.4+ key sharing (docs/reference/crowdsec-1.6-1.7.md §1) over real HTTP on loopback: one
 * key pulled from several addresses gets one row per address, each with its own stream cursor.
 */
const T0 = Date.UTC(2026, 10, 24, 4, 18, 0);
const KEY = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
const SOLO = 'f0e1d2c3b4a5968778695a4b3c2d1e0f';
const UA = 'crowdsec-firewall-bouncer/v0.0.34';

async function addDecision(store: Store, now: number, value: string) {
  const d = buildDecision({ scope: 'Ip', value, type: 'ban', duration: '4h', reason: 'test', origin: 'cscli' }, now);
  await addDecisions(store, manualAlert({ now, scenario: 'test', scope: d.scope, value: d.value, count: 1, machineId: 'vigil' }), [d]);
}

function lines(): { log: string[]; stream: Writable } {
  const log: string[] = [];
  return {
    log,
    stream: new Writable({
      write(chunk, _enc, done) {
        log.push(...String(chunk).split('\n').filter(Boolean));
        done();
      },
    }),
  };
}

for (const dialect of DIALECTS) {
  describe(`${dialect}: one API key shared by several instances`, () => {
    let server: RunningServer;
    let dbUrl: string;
    let cleanup: () => Promise<void>;
    let clock: ManualClock;
    let captured: ReturnType<typeof lines>;

    const pull = async (from: string, key: string, query: string, base = server.url) => {
      const r = await requestFrom(`${base}/v1/decisions/stream${query}`, { localAddress: from, headers: { 'X-Api-Key': key, 'User-Agent': UA } });
      expect(r.status).toBe(200);
      const body = JSON.parse(r.text) as { new: Array<{ value: string }> | null; deleted: Array<{ value: string }> | null };
      return { new: (body.new ?? []).map((d) => d.value), deleted: (body.deleted ?? []).map((d) => d.value) };
    };
    const start = async (url: string) => {
      const config = loadConfig({ flags: { listen: '127.0.0.1:0', db: url, metricsListen: 'off', adminListen: 'off' }, env: {}, cwd: '/nonexistent' });
      return await startServer(config, { clock, log: createLogger('info', captured.stream) });
    };

    beforeEach(async () => {
      clock = new ManualClock(T0);
      captured = lines();
      const db = await freshDbUrl(dialect);
      dbUrl = db.url;
      cleanup = db.cleanup;
      server = await start(db.url);
      await createBouncer(server.store, { name: 'fw', apiKeyHash: hashApiKey(KEY), now: T0 });
      await createBouncer(server.store, { name: 'solo', apiKeyHash: hashApiKey(SOLO), now: T0 });
    });
    afterEach(async () => {
      await server?.close();
      await cleanup?.();
    });

    it('two pods sharing one key never steal each other’s deltas: each gets every decision exactly once, as a lone bouncer', async () => {
      await addDecision(server.store, T0, '192.0.2.1');
      const got: Record<string, string[]> = { a: [], b: [], solo: [] };
      const from = { a: '127.0.0.1', b: '127.0.0.2', solo: '127.0.0.3' } as const;
      const keyOf = { a: KEY, b: KEY, solo: SOLO } as const;
      for (const who of ['a', 'b', 'solo'] as const) got[who]!.push(...(await pull(from[who], keyOf[who], '?startup=true')).new);
      // Decisions arrive between the pulls of one pod and the other's, in every order.
      const plan: Array<'a' | 'b' | 'add'> = ['add', 'a', 'add', 'b', 'a', 'add', 'add', 'b', 'b', 'add', 'a', 'add', 'b', 'a'];
      let n = 2;
      for (const step of plan) {
        clock.advance(1000);
        if (step === 'add') {
          await addDecision(server.store, clock.now(), `192.0.2.${n++}`);
          continue;
        }
        got[step]!.push(...(await pull(from[step], KEY, '')).new);
        // The lone bouncer pulls whenever pod A does.
        if (step === 'a') got.solo!.push(...(await pull(from.solo, SOLO, '')).new);
      }
      clock.advance(1000);
      for (const who of ['a', 'b', 'solo'] as const) got[who]!.push(...(await pull(from[who], keyOf[who], '')).new);
      const all = Array.from({ length: n - 1 }, (_, i) => `192.0.2.${i + 1}`);
      for (const who of ['a', 'b', 'solo'] as const) expect([...got[who]!].sort(), who).toEqual([...all].sort());
      // Exactly once: no duplicates either.
      for (const who of ['a', 'b']) expect(new Set(got[who]).size).toBe(got[who]!.length);

      await server.activity.flush();
      const rows = (await listBouncers(server.store)).map((b) => [b.name, b.ipAddress, b.autoCreated, b.apiKeyHash === hashApiKey(KEY)]);
      expect(rows).toEqual([
        ['fw', '127.0.0.1', false, true],
        ['solo', '127.0.0.3', false, false],
        ['fw@127.0.0.2', '127.0.0.2', true, true],
      ]);
      const child = (await getBouncer(server.store, 'fw@127.0.0.2'))!;
      expect(child.lastPullAt).not.toBeNull();
      expect(captured.log.filter((l) => l.includes('Creating bouncer fw@127.0.0.2'))).toHaveLength(1);
    });

    it('a HEAD from a new address checks the key and creates nothing; a third address gets BASE@IP, never a chain', async () => {
      await pull('127.0.0.1', KEY, '?startup=true');
      const head = await requestFrom(`${server.url}/v1/decisions/stream`, { method: 'HEAD', localAddress: '127.0.0.9', headers: { 'X-Api-Key': KEY } });
      expect(head.status).toBe(200);
      await pull('127.0.0.2', KEY, '?startup=true');
      await pull('127.0.0.4', KEY, '?startup=true');
      const names = (await listBouncers(server.store)).map((b) => b.name);
      expect(names).toEqual(['fw', 'solo', 'fw@127.0.0.2', 'fw@127.0.0.4']);
      // Unknown keys and revoked parents get no row anywhere.
      expect((await requestFrom(`${server.url}/v1/decisions/stream`, { localAddress: '127.0.0.5', headers: { 'X-Api-Key': 'nope' } })).status).toBe(403);
      await setBouncerRevoked(server.store, 'fw', true, T0);
      clock.advance(5000);
      const refused = await requestFrom(`${server.url}/v1/decisions/stream`, { localAddress: '127.0.0.6', headers: { 'X-Api-Key': KEY } });
      expect([refused.status, refused.text]).toEqual([403, '{"message":"access forbidden"}']);
      expect(await getBouncer(server.store, 'fw@127.0.0.6')).toBeUndefined();
      // The child of a revoked key is refused too.
      expect((await requestFrom(`${server.url}/v1/decisions/stream`, { localAddress: '127.0.0.2', headers: { 'X-Api-Key': KEY } })).status).toBe(403);
    });

    it('first requests from one new address at once create one row (and one log line)', async () => {
      await pull('127.0.0.1', KEY, '?startup=true');
      const answers = await Promise.all(Array.from({ length: 12 }, () => pull('127.0.0.7', KEY, '?startup=true')));
      expect(answers).toHaveLength(12);
      expect((await listBouncers(server.store)).filter((b) => b.name.startsWith('fw@')).map((b) => b.name)).toEqual(['fw@127.0.0.7']);
      expect(captured.log.filter((l) => l.includes('Creating bouncer fw@127.0.0.7'))).toHaveLength(1);
    });

    it.runIf(dialect === 'postgres')('two replicas on one PostgreSQL: first requests from one address to both create one row', async () => {
      const other = await start(dbUrl);
      try {
        await pull('127.0.0.1', KEY, '?startup=true');
        await Promise.all(Array.from({ length: 6 }, (_, i) => pull('127.0.0.8', KEY, '?startup=true', i % 2 === 0 ? server.url : other.url)));
        const rows = (await listBouncers(server.store)).filter((b) => b.name.startsWith('fw@'));
        expect(rows.map((b) => [b.name, b.autoCreated])).toEqual([['fw@127.0.0.8', true]]);
      } finally {
        await other.close();
      }
    });

    it('the CLI: list shows children with auto_created, inspect an Auto Created row, delete cascades from the parent and refuses a child', async () => {
      await pull('127.0.0.1', KEY, '?startup=true');
      await pull('127.0.0.2', KEY, '?startup=true');
      await pull('127.0.0.3', KEY, '?startup=true');
      await server.activity.flush();
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-share-'));
      const vigil = cliRunner(() => ({ env: { VIGIL_DB: dbUrl }, cwd: dir, clock }));
      const list = JSON.parse((await vigil('bouncers', 'list', '-o', 'json')).out) as Array<{
        name: string;
        ip_address: string;
        auto_created: boolean;
        revoked: boolean;
      }>;
      expect(list.map((b) => [b.name, b.revoked, b.ip_address, b.auto_created])).toEqual([
        ['fw', false, '127.0.0.1', false],
        ['solo', false, '', false],
        ['fw@127.0.0.2', false, '127.0.0.2', true],
        ['fw@127.0.0.3', false, '127.0.0.3', true],
      ]);
      expect((await vigil('bouncers', 'inspect', 'fw@127.0.0.2')).out).toMatch(/Auto Created\s+true/);
      const child = await vigil('bouncers', 'delete', 'fw@127.0.0.2');
      expect(child.code).toBe(0);
      expect(child.err).toContain("bouncer 'fw@127.0.0.2' is auto-created and cannot be deleted, delete parent bouncer fw instead");
      expect(child.err).toMatch(/^level=warning/);
      expect(await getBouncer(server.store, 'fw@127.0.0.2')).toBeDefined();
      const parent = await vigil('bouncers', 'delete', 'fw');
      expect(parent.code).toBe(0);
      expect(parent.err.trim().split('\n')).toEqual([
        'level=info msg="bouncer \'fw\' deleted successfully"',
        'level=info msg="bouncer \'fw@127.0.0.2\' deleted successfully"',
        'level=info msg="bouncer \'fw@127.0.0.3\' deleted successfully"',
      ]);
      expect((await listBouncers(server.store)).map((b) => b.name)).toEqual(['solo']);
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('an orphan child is not deleted (an error), prune removes any row', async () => {
      await pull('127.0.0.1', KEY, '?startup=true');
      await pull('127.0.0.2', KEY, '?startup=true');
      await server.activity.flush();
      // The parent goes another way (vigil's store API, as another tool could): the child is an orphan.
      await deleteBouncers(server.store, ['fw']);
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-share-'));
      const vigil = cliRunner(() => ({ env: { VIGIL_DB: dbUrl }, cwd: dir, clock }));
      const orphan = await vigil('bouncers', 'delete', 'fw@127.0.0.2');
      expect(orphan.code).toBe(0);
      expect(orphan.err).toMatch(/^level=error msg=".*fw@127.0.0.2.*parent bouncer fw doesn't exist/);
      expect(await getBouncer(server.store, 'fw@127.0.0.2')).toBeDefined();
      clock.advance(2 * 3600_000);
      expect((await vigil('bouncers', 'prune', '-d', '1h', '--force')).code).toBe(0);
      expect(await getBouncer(server.store, 'fw@127.0.0.2')).toBeUndefined();
      fs.rmSync(dir, { recursive: true, force: true });
    });
  });
}
