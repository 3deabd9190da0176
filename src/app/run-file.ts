import fs from 'node:fs';
import path from 'node:path';
import { defaultDataDir, type VigilConfig } from '../config/config.ts';

/**
 * `vigil serve`'s run file, `vigil-serve.json`: its pid and the outcome of the last reload, so
 * `vigil reload` (same configuration, so the same store) finds the process and learns whether the
 * reload was applied. It sits beside the SQLite store (the data directory); with PostgreSQL, in the
 * data directory ($VIGIL_DATA_DIR, /var/lib/vigil as root). Written whole (temporary file, then
 * rename), removed when serve stops.
 */
export const RUN_FILE_NAME = 'vigil-serve.json';

export interface RunFile {
  pid: number;
  url: string;
  config: string | null;
  startedAt: number;
  /** Counts reloads since start; `vigil reload` waits for it to move. */
  reload: { seq: number; at: number | null; applied: boolean | null; message: string | null };
}

export function runFilePath(config: Pick<VigilConfig, 'db'>, env: NodeJS.ProcessEnv, cwd: string): string {
  const dir = config.db.startsWith('sqlite:') ? path.dirname(config.db.slice('sqlite:'.length)) : defaultDataDir(env, cwd);
  return path.join(dir, RUN_FILE_NAME);
}

export function writeRunFile(file: string, content: RunFile): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600 });
  fs.renameSync(tmp, file);
}

/** The run file, or null when there is none (or it is unreadable: a serve being written is retried by the caller). */
export function readRunFile(file: string): RunFile | null {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as RunFile;
  } catch {
    return null;
  }
}

/** Removes the run file if it is still this process's (another serve may have taken over the store since). */
export function removeRunFile(file: string, pid: number): void {
  if (readRunFile(file)?.pid === pid) fs.rmSync(file, { force: true });
}
