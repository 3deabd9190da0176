/**
 * Store safety (issue 15): watch and serve never share a store, the default store does not depend on
 * the working directory, an unusable store fails at once, store files are private, and no password
 * reaches a log or an error line. Real files, real PostgreSQL, real processes for the hangs.
 */
import { dbOf } from '../../src/store/store-db.ts';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { DIALECTS, freshDbUrl } from '../support/databases.ts';
import { eventually } from '../support/wait.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import { loadConfig } from '../../src/config/config.ts';
import { createLogger, startServer } from '../../src/app/serve.ts';
import { startWatch } from '../../src/watch/start-watch.ts';
import type { BouncerSource } from '../../src/watch/sources.ts';
import type { WatchSettings } from '../../src/watch/watch-config.ts';
import { Store } from '../../src/store/store.ts';
import { hashApiKey } from '../../src/core/bouncers/api-key.ts';
import { cliRunner } from '../support/cli.ts';
import { createBouncer } from '../../src/store/bouncers.ts';

const BIN = fileURLToPath(new URL('../../bin/vigil.js', import.meta.url));
const T0 = Date.UTC(2026, 10, 24, 4, 17, 15);
const silent = createLogger('silent', () => {});

/** CrowdSec holds one bouncer, `cs-nginx`, that Vigil never registered. */
const crowdsec: BouncerSource = {
  description: 'test CrowdSec',
  kind: 'sqlite',
  read: async () => ({
    bouncers: [
      {
        name: 'cs-nginx',
        ipAddress: '127.0.0.1',
        type: 'crowdsec-nginx-bouncer',
        version: 'v1.0.8',
        revoked: false,
        authType: 'api-key',
        createdAt: T0,
        lastPullAt: T0,
        autoCreated: false,
      },
    ],
    usageMetricsAt: new Map(),
  }),
  close: async () => {},
};

const watchSettings: WatchSettings = {
  source: { type: 'cscli', command: ['cscli'], from: 'test' },
  pollEveryMs: 30_000,
  listen: null,
  runbook: { lapiUrl: 'http://127.0.0.1:8080/', deployment: 'host' },
  lapiUrlIsDefault: false,
};

/** Every row a refusal must leave alone. */
async function snapshot(url: string) {
  const s = await Store.open(url);
  try {
    return {
      bouncers: await dbOf(s).selectFrom('bouncers').selectAll().orderBy('id').execute(),
      meta: await dbOf(s).selectFrom('vigil_meta').selectAll().orderBy('key').execute(),
      starts: await dbOf(s).selectFrom('lapi_starts').selectAll().orderBy('id').execute(),
    };
  } finally {
    await s.close();
  }
}

function cli(env: NodeJS.ProcessEnv, cwd: string) {
  return cliRunner(() => ({ env, cwd, clock: new ManualClock(T0) }));
}

/** Runs the real binary; kills it after `limitMs` (the test then fails on `timedOut`). */
function runBin(args: string[], opts: { env?: NodeJS.ProcessEnv; limitMs: number; cwd?: string }) {
  return new Promise<{ code: number | null; out: string; timedOut: boolean; ms: number }>((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { PATH: process.env.PATH, ...opts.env },
      cwd: opts.cwd ?? os.tmpdir(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.limitMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, timedOut, ms: Date.now() - started });
    });
  });
}

