import { terminalSafe } from '../lib/printable.ts';
import type { Clock } from '../lib/clock.ts';
import { systemClock } from '../lib/clock.ts';

/** Everything a command touches outside itself, so tests run `main(argv, io)` in-process. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** stdout is a terminal: colour, progress bars, confirmation prompts. */
  isTTY: boolean;
  clock: Clock;
  /** Resolves when the process is asked to stop (SIGINT/SIGTERM); used by `serve`. */
  stopSignal?: Promise<string>;
  /** Calls `listener` on each reload request (SIGHUP); returns the way to stop listening. Used by `serve`. */
  onReload?: (listener: () => void) => () => void;
}

export function processIo(): CliIo {
  return {
    // Stored text (a machine's alert, a bouncer's User-Agent) never drives the operator's terminal.
    stdout: (t) => process.stdout.write(terminalSafe(t)),
    stderr: (t) => process.stderr.write(t),
    env: process.env,
    cwd: process.cwd(),
    isTTY: Boolean(process.stdout.isTTY),
    clock: systemClock,
    stopSignal: new Promise((resolve) => {
      process.once('SIGINT', () => resolve('SIGINT'));
      process.once('SIGTERM', () => resolve('SIGTERM'));
    }),
    // Only a command that listens turns SIGHUP into a reload; any other keeps Node's default (exit).
    onReload: (listener) => {
      process.on('SIGHUP', listener);
      return () => process.off('SIGHUP', listener);
    },
  };
}

/** cscli logs through logrus; its one-line messages look like this when not on a terminal. */
export function logLine(level: 'info' | 'warning' | 'error' | 'fatal', msg: string): string {
  return `level=${level} msg=${JSON.stringify(msg)}\n`;
}

/** The first-start dashboard password goes to stderr once, never through the log (serve and watch). */
export function firstStartPasswordPrinter(io: CliIo): (password: string, url: string) => void {
  return (password, url) =>
    io.stderr(
      `Dashboard ${url}: first-start password (shown once, stored hashed): ${password}\nLog in with it or with an admin token; set a new one with: vigil admin password\n`,
    );
}
