import { execFile, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../src/lib/clock.ts';
import { freePort, startTestLapi, type TestLapi } from './remediation-helpers.ts';
import { until } from './support/wait.ts';

/**
 * Vigil as an installed package: `npm pack` (its prepack builds dist/ with tsconfig.build.json,
 * scripts/build.sh), `npm install` of the tarball into a fresh project; `vigil serve` and the CLI
 * run from that copy's built JavaScript; and `vigil/bouncer` as another project gets it: `npm install` of the tarball into a fresh `type: module` project, then a
 * plain-JS script run by Node 26 from that project (Node does not strip types inside node_modules,
 * so this only works with the built JavaScript) pulls from a real `vigil serve`; and a TypeScript
 * consumer is typechecked against the installed .d.ts.
 *
 * The package is packed from a staged copy of the checkout (package.json, bin, src, scripts,
 * tsconfigs, README; node_modules linked) so that the build never touches the shared checkout's dist/ while
 * someone else runs the suite.
 */
const root = path.join(import.meta.dirname, '..');
const node = path.join(root, 'node_modules', '.bin', 'node');
const tsc = path.join(root, 'node_modules', '.bin', 'tsc');

function npm(args: string[], cwd: string): string {
  // npm warns about this machine's `nodedir` setting on stderr; only the exit code matters here.
  return execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, npm_config_update_notifier: 'false' } });
}

