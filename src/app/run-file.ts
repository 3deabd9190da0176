import fs from 'node:fs';
import path from 'node:path';
import { defaultDataDir, type VigilConfig } from '../config/config.ts';
import { VigilError } from '../lib/errors.ts';

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
  /** The SQLite file this serve opened (absolute), null on PostgreSQL: no one may create a new store there while it runs. */
  db?: string | null;
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

/** The pid of a `vigil serve` running on this configuration's store, or null. */
export function servePidOn(config: Pick<VigilConfig, 'db'>, env: NodeJS.ProcessEnv, cwd: string): number | null {
  const run = readRunFile(runFilePath(config, env, cwd));
  return run && alive(run.pid) ? run.pid : null;
}

/** Whether process `pid` runs (EPERM: it does, as another user). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Refuses to open (and so to create) a SQLite store whose file is missing while a running
 * `vigil serve` says it serves that very file: the file was deleted under it, and a new empty store
 * there would lose every bouncer (each then gets 403) and everything serve acknowledged (issue 27).
 * Once that serve has stopped, the `.lost` marker it wrote beside the file refuses it the same way
 * until the file is restored or the marker deleted.
 */
export function refuseStoreLostUnderServe(config: Pick<VigilConfig, 'db'>, env: NodeJS.ProcessEnv, cwd: string): void {
  if (!config.db.startsWith('sqlite:')) return;
  const file = path.resolve(cwd, config.db.slice('sqlite:'.length));
  if (fs.existsSync(file)) return;
  const run = readRunFile(runFilePath(config, env, cwd));
  if (!run || run.db !== file || !alive(run.pid)) {
    // Serve stopped (or was restarted) since: its marker still says the store there was lost, not never made.
    const marker = lostMarkerPath(file);
    if (fs.existsSync(marker)) {
      throw new VigilError(
        'E_STORE_LOST',
        `no store at ${file}: it was deleted under vigil serve (${marker}: ${fs.readFileSync(marker, 'utf8').trim().slice(0, 300)}). ` +
          `Not creating a new empty store there (every bouncer would get 403): restore ${file} from a backup or the rescue copy; ` +
          `to start over with an empty store instead, delete ${marker}`,
      );
    }
    return;
  }
  throw new VigilError(
    'E_STORE_LOST',
    `no store at ${file}, but vigil serve (pid ${run.pid}) is running on it: the store file was deleted under it. ` +
      `Not creating a new empty store there (every bouncer would get 403, every alert would be gone). ` +
      `Restore ${file} from a backup (or the rescue copy named in serve's log: ${file}.rescued-*), then restart vigil serve`,
  );
}

/** Beside a SQLite store that was lost under serve: its presence keeps anyone from creating an empty store there. */
export function lostMarkerPath(file: string): string {
  return `${file}.lost`;
}

/** Written by serve when its store file was deleted or replaced; says when, why and where the rescue copy is. */
export function writeLostMarker(file: string, text: string): void {
  fs.writeFileSync(lostMarkerPath(file), `${text}\n`, { mode: 0o600 });
}
