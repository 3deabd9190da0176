/**
 * Issue 27 items 9 and 10: the store under a running `vigil serve` is deleted, replaced, or its disk
 * fills. The server must stop acknowledging writes it cannot keep, say so on /health and /metrics,
 * keep serving pulls from memory, and nothing may create a new empty store where a running serve's
 * was. Real `vigil serve` processes, real files; the full disk is a real 2 MiB tmpfs (root only).
 * SQLite only: a deleted file and a full local disk are SQLite's cases (PostgreSQL's disk_full
 * goes through the same classification, src/lib/disk-full.ts, unit-tested there).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { requestFrom } from '../support/http-from.ts';
import { eventually } from '../support/wait.ts';
import { pull, startVigilChild, type VigilChild } from './vigil-child.ts';
import { Store } from '../../src/store/store.ts';
import { createMachine } from '../../src/store/machines.ts';
import { hashMachinePassword } from '../../src/lib/password.ts';
import { listBouncers } from '../../src/store/bouncers.ts';
import { dbOf } from '../../src/store/store-db.ts';

const BIN = path.resolve('bin/vigil.js');
import { cscliAlert } from '../support/cscli-alert.ts';
import { useCleanups } from '../support/cleanups.ts';

const UA = 'crowdsec/v1.4.6-6~deb12u1+b1-linux-debian';
const PASSWORD = 'a-password-of-some-length';

const alert = (value: string, message = 'test') => cscliAlert(value, '4h', { message });

/** A store with a validated machine `agent`, in `dir`. */
async function storeWithMachine(dir: string): Promise<string> {
  const url = `sqlite:${path.join(dir, 'vigil.db')}`;
  const store = await Store.open(url);
  await createMachine(store, { machineId: 'agent', passwordHash: await hashMachinePassword(PASSWORD), now: Date.now(), isValidated: true });
  await store.close();
  return url;
}

async function machineHeaders(vigil: VigilChild): Promise<Record<string, string>> {
  const login = await requestFrom(`${vigil.url}/v1/watchers/login`, {
    method: 'POST',
    headers: { 'User-Agent': UA, 'Content-Type': 'application/json' },
    body: JSON.stringify({ machine_id: 'agent', password: PASSWORD, scenarios: [] }),
    timeoutMs: 5_000,
  });
  expect(login.status).toBe(200);
  return { 'User-Agent': UA, Authorization: `Bearer ${JSON.parse(login.text).token}`, 'Content-Type': 'application/json' };
}

function post(vigil: VigilChild, headers: Record<string, string>, alerts: unknown[]) {
  return requestFrom(`${vigil.url}/v1/alerts`, { method: 'POST', headers, body: JSON.stringify(alerts), timeoutMs: 10_000 });
}

const health = async (vigil: VigilChild) => (await requestFrom(`${vigil.url}/health`, { timeoutMs: 5_000 })).text;
const metric = async (vigil: VigilChild, line: RegExp) => line.exec((await requestFrom(vigil.metricsUrl!, { timeoutMs: 5_000 })).text)?.[1];

