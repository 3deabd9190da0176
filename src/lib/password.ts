import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * Machine passwords, as CrowdSec stores them: bcrypt at cost 10 (Go's bcrypt.DefaultCost), so a
 * hash copied from a CrowdSec database verifies here and the other way round. bcryptjs is pure
 * JavaScript (~100 ms of CPU per call): it runs on one worker thread, so logins never hold the
 * event loop that answers bouncers (a flood of logins queues there; callers cap the queue).
 */
export const BCRYPT_COST = 10;

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const bcrypt = require(workerData.bcryptjs);
parentPort.on('message', ({ id, op, password, hash, cost }) => {
  try {
    const result = op === 'hash' ? bcrypt.hashSync(password, cost) : bcrypt.compareSync(password, hash);
    parentPort.postMessage({ id, result });
  } catch (e) {
    parentPort.postMessage({ id, error: String(e && e.message) });
  }
});`;

let worker: Worker | undefined;
let nextId = 0;
const pending = new Map<number, { resolve: (v: string | boolean) => void; reject: (e: Error) => void }>();

function call(msg: { op: 'hash' | 'compare'; password: string; hash?: string }): Promise<string | boolean> {
  if (!worker) {
    const w = new Worker(WORKER, { eval: true, workerData: { bcryptjs: createRequire(import.meta.url).resolve('bcryptjs') } });
    w.unref();
    w.on('message', ({ id, result, error }: { id: number; result?: string | boolean; error?: string }) => {
      const p = pending.get(id);
      pending.delete(id);
      if (!p) return;
      if (error !== undefined) p.reject(new Error(error));
      else p.resolve(result!);
      if (pending.size === 0) w.unref();
    });
    w.on('error', (e: Error) => {
      for (const p of pending.values()) p.reject(e);
      pending.clear();
      worker = undefined;
    });
    worker = w;
  }
  const id = nextId++;
  // Held while work is pending, so a caller awaiting it keeps the process alive.
  worker.ref();
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    worker!.postMessage({ id, cost: BCRYPT_COST, ...msg });
  });
}

export async function hashMachinePassword(password: string): Promise<string> {
  return (await call({ op: 'hash', password })) as string;
}

/** Constant-time in the hash (bcrypt's own comparison); false for a malformed hash, never a throw. */
export async function verifyMachinePassword(password: string, hash: string): Promise<boolean> {
  try {
    return (await call({ op: 'compare', password, hash })) === true;
  } catch {
    return false;
  }
}
