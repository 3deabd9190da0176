import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** How often the background checkpoint runs: a few transactions' pages each time, a millisecond or two. */
export const CHECKPOINT_EVERY_MS = 50;

/**
 * The worker: its own connection to the file, a PASSIVE checkpoint every `everyMs` (it never waits
 * for readers or writers; busy is simply tried again next time). CommonJS, evaluated: it runs the
 * same from src/ and from the built package.
 */
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.betterSqlite3);
let db;
let timer;
let runs = 0;
let failures = 0;
function tick() {
  try {
    db ??= new Database(workerData.file, { fileMustExist: true });
    db.pragma('wal_checkpoint(PASSIVE)');
    runs++;
  } catch (e) {
    failures++;
    if (failures === 1 || failures % 1000 === 0) parentPort.postMessage({ error: String(e && e.message), failures });
  }
  timer = setTimeout(tick, workerData.everyMs);
}
parentPort.on('message', (m) => {
  if (m === 'stop') {
    clearTimeout(timer);
    try { db?.close(); } catch {}
    parentPort.postMessage({ stopped: true, runs });
    parentPort.close();
  }
});
timer = setTimeout(tick, workerData.everyMs);
`;

export interface Checkpointer {
  /** Ends the worker after its current checkpoint; resolves with how many it ran. */
  stop(): Promise<number>;
}

/**
 * Checkpoints a WAL-mode SQLite file on a worker thread, so the server's own commits no longer
 * copy the WAL into the database (the autocheckpoint, 1,000 pages by default). Measured with
 * bench:alerts (1,000 alerts/s + 1,000 pulls/s): COMMIT took 10–20 ms two to four times a second on
 * the event loop that answers bouncers; with this worker the largest was 4 ms and the pull p99
 * halved. The connection's autocheckpoint stays on as the bound on the WAL: under continuous writes
 * a PASSIVE checkpoint alone never lets the WAL restart (a commit always lands while it runs), but
 * when the autocheckpoint fires the worker has already copied nearly everything, so it is cheap.
 */
export function startCheckpointer(file: string, onError: (message: string) => void, everyMs = CHECKPOINT_EVERY_MS): Checkpointer {
  const worker = new Worker(WORKER, {
    eval: true,
    workerData: { betterSqlite3: createRequire(import.meta.url).resolve('better-sqlite3'), file, everyMs },
  });
  // Never what keeps a process alive: `vigil serve` ends when its server does.
  worker.unref();
  let stopped: ((runs: number) => void) | undefined;
  worker.on('message', (m: { error?: string; failures?: number; stopped?: boolean; runs?: number }) => {
    if (m.stopped) stopped?.(m.runs ?? 0);
    else if (m.error !== undefined) onError(`background checkpoint failed (${m.failures} so far): ${m.error}`);
  });
  worker.on('error', (e: unknown) => onError(`background checkpoint worker failed: ${(e as Error).message}`));
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  return {
    async stop() {
      const done = new Promise<number>((resolve) => {
        stopped = resolve;
        void exited.then(() => resolve(0));
      });
      // Held until it has stopped: a process closing its store awaits this, and an unreferenced
      // worker would let the event loop run dry first (exit 13, an unsettled await).
      worker.ref();
      worker.postMessage('stop');
      const runs = await done;
      await exited;
      return runs;
    },
  };
}
