#!/usr/bin/env -S node --max-semi-space-size=8
// A smaller young generation (8 MB semi-spaces, Node's default is larger) keeps `vigil serve` ~60 MB
// smaller with 100k decisions in memory, with the same throughput (README "Benchmarks").
//
// Two layouts: a checkout runs src/*.ts on Node's type stripping; an installed package (npm pack,
// npm install -g) has no src/ and runs the JavaScript that prepack built into dist/. The Node
// version Vigil needs is stated once, in package.json's `engines`. An older Node on PATH (Debian's
// Node 20) hands over to the Node that `npm install` brought (the `node` devDependency), so
// `vigil` works from PATH after `npm link` as well as through `npx vigil`.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import module from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const fromSource = fs.existsSync(new URL('../src/cli/main.ts', import.meta.url));
const pkg = JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const wanted = /^>=\s*(\d+)(?:\.(\d+))?/.exec(pkg.engines?.node ?? '') ?? [null, '24', '0'];
const [wantMajor, wantMinor] = [Number(wanted[1]), Number(wanted[2] ?? 0)];
const [major, minor] = process.versions.node.split('.').map(Number);

if (major < wantMajor || (major === wantMajor && minor < wantMinor)) {
  const bundled = `${root}node_modules/node/bin/node`;
  if (process.env.VIGIL_REEXEC !== '1' && fs.existsSync(bundled)) {
    const child = spawn(
      bundled,
      [
        '--max-semi-space-size=8',
        ...process.execArgv.filter((a) => !a.startsWith('--max-semi-space-size')),
        fileURLToPath(import.meta.url),
        ...process.argv.slice(2),
      ],
      {
        stdio: 'inherit',
        env: { ...process.env, VIGIL_REEXEC: '1' },
      },
    );
    // `vigil serve` under systemd or a terminal: the signal that stops us stops it.
    for (const sig of /** @type {const} */ (['SIGTERM', 'SIGINT', 'SIGHUP'])) process.on(sig, () => child.kill(sig));
    child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 : 1)));
  } else {
    process.stderr.write(
      `level=fatal msg="vigil needs Node.js ${pkg.engines?.node ?? '>=24'} (this is ${process.version}): install a newer Node, or run 'npm install' in ${root} to bring one"\n`,
    );
    process.exit(1);
  }
} else {
  enableCompileCache();
  const entry = fromSource ? '../src/cli' : '../dist/cli';
  const ext = fromSource ? 'ts' : 'js';
  const { main } = await import(`${entry}/main.${ext}`);
  const { processIo } = await import(`${entry}/io.${ext}`);
  const code = await main(process.argv.slice(2), processIo());
  process.exitCode = code;
  // serve keeps no handles after close; other commands are done: leave promptly. A serve that
  // failed to start leaves at once too, whatever is still pending (a unit with Restart=always
  // must see it exit; stdout and stderr are synchronous on Linux, so its last line is written).
  if (process.argv[2] !== 'serve' || code !== 0) process.exit(code);
}

/**
 * Node's compile cache (V8's code cache and, in a checkout, the TypeScript already stripped): a
 * start ~0.5 s shorter (`vigil serve` with 1M decisions: docs/benchmarks.md). In systemd's
 * CacheDirectory, else ~/.cache/vigil, else none: only in a directory this user alone can write,
 * since what the cache holds is run. VIGIL_COMPILE_CACHE names another directory, or `off`.
 */
function enableCompileCache() {
  const asked = process.env.VIGIL_COMPILE_CACHE;
  if (asked === 'off' || typeof module.enableCompileCache !== 'function') return;
  const systemd = process.env.CACHE_DIRECTORY?.split(':')[0];
  const dir =
    asked || (systemd ? path.join(systemd, 'compile') : path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'vigil', 'compile'));
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = fs.statSync(dir);
    if (st.uid !== process.getuid?.() || (st.mode & 0o022) !== 0) return;
    module.enableCompileCache(dir);
    // The cache is written at exit; a service may never exit cleanly (killed, a crash): serve writes
    // what its start loaded just before it listens (app/lapi-listeners.ts), another long run 15 s in.
    if (process.argv[2] !== 'serve') setTimeout(() => module.flushCompileCache?.(), 15_000).unref();
  } catch {
    // No cache (a read-only home, no home): the same start as before.
  }
}