for (const dialect of DIALECTS) {
  describe(`${dialect}: vigil watch and vigil serve never share a store`, () => {
    let url: string;
    let cleanup: () => Promise<void>;
    beforeEach(async () => {
      ({ url, cleanup } = await freshDbUrl(dialect));
    });
    afterEach(async () => cleanup());

    it('vigil watch on a store vigil serve used refuses at once, naming the store and the fix, and changes nothing', async () => {
      const config = loadConfig({ flags: { db: url, listen: '127.0.0.1:0', metricsListen: 'off', adminListen: 'off' }, env: {}, cwd: os.tmpdir() });
      const server = await startServer(config, { clock: new ManualClock(T0), log: silent });
      await createBouncer(server.store, { name: 'nginx', apiKeyHash: hashApiKey('a'.repeat(32)), now: T0 });
      await server.close();
      const before = await snapshot(url);

      let watch: Awaited<ReturnType<typeof startWatch>> | undefined;
      const refused = await startWatch(config, watchSettings, { clock: new ManualClock(T0), log: silent, source: crowdsec, poll: false })
        .then(async (w) => {
          watch = w;
          await w.watcher.pollOnce();
          return undefined;
        })
        .catch((e: Error & { code?: string }) => e);
      await watch?.close();

      expect(refused?.message).toMatch(
        /^store \S+ is vigil serve's \(its bouncers and their keys\): watch would delete serve's bouncers.*give vigil watch a store of its own, e\.g\. --db \S+/,
      );
      expect(refused?.code).toBe('E_STORE_ROLE');
      if (dialect === 'postgres') expect(refused?.message).not.toContain(':vigil@');
      expect(await snapshot(url)).toEqual(before);
      expect(before.bouncers.map((b) => b.name)).toEqual(['nginx']);
    });

    it('vigil serve on a store vigil watch used refuses at once and changes nothing', async () => {
      const config = loadConfig({ flags: { db: url, listen: '127.0.0.1:0', metricsListen: 'off', adminListen: 'off' }, env: {}, cwd: os.tmpdir() });
      const watch = await startWatch(config, watchSettings, { clock: new ManualClock(T0), log: silent, source: crowdsec, poll: false });
      await watch.watcher.pollOnce();
      await watch.close();
      const before = await snapshot(url);
      expect(before.bouncers.map((b) => b.name)).toEqual(['cs-nginx']);

      const refused = await startServer(config, { clock: new ManualClock(T0), log: silent }).then(
        async (s) => {
          await s.close();
          return undefined;
        },
        (e: Error & { code?: string }) => e,
      );
      expect(refused?.code).toBe('E_STORE_ROLE');
      expect(refused?.message).toMatch(/^store \S+ is vigil watch's .*give vigil serve a store of its own, e\.g\. --db \S+/);
      expect(await snapshot(url)).toEqual(before);
    });

    it('a store from before the role was recorded is recognised by its contents', async () => {
      // Written as an older vigil serve left it: a keyed bouncer, no store_role row.
      const s = await Store.open(url);
      await createBouncer(s, { name: 'nginx', apiKeyHash: hashApiKey('b'.repeat(32)), now: T0 });
      await s.close();
      const before = await snapshot(url);
      const config = loadConfig({ flags: { db: url }, env: {}, cwd: os.tmpdir() });
      await expect(startWatch(config, watchSettings, { clock: new ManualClock(T0), log: silent, source: crowdsec, poll: false })).rejects.toMatchObject({
        code: 'E_STORE_ROLE',
      });
      expect(await snapshot(url)).toEqual(before);
    });
  });
}

describe('the default store does not depend on the working directory', () => {
  let home: string;
  beforeEach(() => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-attack-store-'));
  });
  afterEach(() => fs.rmSync(home, { recursive: true, force: true }));

  it('a read command never creates a store: it fails naming the path and where the setting came from', async () => {
    const data = path.join(home, 'data');
    const cwd = fs.mkdtempSync(path.join(home, 'elsewhere-'));
    const vigil = cli({ VIGIL_DATA_DIR: data }, cwd);
    for (const argv of [
      ['decisions', 'list'],
      ['bouncers', 'list'],
      ['issues', 'list'],
      ['bouncers', 'inspect', 'x'],
    ]) {
      const r = await vigil(...argv);
      expect(r.code, argv.join(' ')).toBe(1);
      expect(r.err).toBe(
        `level=fatal msg="no Vigil store at ${path.join(data, 'vigil.db')} (db from default): run "vigil serve" or "vigil bouncers add" first, or pass --db"\n`,
      );
    }
    expect(fs.existsSync(data)).toBe(false);
    expect(fs.existsSync(path.join(cwd, 'data'))).toBe(false);
  });

  it('a write creates the store in the data directory, says so once, and every folder then sees the same store', async () => {
    const data = path.join(home, 'data');
    const first = fs.mkdtempSync(path.join(home, 'one-'));
    const second = fs.mkdtempSync(path.join(home, 'two-'));
    const add = await cli({ VIGIL_DATA_DIR: data }, first)('decisions', 'add', '--ip', '192.0.2.1');
    expect(add.code).toBe(0);
    expect(add.err).toBe(`level=info msg="created a new store at ${path.join(data, 'vigil.db')}"\nlevel=info msg="Decision successfully added"\n`);
    const list = await cli({ VIGIL_DATA_DIR: data }, second)('decisions', 'list', '-o', 'json');
    expect(list.code).toBe(0);
    expect(JSON.parse(list.out)[0].decisions[0].value).toBe('192.0.2.1');
    const again = await cli({ VIGIL_DATA_DIR: data }, second)('decisions', 'add', '--ip', '192.0.2.2');
    expect(again.err).toBe('level=info msg="Decision successfully added"\n');
  });

  it('without VIGIL_DATA_DIR a user store lives under XDG_DATA_HOME, never in the working directory', async () => {
    const xdg = path.join(home, 'xdg');
    const config = loadConfig({ env: { XDG_DATA_HOME: xdg, HOME: home }, cwd: home, uid: 1000, systemConfigFile: null });
    expect(config).toMatchObject({ db: `sqlite:${path.join(xdg, 'vigil', 'vigil.db')}`, dbSource: 'default' });
    expect(loadConfig({ env: { HOME: home }, cwd: home, uid: 1000, systemConfigFile: null }).db).toBe(
      `sqlite:${path.join(home, '.local', 'share', 'vigil', 'vigil.db')}`,
    );
    expect(loadConfig({ env: {}, cwd: home, uid: 0, systemConfigFile: null }).db).toBe('sqlite:/var/lib/vigil/vigil.db');
  });

  it('a relative db in vigil.yaml is relative to that file, from any folder', async () => {
    const etc = path.join(home, 'etc');
    fs.mkdirSync(etc);
    fs.writeFileSync(path.join(etc, 'vigil.yaml'), 'db: sqlite:./store/vigil.db\n');
    const cwd = fs.mkdtempSync(path.join(home, 'cwd-'));
    const vigil = cli({}, cwd);
    expect((await vigil('--config', path.join(etc, 'vigil.yaml'), 'bouncers', 'add', 'nginx')).code).toBe(0);
    expect(fs.existsSync(path.join(etc, 'store', 'vigil.db'))).toBe(true);
    const list = await cli({ VIGIL_CONFIG: path.join(etc, 'vigil.yaml') }, home)('bouncers', 'list', '-o', 'json');
    expect(JSON.parse(list.out).map((b: { name: string }) => b.name)).toEqual(['nginx']);
    const missing = await cli({}, cwd)('--config', path.join(etc, 'vigil.yaml'), '--db', 'sqlite:nope.db', 'issues', 'list');
    expect(missing.err).toContain(`no Vigil store at ${path.join(cwd, 'nope.db')} (db from --db)`);
  });
});