describe('a store deleted, replaced or full under a running vigil serve', () => {
  const cleanups = useCleanups();
  /** `vigil serve` (metrics on) on a store in `dir` that has the machine `agent`, logged in; stopped after the test. */
  async function serveWithMachine(dir: string) {
    const db = await storeWithMachine(dir);
    const vigil = await startVigilChild({ db, metrics: true });
    cleanups.push(() => vigil.stop());
    return { db, vigil, auth: await machineHeaders(vigil) };
  }

  it('deleted (db, -wal, -shm): lost within seconds, writes 503, pulls from memory, rescue copy holds every acknowledged alert, the CLI creates nothing', async () => {
    const dir = cleanups.tempDir('vigil-lost-');
    const file = path.join(dir, 'vigil.db');
    const { db, vigil, auth } = await serveWithMachine(dir);
    expect(await health(vigil)).toBe('{"status":"up"}');
    // The bouncer pulls as usual before (its key is then known in memory).
    expect((await pull(vigil.port)).status).toBe(200);
    // Acknowledged before the deletion: these must survive somewhere the operator can find them.
    for (let i = 1; i <= 5; i++) expect((await post(vigil, auth, [alert(`192.0.2.${i}`)])).status).toBe(201);

    for (const f of [file, `${file}-wal`, `${file}-shm`]) fs.rmSync(f, { force: true });
    // Writes right after the deletion, before it is noticed, would be acknowledged into the orphan: the rescue copy keeps them.
    await eventually('/health to say the store is lost', async () => (await health(vigil)).includes('"lost"'), 8_000, 100);
    expect(await health(vigil)).toBe('{"status":"up","store":"lost","reason":"store file deleted"}');
    expect(await metric(vigil, /^vigil_store_up (\d)$/m)).toBe('0');
    expect(await metric(vigil, /^vigil_store_problem\{reason="lost"\} (\d)$/m)).toBe('1');

    // No write is acknowledged any more: 503, CrowdSec's error body shape.
    const refused = await post(vigil, auth, [alert('192.0.2.99')]);
    expect(refused.status).toBe(503);
    expect(JSON.parse(refused.text).message).toMatch(/^store lost: .*restored from a backup and vigil serve restarted/);
    // Pulls are answered from memory, with every decision acknowledged.
    const p = await pull(vigil.port, { timeoutMs: 3_000 });
    expect(p.status).toBe(200);
    expect(p.ms).toBeLessThan(1_000);
    expect(
      JSON.parse(p.body)
        .new.map((d: { value: string }) => d.value)
        .sort(),
    ).toEqual(['192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.4', '192.0.2.5']);

    // Logged loudly, once, naming the file and the fix; then the rescue copy.
    await eventually('the rescue copy to be logged', () => /rescue copy of the lost store written to/.test(vigil.output()), 8_000, 100);
    expect(vigil.output().match(/store file \S+ was deleted under this running server/g)).toHaveLength(1);
    expect(vigil.output()).toContain(`store file ${file} was deleted`);
    const rescue = fs.readdirSync(dir).find((f) => f.startsWith('vigil.db.rescued-'));
    expect(rescue).toBeDefined();
    expect(fs.statSync(path.join(dir, rescue!)).mode & 0o777).toBe(0o600);

    // The CLI refuses to create a new empty store where serve's was, naming the fix.
    for (const args of [
      ['bouncers', 'add', 'late', '--db', db],
      ['bouncers', 'list', '--db', db],
    ]) {
      const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 20_000, env: { ...process.env } });
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`no store at ${file}, but vigil serve \\(pid ${vigil.pid}\\) is running on it`));
      expect(r.stderr).toContain('Restore');
      expect(fs.existsSync(file)).toBe(false);
    }
    // A second serve on the same path is refused as well.
    const second = spawnSync(process.execPath, [BIN, 'serve', '--db', db, '--listen', '127.0.0.1:0'], { encoding: 'utf8', timeout: 20_000 });
    expect(second.status).toBe(1);
    expect(second.stderr).toMatch(/vigil serve \(pid \d+\) is running on it/);
    expect(fs.existsSync(file)).toBe(false);

    // Stopped (a restart, a crash): the marker it left still keeps an empty store from being made there.
    await vigil.stop();
    expect(fs.readFileSync(`${file}.lost`, 'utf8')).toMatch(/^store file deleted at \S+; rescue copy \S+vigil\.db\.rescued-/);
    const afterStop = spawnSync(process.execPath, [BIN, 'bouncers', 'add', 'late', '--db', db], { encoding: 'utf8', timeout: 20_000 });
    expect(afterStop.status).toBe(1);
    expect(afterStop.stderr).toMatch(/it was deleted under vigil serve .*to start over with an empty store instead, delete \S+vigil\.db\.lost/);
    expect(fs.existsSync(file)).toBe(false);
    // Restored (the rescue copy moved into place): the store opens as before, with every acknowledged alert.
    fs.copyFileSync(path.join(dir, rescue!), file);
    const listed = spawnSync(process.execPath, [BIN, 'bouncers', 'list', '-o', 'json', '--db', db], { encoding: 'utf8', timeout: 20_000 });
    expect(listed.status).toBe(0);
    expect(listed.stdout).toContain('attack-bouncer');

    // The rescue copy holds the 5 acknowledged alerts and the bouncer, as the deleted file did.
    const saved = await Store.open(`sqlite:${path.join(dir, rescue!)}`, { create: false, migrate: false });
    try {
      expect((await dbOf(saved).selectFrom('alerts').select('id').execute()).length).toBe(5);
      expect((await listBouncers(saved)).map((b) => b.name)).toEqual(['attack-bouncer']);
    } finally {
      await saved.close();
    }
  }, 60_000);

  it('replaced by another file (a restore while it runs): lost, writes 503, the new file is left alone', async () => {
    const dir = cleanups.tempDir('vigil-lost-');
    const file = path.join(dir, 'vigil.db');
    const { vigil, auth } = await serveWithMachine(dir);
    expect((await post(vigil, auth, [alert('192.0.2.1')])).status).toBe(201);
    expect((await pull(vigil.port)).status).toBe(200);
    // Another store renamed over it, as `mv backup.db vigil.db` does.
    const other = path.join(cleanups.tempDir('vigil-lost-'), 'other.db');
    await (await Store.open(`sqlite:${other}`)).close();
    fs.copyFileSync(other, `${file}.new`);
    fs.renameSync(`${file}.new`, file);
    await eventually('/health to say the store is lost', async () => (await health(vigil)).includes('"lost"'), 8_000, 100);
    expect(await health(vigil)).toBe('{"status":"up","store":"lost","reason":"store file replaced"}');
    expect((await post(vigil, auth, [alert('192.0.2.2')])).status).toBe(503);
    expect((await pull(vigil.port)).status).toBe(200);
    expect(vigil.output()).toContain(`store file ${file} was replaced by another file`);
    // Nothing serve did since went into the file now in its place.
    const now = await Store.open(`sqlite:${file}`, { create: false });
    try {
      expect((await dbOf(now).selectFrom('alerts').select('id').execute()).length).toBe(0);
    } finally {
      await now.close();
    }
  }, 60_000);

  it.skipIf(!canMountTmpfs())(
    'a full disk (a real 2 MiB tmpfs): 507 naming the fix, /health and /metrics say "disk full", pulls answer; space freed, writes succeed again',
    async () => {
      const dir = cleanups.tempDir('vigil-lost-');
      expect(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=2m,mode=0700', 'tmpfs', dir]).status).toBe(0);
      cleanups.push(() => void spawnSync('umount', ['-l', dir]));
      const { vigil, auth } = await serveWithMachine(dir);
      expect((await pull(vigil.port)).status).toBe(200);
      expect((await post(vigil, auth, [alert('192.0.2.1')])).status).toBe(201);

      // Fill the disk to the last block.
      const filler = path.join(dir, 'filler');
      const fd = fs.openSync(filler, 'w');
      for (const size of [64 * 1024, 4096, 512]) {
        const chunk = Buffer.alloc(size, 1);
        for (let i = 0; i < 10_000; i++) {
          try {
            fs.writeSync(fd, chunk);
          } catch (e) {
            expect((e as NodeJS.ErrnoException).code).toBe('ENOSPC');
            break;
          }
        }
      }
      fs.closeSync(fd);

      // 300 alerts with their decisions (~200 KB): more than the WAL can hold without growing.
      const many = Array.from({ length: 300 }, (_, i) => alert(`198.51.${i >> 8}.${i & 255}`, 'x'.repeat(400)));
      const refused = await post(vigil, auth, many);
      expect(refused.status).toBe(507);
      expect(JSON.parse(refused.text).message).toMatch(/^store full: no space left on the store's disk, nothing was written; free disk space/);
      expect(await health(vigil)).toBe('{"status":"up","store":"degraded","reason":"disk full"}');
      expect(await metric(vigil, /^vigil_store_up (\d)$/m)).toBe('0');
      expect(await metric(vigil, /^vigil_store_problem\{reason="disk_full"\} (\d)$/m)).toBe('1');
      // Bouncers are served as usual: reads need no space.
      const p = await pull(vigil.port, { timeoutMs: 3_000, path: '/v1/decisions/stream?startup=true' });
      expect(p.status).toBe(200);
      expect(JSON.parse(p.body).new.map((d: { value: string }) => d.value)).toEqual(['192.0.2.1']);
      expect(vigil.output().match(/store full: writes are refused \(507\)/g)).toHaveLength(1);

      fs.rmSync(filler);
      const accepted = await post(vigil, auth, many);
      expect(accepted.status).toBe(201);
      expect(await health(vigil)).toBe('{"status":"up"}');
      expect(await metric(vigil, /^vigil_store_up (\d)$/m)).toBe('1');
    },
    60_000,
  );
});

/** Whether this process may mount a tmpfs (root, outside a restricted container). */
function canMountTmpfs(): boolean {
  if (process.getuid?.() !== 0) return false;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-mount-'));
  try {
    if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir]).status !== 0) return false;
    spawnSync('umount', [dir]);
    return true;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
