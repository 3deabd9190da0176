import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { main } from '../../src/cli/main.ts';
import type { CliIo } from '../../src/cli/io.ts';
import { type Clock, ManualClock, systemClock } from '../../src/lib/clock.ts';
import { Store } from '../../src/store/store.ts';
import { freshDbUrl, withStoreAt, type TestDialect } from './databases.ts';

/** What one `vigil …` run printed, and its exit code. */
export interface CliRun {
  code: number;
  out: string;
  err: string;
}

/** Where a run happens: its environment (e.g. VIGIL_DB), working directory and clock (default the system's). */
export interface CliContext {
  env?: NodeJS.ProcessEnv;
  cwd: string;
  clock?: Clock;
}

/**
 * Runs `vigil …argv` in-process through main(argv, io), never on a terminal. Log lines quote their
 * msg with JSON.stringify; `err` has the `\"` inside unescaped, so tests compare with the message
 * as written.
 */
export async function runVigil(ctx: CliContext, argv: string[]): Promise<CliRun> {
  let out = '';
  let err = '';
  const io: CliIo = {
    stdout: (t) => (out += t),
    stderr: (t) => (err += t),
    env: ctx.env ?? {},
    cwd: ctx.cwd,
    isTTY: false,
    clock: ctx.clock ?? systemClock,
  };
  const code = await main(argv, io);
  return { code, out, err: err.replace(/\\"/g, '"') };
}

/** `vigil(...argv)` over runVigil; `ctx` is read at each call, as tests change their database and folder per test. */
export function cliRunner(ctx: () => CliContext): (...argv: string[]) => Promise<CliRun> {
  return (...argv) => runVigil(ctx(), argv);
}

/** A folder and a database for each test of the enclosing describe, as a CLI test runs in. */
export interface CliWorkspace {
  dir: string;
  dbUrl: string;
}

/**
 * Before each test: a fresh temp folder and a fresh database whose store exists (as once `vigil
 * serve` has run: read commands never create one, a first write would say it created one); both
 * removed after it. The hooks run before the describe's own.
 */
export function useCliWorkspace(dialect: TestDialect, prefix: string): () => CliWorkspace {
  let ws: CliWorkspace | undefined;
  let cleanup: (() => Promise<void>) | undefined;
  beforeEach(async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    const db = await freshDbUrl(dialect);
    cleanup = db.cleanup;
    await (await Store.open(db.url)).close();
    ws = { dir, dbUrl: db.url };
  });
  afterEach(async () => {
    await cleanup?.();
    if (ws) fs.rmSync(ws.dir, { recursive: true, force: true });
  });
  return () => ws!;
}

/**
 * The usual CLI test on `dialect`: a workspace per test (useCliWorkspace), a manual clock set back
 * to `t0` before each, `vigil(...argv)` on the workspace's store and folder, and `withStore` to look
 * inside that store.
 */
export function useCliTest(dialect: TestDialect, prefix: string, t0: number) {
  const workspace = useCliWorkspace(dialect, prefix);
  const clock = new ManualClock(t0);
  beforeEach(() => clock.set(t0));
  return {
    workspace,
    clock,
    vigil: cliRunner(() => ({ env: { VIGIL_DB: workspace().dbUrl }, cwd: workspace().dir, clock })),
    withStore: <T>(fn: (s: Store) => Promise<T>): Promise<T> => withStoreAt(workspace().dbUrl, fn),
  };
}