describe('an unusable store fails at once, naming it', () => {
  it('sqlite under /proc (uncreatable) fails in well under a second with the path', async () => {
    const r = await runBin(['--db', 'sqlite:/proc/vigil-x/vigil.db', 'bouncers', 'add', 'nginx'], { limitMs: 5000 });
    expect(r.timedOut, 'vigil hung on sqlite:/proc/vigil-x/vigil.db').toBe(false);
    expect(r.code).toBe(1);
    expect(r.out).toContain('cannot create directory /proc/vigil-x');
    expect(r.out).toContain('sqlite:/proc/vigil-x/vigil.db');
    expect(r.ms).toBeLessThan(3000); // process start included; the open itself takes milliseconds
  });

  it('a PostgreSQL server that accepts and never answers is a timeout with the masked URL, not a hang', async () => {
    const sockets: net.Socket[] = [];
    const blackHole = net.createServer((s) => void sockets.push(s));
    await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', resolve));
    const port = (blackHole.address() as net.AddressInfo).port;
    try {
      const r = await runBin(['--db', `postgres://vigil:Sup3rS3cret@127.0.0.1:${port}/vigil`, 'bouncers', 'list'], { limitMs: 12_000 });
      expect(r.timedOut, 'vigil hung on a silent PostgreSQL').toBe(false);
      expect(r.code).toBe(1);
      expect(r.out).toContain(`cannot connect`);
      expect(r.out).toContain(`postgres://vigil:***@127.0.0.1:${port}/vigil`);
      expect(r.out).not.toContain('Sup3rS3cret');
      expect(r.ms).toBeLessThan(9000); // the 5 s connect timeout and a process start
    } finally {
      for (const s of sockets) s.destroy();
      blackHole.close();
    }
  });

  it('a closed PostgreSQL port fails at once', async () => {
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const r = await runBin(['--db', `postgres://vigil@127.0.0.1:${port}/vigil?password=Sup3rS3cret`, 'decisions', 'list'], { limitMs: 8000 });
    expect(r.code).toBe(1);
    expect(r.out).toContain('ECONNREFUSED');
    expect(r.out).toContain(`postgres://vigil@127.0.0.1:${port}/vigil?password=***`);
    expect(r.out).not.toContain('Sup3rS3cret');
  });
});

