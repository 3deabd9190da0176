import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/processes.ts';
import { until } from '../support/wait.ts';
import { dpkg, has, notifySocket, ok, run, unitService, type NotifySocket } from './support.ts';

/**
 * The Debian package (issue 30 item 3), for real on this machine: `npm run package:deb` builds it,
 * `dpkg -i` installs it, `vigil serve` runs as the vigil user with the unit's own lines (systemd is
 * not PID 1 here, so the test plays the service manager, notification socket included), the units
 * pass `systemd-analyze verify`, a newer build upgrades it keeping the store and the edited
 * conffile, and `dpkg --purge` takes everything away: no package, no user, no /var/lib/vigil.
 */
const ROOT = path.resolve(import.meta.dirname, '../..');
const UNIT_DIR = '/lib/systemd/system';
const WANTS = (unit: string) => `/etc/systemd/system/multi-user.target.wants/${unit}`;
const SAVED_DATA = `/var/lib/vigil.saved-by-dist-test-${process.pid}`;

let work: string;
let deb1: string;
let deb2: string;
let movedDataDir = false;

function installed(): boolean {
  return fs.existsSync('/var/lib/dpkg/info/vigil.list');
}

async function purge(): Promise<void> {
  if (installed()) await dpkg('--purge', 'vigil');
}

beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error('test:dist installs a package: run it as root');
  for (const tool of ['dpkg-deb', 'systemd-analyze', 'setpriv', 'python3']) {
    if (!has(tool)) throw new Error(`${tool} not found: bash scripts/install-dist-tools.sh`);
  }
  // The machine is shared: a vigil package or user that is not ours is left alone.
  if (installed()) throw new Error('a vigil package is already installed here: dpkg --purge vigil first (this test installs and purges its own)');
  if ((await run('getent', ['passwd', 'vigil'])).code === 0) throw new Error('a vigil user exists here and is not this test’s: remove it first');
  if (fs.existsSync('/var/lib/vigil')) {
    fs.renameSync('/var/lib/vigil', SAVED_DATA);
    movedDataDir = true;
  }
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-deb-'));
  const out = path.join(work, 'packages');
  const built = await ok('bash', [path.join(ROOT, 'scripts/package-deb.sh')], {
    cwd: ROOT,
    env: { ...process.env, VIGIL_DEB_VERSION: '0.1.0~dist1', VIGIL_DEB_OUT: out },
  });
  deb1 = built.trim().split('\n').at(-1)!;
  // The newer build: the same tree as a later version, whose packaged vigil.yaml changed too (so
  // dpkg meets an edited conffile that the package also changed: the case where it must ask).
  const tree = path.join(work, 'tree');
  await ok('dpkg-deb', ['-R', deb1, tree]);
  const control = path.join(tree, 'DEBIAN/control');
  fs.writeFileSync(control, fs.readFileSync(control, 'utf8').replace(/^Version: .*$/m, 'Version: 0.1.0~dist2'));
  fs.appendFileSync(path.join(tree, 'etc/vigil/vigil.yaml'), '# a line added by the newer build\n');
  fs.writeFileSync(path.join(tree, 'usr/lib/vigil/BUILD'), 'dist2\n');
  deb2 = path.join(out, 'vigil_0.1.0~dist2_amd64.deb');
  // Fastest compression: only this test installs it.
  await ok('dpkg-deb', ['--root-owner-group', '-Zgzip', '-z1', '--build', tree, deb2]);
}, 900_000);

