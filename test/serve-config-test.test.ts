import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runVigil } from './support/cli.ts';
import { DIALECTS, freshDbUrl } from './support/databases.ts';
import { Store } from '../src/store/store.ts';
import { RUN_FILE_NAME } from '../src/app/run-file.ts';
import { useCleanups } from './support/cleanups.ts';

/**
 * `vigil serve -t` (the Debian unit's ExecStartPre, nginx -t for Vigil): what would stop serve from
 * starting, found without starting it, one line each and exit 0, or one line naming the problem and
 * its fix and exit 1. Serve itself is never started here.
 */
async function occupy(): Promise<{ port: number; close(): Promise<void> }> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', () => resolve()));
  return { port: (s.address() as net.AddressInfo).port, close: () => new Promise((r) => s.close(() => r())) };
}

const cleanups = useCleanups();

async function freeTcpPort(): Promise<number> {
  const o = await occupy();
  await o.close();
  return o.port;
}

for (const dialect of DIALECTS) {
  describe(`${dialect}: vigil serve -t`, () => {
    async function setup(extra: string[] = []) {
      const dir = cleanups.tempDir('vigil-serve-t-');
      const db = await freshDbUrl(dialect);
      cleanups.push(db.cleanup);
      const listen = `127.0.0.1:${await freeTcpPort()}`;
      const metrics = `127.0.0.1:${await freeTcpPort()}`;
      fs.writeFileSync(path.join(dir, 'vigil.yaml'), [`listen: ${listen}`, `metrics_listen: ${metrics}`, `db: ${db.url}`, ...extra, ''].join('\n'));
      const t = () => runVigil({ cwd: dir, env: { VIGIL_DATA_DIR: dir } }, ['serve', '-t']);
      return { dir, db, listen, metrics, t };
    }

    it('checks the configuration, opens (and here creates) the store, finds the ports free: exit 0, one line each', async () => {
      const { dir, listen, metrics, t } = await setup();
      const r = await t();
      expect(r.err).toBe('');
      expect(r.out).toContain(`config ${path.join(dir, 'vigil.yaml')}: ok`);
      expect(r.out).toMatch(dialect === 'sqlite' ? /store sqlite:.*vigil\.db: ok \(created\)/ : /store postgres.*: ok/);
      expect(r.out).toContain(`listen ${listen}: free`);
      expect(r.out).toContain(`metrics_listen ${metrics}: free`);
      expect(r.out).toContain('vigil serve: configuration test successful');
      expect(r.code).toBe(0);
    });

    it('a Local API port another program holds: exit 1, naming the setting and the fix', async () => {
      const taken = await occupy();
      cleanups.push(taken.close);
      const { t } = await setup();
      const dir = cleanups.tempDir('vigil-serve-t-');
      const db = await freshDbUrl(dialect);
      cleanups.push(db.cleanup);
      fs.writeFileSync(path.join(dir, 'vigil.yaml'), `listen: 127.0.0.1:${taken.port}\nmetrics_listen: off\ndb: ${db.url}\n`);
      const r = await runVigil({ cwd: dir, env: { VIGIL_DATA_DIR: dir } }, ['serve', '-t']);
      expect(r.err).toContain(`listen 127.0.0.1:${taken.port}: address already in use; stop the other server or pick another with --listen or listen:`);
      expect(r.out).not.toContain('successful');
      expect(r.code).toBe(1);
      // The same check passes on a free port (the failure above is the port's alone).
      expect((await t()).code).toBe(0);
    });

    it('the metrics port taken (CrowdSec’s Prometheus beside it): exit 1 naming metrics_listen', async () => {
      const taken = await occupy();
      cleanups.push(taken.close);
      const { t } = await setup([]);
      const dir = cleanups.tempDir('vigil-serve-t-');
      const db = await freshDbUrl(dialect);
      cleanups.push(db.cleanup);
      fs.writeFileSync(path.join(dir, 'vigil.yaml'), `listen: 127.0.0.1:0\nmetrics_listen: 127.0.0.1:${taken.port}\ndb: ${db.url}\n`);
      const r = await runVigil({ cwd: dir, env: { VIGIL_DATA_DIR: dir } }, ['serve', '-t']);
      expect(r.err).toContain(`metrics_listen 127.0.0.1:${taken.port}: address already in use`);
      expect(r.code).toBe(1);
      expect((await t()).code).toBe(0);
    });

    it('a store that vigil watch owns: exit 1, as serve would refuse it', async () => {
      const { db, t } = await setup();
      await (await Store.open(db.url, { role: 'watch' })).close();
      const r = await t();
      expect(r.err).toMatch(/level=fatal .*watch/);
      expect(r.code).toBe(1);
    });

    it('a file that does not load: exit 1 naming the file, the key and the fix', async () => {
      const { dir, t } = await setup(['log_level: loud']);
      const r = await t();
      expect(r.err).toContain(path.join(dir, 'vigil.yaml'));
      expect(r.err).toContain('log_level');
      expect(r.code).toBe(1);
    });

    it('while serve runs on this store (its run file, a live pid), its own ports in use are no reason to fail', async () => {
      const taken = await occupy();
      cleanups.push(taken.close);
      const dir = cleanups.tempDir('vigil-serve-t-');
      const db = await freshDbUrl(dialect);
      cleanups.push(db.cleanup);
      fs.writeFileSync(path.join(dir, 'vigil.yaml'), `listen: 127.0.0.1:${taken.port}\nmetrics_listen: off\ndb: ${db.url}\n`);
      // The run file beside a SQLite store, or in the data directory with PostgreSQL; this process stands for serve.
      const runDir = dialect === 'sqlite' ? path.dirname(db.url.slice('sqlite:'.length)) : dir;
      fs.writeFileSync(path.join(runDir, RUN_FILE_NAME), JSON.stringify({ pid: process.pid, url: `http://127.0.0.1:${taken.port}`, startedAt: 0 }));
      const r = await runVigil({ cwd: dir, env: { VIGIL_DATA_DIR: dir } }, ['serve', '-t']);
      expect(r.out).toContain(`listen 127.0.0.1:${taken.port}: in use, by the vigil serve running on this store (pid ${process.pid}) it seems`);
      expect(r.code).toBe(0);
    });
  });
}

describe('sqlite: vigil serve -t on a store other users can read', () => {
  it('exit 1 with the chmod to run, as serve refuses it', async () => {
    const dir = cleanups.tempDir('vigil-serve-t-');
    const file = path.join(dir, 'vigil.db');
    await (await Store.open(`sqlite:${file}`)).close();
    fs.chmodSync(file, 0o644);
    fs.writeFileSync(path.join(dir, 'vigil.yaml'), `listen: 127.0.0.1:0\nmetrics_listen: off\ndb: sqlite:${file}\n`);
    const r = await runVigil({ cwd: dir, env: { VIGIL_DATA_DIR: dir } }, ['serve', '-t']);
    expect(r.err).toContain(`chmod 600 ${file}`);
    expect(r.code).toBe(1);
  });
});