describe('store files are private', () => {
  let dir: string;
  let umask: number;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-attack-mode-'));
    // The usual umask: files would be 0644 unless Vigil asks for less.
    umask = process.umask(0o022);
  });
  afterEach(() => {
    process.umask(umask);
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const mode = (p: string) => (fs.statSync(p).mode & 0o777).toString(8).padStart(4, '0');

  it('a new store is 0600 (with its -wal and -shm) in a 0700 directory Vigil creates', async () => {
    fs.chmodSync(dir, 0o755);
    const file = path.join(dir, 'new', 'deeper', 'vigil.db');
    const config = loadConfig({ flags: { db: `sqlite:${file}`, listen: '127.0.0.1:0', metricsListen: 'off' }, env: {}, cwd: dir });
    const server = await startServer(config, { clock: new ManualClock(T0), log: silent });
    try {
      expect(mode(file)).toBe('0600');
      expect(mode(`${file}-wal`)).toBe('0600');
      expect(mode(`${file}-shm`)).toBe('0600');
      expect(mode(path.join(dir, 'new'))).toBe('0700');
      expect(mode(path.join(dir, 'new', 'deeper'))).toBe('0700');
    } finally {
      await server.close();
    }
    // An existing directory is the operator's: left as it was.
    expect(mode(dir)).toBe('0755');
  });

  it('vigil serve refuses a store other users can read, naming the chmod; the CLI warns', async () => {
    const file = path.join(dir, 'vigil.db');
    const config = loadConfig({ flags: { db: `sqlite:${file}`, listen: '127.0.0.1:0', metricsListen: 'off' }, env: {}, cwd: dir });
    const server = await startServer(config, { clock: new ManualClock(T0), log: silent });
    await server.close();
    fs.chmodSync(file, 0o644);
    await expect(startServer(config, { clock: new ManualClock(T0), log: silent })).rejects.toThrow(
      `store ${file} is readable by other users (mode 0644): run chmod 600 ${file}`,
    );
    const r = await cli({ VIGIL_DB: `sqlite:${file}` }, dir)('bouncers', 'list');
    expect(r.code).toBe(0);
    expect(r.err).toBe(
      `level=warning msg="store ${file} is readable by other users (mode 0644): run chmod 600 ${file} (vigil serve refuses to start until then)"\n`,
    );
    expect(mode(file)).toBe('0644');
  });
});

describe('no password in any output', () => {
  it('vigil serve on PostgreSQL logs the store without its password, and its errors too', async () => {
    const admin = inject('pgUrl');
    if (!DIALECTS.includes('postgres') || !admin) return;
    const { url, cleanup } = await freshDbUrl('postgres');
    const u = new URL(url);
    const password = decodeURIComponent(u.password);
    try {
      // A wrong password in the query string, as libpq accepts it: the error line must not echo it.
      const wrong = new URL(url);
      wrong.password = '';
      wrong.searchParams.set('password', 'Wr0ngPassw0rd');
      const bad = await runBin(['--db', wrong.toString(), 'serve', '--listen', '127.0.0.1:0'], { limitMs: 15_000, env: { VIGIL_METRICS_LISTEN: 'off' } });
      expect(bad.code).toBe(1);
      expect(bad.out).toContain('cannot connect');
      expect(bad.out).not.toContain('Wr0ngPassw0rd');

      // The right one: serve starts, logs its store, stops on SIGTERM; nothing it printed holds the password.
      const child = spawn(process.execPath, [BIN, '--db', url, 'serve', '--listen', '127.0.0.1:0'], {
        env: { PATH: process.env.PATH, VIGIL_METRICS_LISTEN: 'off' },
        cwd: os.tmpdir(),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      try {
        await eventually('vigil serve to log where it listens, or exit', () => out.includes('listening on') || child.exitCode !== null, 15_000);
      } finally {
        child.kill('SIGTERM');
        await new Promise((r) => child.on('close', r));
      }
      expect(out).toContain('listening on');
      expect(out).toContain(`${u.protocol}//${u.username}:***@${u.host}`);
      expect(password.length).toBeGreaterThan(2);
      expect(out).not.toContain(`:${password}@`);
    } finally {
      await cleanup();
    }
  });
});
