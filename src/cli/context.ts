import { Option } from 'commander';
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

/** For options commander does not validate: a clear error naming the flag. */
export function usageError(message: string): VigilError {
  return new VigilError('E_USAGE', message);
}
