import { main } from '../../src/cli/main.ts';
import type { CliIo } from '../../src/cli/io.ts';
import { type Clock, systemClock } from '../../src/lib/clock.ts';

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
