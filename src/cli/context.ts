import { Option, type Command } from 'commander';
import { parseDuration } from '../lib/duration.ts';
import { VigilError } from '../lib/errors.ts';
import type { VigilConfig } from '../config/config.ts';
import type { Store } from '../store/store.ts';
import type { CliIo } from './io.ts';

/*
 * What every command module needs from the CLI, apart from main.ts (which registers them), so the
 * commands and their entry point do not import each other.
 */
export { VIGIL_VERSION as VERSION } from '../remediation/version.ts';

/** What every command gets: its IO, the merged configuration, and the store opened on demand. */
export interface CommandContext {
  io: CliIo;
  config(): VigilConfig;
  /**
   * Opens the configured store, runs `fn`, always closes it. Only a command that writes
   * (`create: true`) may create a SQLite store, and it says so on stderr; a read on a store
   * that does not exist fails naming the path and where the setting came from.
   */
  withStore<T>(fn: (store: Store) => Promise<T>, opts?: { create?: boolean }): Promise<T>;
}

export type OutputFormat = 'human' | 'json' | 'raw';

export const outputOption = () => new Option('-o, --output <format>', 'output format: human, json or raw').choices(['human', 'json', 'raw']).default('human');

/** `vigil RESOURCE inspect NAME [-o human|json|raw]`, the one grammar of every resource's inspect (cscli's); `show` prints the named one. */
export function addInspectCommand(parent: Command, description: string, show: (name: string, output: OutputFormat) => Promise<void>): void {
  parent
    .command('inspect <name>')
    .description(description)
    .addOption(outputOption())
    .action((name: string, o: { output: OutputFormat }) => show(name, o.output));
}

/** For options commander does not validate: a clear error naming the flag. */
export function usageError(message: string): VigilError {
  return new VigilError('E_USAGE', message);
}

/**
 * A prune's `--duration`, refused under 2 minutes unless `force` (cscli's guard): so short a silence
 * is not idleness, and the prune would remove `atRisk`.
 */
export function pruneDuration(duration: string, force: boolean, atRisk: string): number {
  const ms = parseDuration(duration, '--duration');
  if (ms < 2 * 60_000 && !force) throw usageError(`--duration ${duration}: under 2m may remove ${atRisk}; add --force if you mean it`);
  return ms;
}

/**
 * Asks `question [y/N]` on the terminal before a deletion; anything but y/yes aborts with nothing
 * deleted. Without a terminal to ask, refuses with `noTerminal` (which names --force).
 */
export async function confirmOrAbort(io: CliIo, question: string, noTerminal: string): Promise<void> {
  if (!io.isTTY || !process.stdin.isTTY) throw usageError(noTerminal);
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    const answer = (await rl.question(`${question} [y/N] `)).trim().toLowerCase();
    if (answer !== 'y' && answer !== 'yes') throw new VigilError('E_ABORTED', 'aborted: nothing was deleted');
  } finally {
    rl.close();
  }
}