afterAll(async () => {
  await purge();
  if ((await run('getent', ['passwd', 'vigil'])).code === 0) await run('userdel', ['vigil']);
  if ((await run('getent', ['group', 'vigil'])).code === 0) await run('groupdel', ['vigil']);
  if (movedDataDir) {
    fs.rmSync('/var/lib/vigil', { recursive: true, force: true });
    fs.renameSync(SAVED_DATA, '/var/lib/vigil');
  }
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

/** The unit's way of running `command` (ExecStartPre=, ExecStart=): its user, environment and umask. */
function asTheUnit(command: string, extraEnv: Record<string, string> = {}): { bin: string; args: string[] } {
  const service = unitService(path.join(UNIT_DIR, 'vigil.service'));
  const value = (key: string) => service.find(([k]) => k === key)?.[1];
  const env = service.filter(([k]) => k === 'Environment').map(([, v]) => v);
  // systemd gives a service a minimal environment: PATH and what the unit sets, nothing of ours.
  const vars = ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', ...env, ...Object.entries(extraEnv).map(([k, v]) => `${k}=${v}`)];
  return {
    bin: 'setpriv',
    args: [
      `--reuid=${value('User')}`,
      `--regid=${value('Group')}`,
      '--init-groups',
      '--inh-caps=-all',
      'env',
      '-i',
      ...vars,
      'sh',
      '-c',
      `umask ${value('UMask')}; exec "$@"`,
      'sh',
      ...command.split(' '),
    ],
  };
}

describe('the Debian package', () => {
  let serve: ChildProcess | undefined;
  let serveLog = '';
  let notify: NotifySocket | undefined;
  let key = '';
  let url = '';

  afterAll(() => {
    if (serve && serve.exitCode === null) serve.kill('SIGKILL');
    notify?.close();
    if (notify) fs.rmSync(path.dirname(notify.path), { recursive: true, force: true });
  });

  it('dpkg -i installs Vigil with its own Node, the vigil user, /var/lib/vigil 0700, the conffile and the units', async () => {
    await dpkg('-i', deb1);
    expect(await ok('dpkg-query', ['-W', '-f=${Version} ${Status}', 'vigil'])).toBe('0.1.0~dist1 install ok installed');
    // Its own Node, whatever the system's is (Debian's is 18 or 20: too old).
    expect((await ok('/usr/lib/vigil/node/bin/node', ['-v'])).trim()).toMatch(/^v(2[4-9]|[3-9]\d)\./);
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect((await ok('/usr/bin/vigil', ['--version'])).trim()).toBe(pkg.version);
    const user = (await ok('getent', ['passwd', 'vigil'])).trim().split(':');
    expect(Number(user[2])).toBeLessThan(1000);
    expect(user[6]).toBe('/usr/sbin/nologin');
    const data = fs.statSync('/var/lib/vigil');
    expect(data.mode & 0o777).toBe(0o700);
    expect(data.uid).toBe(Number(user[2]));
    expect((await ok('dpkg-query', ['-W', '-f=${Conffiles}', 'vigil'])).trim()).toMatch(/^\/etc\/vigil\/vigil\.yaml [0-9a-f]{32}$/);
    const conf = fs.statSync('/etc/vigil/vigil.yaml');
    expect(conf.mode & 0o777).toBe(0o640);
    for (const unit of ['vigil.service', 'vigil-watch.service']) expect(fs.existsSync(path.join(UNIT_DIR, unit))).toBe(true);
    // Enabled as debhelper would (a symlink even where systemd is not running); watch is not.
    expect(fs.readlinkSync(WANTS('vigil.service'))).toBe(path.join(UNIT_DIR, 'vigil.service'));
    expect(fs.existsSync(WANTS('vigil-watch.service'))).toBe(false);
  });

  it('systemd-analyze verify accepts both units', async () => {
    const r = await run('systemd-analyze', ['verify', path.join(UNIT_DIR, 'vigil.service'), path.join(UNIT_DIR, 'vigil-watch.service')]);
    // Only lines about our units count: verify also loads the dependencies' units of this host.
    const ours = `${r.stdout}${r.stderr}`.split('\n').filter((l) => /vigil/.test(l));
    expect(ours).toEqual([]);
    expect(r.code).toBe(0);
  });

  it('the unit hardening of docs/operations.md, Type=notify, ExecStartPre=vigil serve -t, ExecReload=SIGHUP', () => {
    const service = Object.fromEntries(unitService(path.join(UNIT_DIR, 'vigil.service')));
    expect(service).toMatchObject({
      Type: 'notify',
      User: 'vigil',
      ExecStartPre: '/usr/bin/vigil serve -t',
      ExecStart: '/usr/bin/vigil serve',
      ExecReload: '/bin/kill -HUP $MAINPID',
      NoNewPrivileges: 'yes',
      CapabilityBoundingSet: '',
      ProtectSystem: 'strict',
      ReadWritePaths: '/var/lib/vigil',
      StateDirectory: 'vigil',
      StateDirectoryMode: '0700',
      UMask: '0077',
    });
  });

  it('runs as the unit would: serve -t passes, serve tells systemd READY=1 once it listens, a bouncer pulls a decision, SIGHUP reloads', async () => {
    // The operator's edit (a conffile change): ports of the test's own, 8080 and 6071 stay free.
    const port = await freePort();
    const metrics = await freePort();
    const conf = fs
      .readFileSync('/etc/vigil/vigil.yaml', 'utf8')
      .replace(/^listen: .*$/m, `listen: 127.0.0.1:${port}`)
      .replace(/^metrics_listen: .*$/m, `metrics_listen: 127.0.0.1:${metrics}`);
    fs.writeFileSync('/etc/vigil/vigil.yaml', conf);
    url = `http://127.0.0.1:${port}`;

    const pre = asTheUnit('/usr/bin/vigil serve -t');
    const test = await run(pre.bin, pre.args);
    expect(test.stdout).toContain(`listen 127.0.0.1:${port}: free`);
    expect(test.stdout).toContain('store sqlite:/var/lib/vigil/vigil.db: ok (created)');
    expect(test.code).toBe(0);

    // systemd's socket is reachable by every service user: so must this one be.
    const notifyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-notify-'));
    fs.chmodSync(notifyDir, 0o755);
    notify = await notifySocket(notifyDir);
    const start = asTheUnit('/usr/bin/vigil serve', { NOTIFY_SOCKET: notify.path });
    serve = spawn(start.bin, start.args, { stdio: ['ignore', 'pipe', 'pipe'] });
    serve.stdout!.on('data', (d: Buffer) => (serveLog += d.toString()));
    serve.stderr!.on('data', (d: Buffer) => (serveLog += d.toString()));
    const ready = await until(
      'READY=1 on the notify socket',
      () => notify!.messages().find((m) => m.includes('READY=1')),
      () => serveLog,
      30_000,
    );
    // Sent once the Local API answers, naming serve (setpriv, env, sh and /usr/bin/vigil all exec) as the main process.
    expect(ready).toContain(`MAINPID=${serve.pid}`);
    expect((await fetch(`${url}/health`, { signal: AbortSignal.timeout(10_000) })).status).toBe(200);
    // Node itself, as the vigil user (the unit's main process).
    const status = fs.readFileSync(`/proc/${serve.pid}/status`, 'utf8');
    const uid = (await ok('id', ['-u', 'vigil'])).trim();
    expect(status).toMatch(new RegExp(`^Uid:\\s+${uid}\\s`, 'm'));
    expect(fs.readlinkSync(`/proc/${serve.pid}/exe`)).toBe('/usr/lib/vigil/node/bin/node');

    // root's CLI on serve's store (`sudo vigil …`) finds it through /etc/vigil/vigil.yaml.
    key = (await ok('/usr/bin/vigil', ['bouncers', 'add', 'deb-bouncer', '-o', 'raw'], { cwd: '/' })).trim();
    await ok('/usr/bin/vigil', ['decisions', 'add', '--ip', '192.0.2.41', '--duration', '1h', '--reason', 'dist test'], { cwd: '/' });
    const pulled = await until(
      'the decision in a pull',
      async () => {
        const r = await fetch(`${url}/v1/decisions?ip=192.0.2.41`, { headers: { 'X-Api-Key': key }, signal: AbortSignal.timeout(10_000) });
        const body = (await r.json()) as Array<{ value: string }> | null;
        return body?.[0];
      },
      () => serveLog,
    );
    expect(pulled.value).toBe('192.0.2.41');
    // Every file of the store stays the vigil user's, though root's CLI wrote to it.
    for (const f of fs.readdirSync('/var/lib/vigil')) expect(fs.statSync(path.join('/var/lib/vigil', f)).uid, f).toBe(Number(uid));

    // ExecReload=/bin/kill -HUP $MAINPID
    await ok('/bin/kill', ['-HUP', String(serve.pid)]);
    await until(
      'the reload line',
      () => (/reloaded \/etc\/vigil\/vigil\.yaml/.test(serveLog) ? true : undefined),
      () => serveLog,
    );
    expect(serve.exitCode).toBeNull();

    // ExecStartPre while it runs (an operator checking an edit): its ports are in use by itself.
    const again = await run(pre.bin, pre.args);
    expect(again.stdout).toContain(`listen 127.0.0.1:${port}: in use, by the vigil serve running on this store (pid ${serve.pid})`);
    expect(again.code).toBe(0);

    serve.kill('SIGTERM');
    await until(
      'serve to stop',
      () => (serve!.exitCode !== null ? true : undefined),
      () => serveLog,
    );
    expect(serve.exitCode).toBe(0);
  });

  it('ExecStartPre refuses to start serve on a port another program holds, naming it', async () => {
    const port = Number(/listen: 127\.0\.0\.1:(\d+)/.exec(fs.readFileSync('/etc/vigil/vigil.yaml', 'utf8'))![1]);
    const net = await import('node:net');
    const holder = net.createServer();
    await new Promise<void>((r) => holder.listen(port, '127.0.0.1', () => r()));
    try {
      const pre = asTheUnit('/usr/bin/vigil serve -t');
      const r = await run(pre.bin, pre.args);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`listen 127.0.0.1:${port}: address already in use`);
    } finally {
      await new Promise((r) => holder.close(r));
    }
  });

  it('upgrades to a newer build: the store and the edited conffile are kept', async () => {
    const edited = fs.readFileSync('/etc/vigil/vigil.yaml', 'utf8');
    // The operator's answer to dpkg's conffile question, given ahead: keep mine.
    await dpkg('-i', '--force-confold', deb2);
    expect(await ok('dpkg-query', ['-W', '-f=${Version} ${Status}', 'vigil'])).toBe('0.1.0~dist2 install ok installed');
    expect(fs.readFileSync('/usr/lib/vigil/BUILD', 'utf8')).toBe('dist2\n');
    expect(fs.readFileSync('/etc/vigil/vigil.yaml', 'utf8')).toBe(edited);
    expect(fs.readFileSync('/etc/vigil/vigil.yaml.dpkg-dist', 'utf8')).toContain('# a line added by the newer build');
    const bouncers = JSON.parse(await ok('/usr/bin/vigil', ['bouncers', 'list', '-o', 'json'], { cwd: '/' })) as Array<{ name: string }>;
    expect(bouncers.map((b) => b.name)).toEqual(['deb-bouncer']);
    expect(fs.statSync('/var/lib/vigil').mode & 0o777).toBe(0o700);
    // And the upgraded serve still answers the bouncer's key.
    const pre = asTheUnit('/usr/bin/vigil serve -t');
    expect((await run(pre.bin, pre.args)).code).toBe(0);
  });

  it('dpkg --purge leaves nothing: no package, no vigil user or group, no /var/lib/vigil, no /etc/vigil', async () => {
    await dpkg('--purge', 'vigil');
    expect(installed()).toBe(false);
    expect((await run('getent', ['passwd', 'vigil'])).code).not.toBe(0);
    expect((await run('getent', ['group', 'vigil'])).code).not.toBe(0);
    expect(fs.existsSync('/var/lib/vigil')).toBe(false);
    expect(fs.existsSync('/etc/vigil')).toBe(false);
    expect(fs.existsSync('/usr/bin/vigil')).toBe(false);
    expect(fs.existsSync('/usr/lib/vigil')).toBe(false);
    expect(fs.existsSync(WANTS('vigil.service'))).toBe(false);
  });
});