describe('vigil/bouncer installed from the packed tarball', () => {
  let tmp: string;
  let consumer: string;
  let tarball: string;
  let lapi: TestLapi;
  let key: string;

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-pack-'));
    const staged = path.join(tmp, 'vigil');
    fs.mkdirSync(staged);
    for (const entry of ['package.json', 'bin', 'src', 'scripts', 'tsconfig.json', 'tsconfig.build.json', 'README.md']) {
      fs.cpSync(path.join(root, entry), path.join(staged, entry), { recursive: true });
    }
    fs.symlinkSync(path.join(root, 'node_modules'), path.join(staged, 'node_modules'), 'dir');
    const name = npm(['pack', '--pack-destination', tmp], staged).trim().split('\n').at(-1)!;
    tarball = path.join(tmp, name);

    consumer = path.join(tmp, 'consumer');
    fs.mkdirSync(consumer);
    fs.writeFileSync(path.join(consumer, 'package.json'), JSON.stringify({ name: 'vigil-consumer', private: true, type: 'module' }));
    // --prefer-offline: the dependencies are in the npm cache since this repository installed them
    // (no network here); the registry only when something is missing. --ignore-scripts: the
    // bouncer loads no native module, and better-sqlite3's build (for `vigil serve`) would need the network.
    npm(['install', tarball, '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund', '--no-package-lock'], consumer);

    lapi = await startTestLapi(systemClock);
    key = await lapi.addBouncer('packaged-bouncer');
    await lapi.addDecision('Ip', '203.0.113.7', 'ban');
    await lapi.addDecision('Range', '2001:db8:bad::/48', 'ban');
    await lapi.addDecision('Ip', '203.0.113.9', 'captcha');
    await lapi.addDecision('Ip', '127.0.0.2', 'ban');
  }, 120_000);

  afterAll(async () => {
    await lapi?.close();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('the tarball holds the built JavaScript with its .d.ts, the bin and the dashboard files, and no sources or tests', () => {
    const files = execFileSync('tar', ['tzf', tarball], { encoding: 'utf8' }).trim().split('\n');
    expect(files).toEqual(
      expect.arrayContaining([
        'package/dist/remediation/index.js',
        'package/dist/remediation/index.d.ts',
        'package/dist/cli/main.js',
        'package/dist/web/client/app.ts',
        'package/dist/web/client/style.css',
        'package/bin/vigil.js',
      ]),
    );
    // No src/: the bin runs dist/ when src/ is absent (Node strips no types inside node_modules).
    expect(files.filter((f) => f.startsWith('package/src/'))).toEqual([]);
    expect(files.filter((f) => f.includes('.test.'))).toEqual([]);
    // Relative imports were rewritten to the emitted .js files.
    const js = fs.readFileSync(path.join(consumer, 'node_modules/vigil/dist/remediation/bouncer.js'), 'utf8');
    expect(js).toMatch(/from '\.\.\/lib\/clock\.js'/);
    expect(js).not.toMatch(/from '[^']+\.ts'/);
  });

  it('the installed copy runs the CLI and `vigil serve` from its built JavaScript', async () => {
    const bin = path.join(consumer, 'node_modules', 'vigil', 'bin', 'vigil.js');
    const db = `sqlite:${path.join(tmp, 'installed', 'vigil.db')}`;
    const run = (args: string[]) => execFileSync(node, [bin, ...args], { cwd: tmp, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const added = run(['bouncers', 'add', 'from-package', '--db', db, '-o', 'raw']).trim();
    expect(added).toMatch(/^\S{16,}$/);
    const port = await freePort();
    const child = spawn(node, [bin, 'serve', '--db', db, '--listen', `127.0.0.1:${port}`], {
      cwd: tmp,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, VIGIL_METRICS_LISTEN: 'off' },
    });
    let log = '';
    child.stdout.on('data', (d) => (log += d));
    child.stderr.on('data', (d) => (log += d));
    try {
      // Fails (with the log) unless the packaged serve answers the added key with 200.
      await until(
        'the packaged vigil serve to answer the added key with 200',
        async () => {
          if (child.exitCode !== null) throw new Error(`vigil serve exited ${child.exitCode}:\n${log}`);
          const status = await fetch(`http://127.0.0.1:${port}/v1/decisions?ip=192.0.2.1`, { headers: { 'X-Api-Key': added } }).then(
            (r) => r.status,
            () => 0,
          );
          return status === 200 || undefined;
        },
        () => log,
        10_000,
        100,
      );
      const pid = child.pid!;
      // The process runs the package's dist/, not a checkout's src/.
      const maps = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      expect(maps).toContain(path.join('node_modules', 'vigil', 'bin', 'vigil.js'));
      expect(fs.existsSync(path.join(consumer, 'node_modules', 'vigil', 'src'))).toBe(false);
    } finally {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
    }
  });

  it('a plain-JS consumer imports it from node_modules, pulls from vigil serve and enforces a ban', async () => {
    const script = path.join(consumer, 'check.mjs');
    fs.writeFileSync(
      script,
      `import { registerHooks } from 'node:module';
import http from 'node:http';
const loaded = [];
registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); loaded.push(r.url); return r; } });
const { createBouncer, withBouncer, BOUNCER_USER_AGENT } = await import('vigil/bouncer');

const bouncer = createBouncer({ apiUrl: process.env.LAPI_URL, apiKey: process.env.VIGIL_BOUNCER_KEY, updateFrequency: '1s' });
await bouncer.ready();
const check = async (ip) => (await bouncer.check(ip)).remediation;

// As an application uses it: node:http behind the middleware; 127.0.0.2 is banned.
const server = http.createServer(withBouncer(bouncer, (req, res) => res.end('hello')));
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const get = (localAddress) => new Promise((resolve, reject) => {
  http.get({ host: '127.0.0.1', port: server.address().port, path: '/', localAddress, agent: false }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode)); }).on('error', reject);
});
const statuses = { banned: await get('127.0.0.2'), clean: await get('127.0.0.1') };
const remediation = { banned: await check('203.0.113.7'), range: await check('2001:db8:bad::1'), captcha: await check('203.0.113.9'), clean: await check('198.51.100.1') };
const healthy = bouncer.healthy;
server.close();
await bouncer.stop();
console.log(JSON.stringify({ ua: BOUNCER_USER_AGENT, healthy, remediation, statuses, loaded }));
`,
    );
    // Asynchronous: the Local API runs in this process and must keep answering.
    const { stdout } = await promisify(execFile)(node, [script], {
      cwd: consumer,
      encoding: 'utf8',
      env: { ...process.env, LAPI_URL: lapi.url, VIGIL_BOUNCER_KEY: key },
      timeout: 20_000,
    });
    const out = JSON.parse(stdout);
    expect(out.ua).toMatch(/^vigil-bouncer\/v\d+\.\d+\.\d+/);
    expect(out.healthy).toBe(true);
    expect(out.remediation).toEqual({ banned: 'ban', range: 'ban', captcha: 'captcha', clean: 'bypass' });
    expect(out.statuses).toEqual({ banned: 403, clean: 200 });
    const loaded = out.loaded as string[];
    // It ran the built JavaScript inside the consumer's node_modules, not the repository's sources.
    const entry = loaded.find((u) => u.endsWith('/remediation/index.js'));
    expect(entry).toBe(`file://${fs.realpathSync(consumer)}/node_modules/vigil/dist/remediation/index.js`);
    expect(loaded.filter((u) => u.endsWith('.ts'))).toEqual([]);
    const heavy = loaded.filter((u) => /node_modules\/(express|fastify|hono|@hono|kysely|better-sqlite3|pg|pino|commander)\//.test(u));
    expect(heavy).toEqual([]);
  });

  it('a TypeScript consumer typechecks against the installed .d.ts', () => {
    fs.writeFileSync(
      path.join(consumer, 'app.ts'),
      `import http from 'node:http';
import { createBouncer, withBouncer, type BouncerOptions, type Verdict, type BouncerHealth } from 'vigil/bouncer';

const options: BouncerOptions = { apiUrl: 'http://127.0.0.1:8080/', apiKey: 'k', mode: 'live', updateFrequency: '10s', trustedProxies: ['10.0.0.0/8'] };
const bouncer = createBouncer(options);
const verdict: Verdict | Promise<Verdict> = bouncer.check('192.0.2.1');
const health: BouncerHealth = bouncer.health();
const healthy: boolean = bouncer.healthy;
http.createServer(withBouncer(bouncer, (_req, res) => res.end('hello')));
// The types are real, not \`any\`: these must be refused.
// @ts-expect-error apiKey is required
createBouncer({ apiUrl: 'http://127.0.0.1:8080/' });
// @ts-expect-error mode is 'stream' or 'live'
createBouncer({ ...options, mode: 'push' });
// @ts-expect-error healthy is a boolean
const wrong: string = bouncer.healthy;
export { verdict, health, healthy, wrong };
`,
    );
    fs.writeFileSync(
      path.join(consumer, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'es2022',
          module: 'nodenext',
          moduleResolution: 'nodenext',
          strict: true,
          noEmit: true,
          // Check the package's own .d.ts too (not only what app.ts touches).
          skipLibCheck: false,
          // @types/node from this repository: the consumer installed no dev dependencies.
          typeRoots: [path.join(root, 'node_modules', '@types')],
          types: ['node'],
        },
        files: ['app.ts'],
      }),
    );
    let output = '';
    try {
      execFileSync(tsc, ['-p', 'tsconfig.json'], { cwd: consumer, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      const err = e as { stdout?: string; stderr?: string };
      output = `${err.stdout ?? ''}${err.stderr ?? ''}`;
    }
    expect(output).toBe('');
  });
});
