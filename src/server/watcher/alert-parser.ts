import type { Worker } from 'node:worker_threads';
import type { AlertsPayload, IncomingAlert } from '../../core/alerts/payload.ts';
import { VigilError } from '../../lib/errors.ts';
import { fairTurn } from '../../lib/turns.ts';
import { OnDemandWorker } from '../../lib/on-demand-worker.ts';
import type { ToParser, ToServer } from './alert-parse-messages.ts';

/** Bytes of a body handed to the worker per turn: copying them is well under a millisecond. */
const HAND_OVER_BYTES = 1024 * 1024;

/** The worker's module beside this one: .ts in a checkout (type stripping), .js in the built package. */
const WORKER_FILE = new URL(import.meta.url.endsWith('.ts') ? './alert-parse-worker.ts' : './alert-parse-worker.js', import.meta.url);

const FAILED: Record<'E_BODY_TOO_LARGE' | 'E_BAD_BODY', (cap: number) => string> = {
  E_BODY_TOO_LARGE: (cap) => `body: larger than ${cap} bytes once decompressed`,
  E_BAD_BODY: () => 'body: Content-Encoding says gzip but the body is not valid gzip',
};

/**
 * Big POST /v1/alerts bodies parsed and checked on a worker thread (a pool of one), the checked
 * alerts handed back a batch per turn. On the event loop, JSON.parse of a 28 MB push, its checks
 * and their garbage held bouncers' pulls for 40–60 ms at a time even in slices (issue 27); here the
 * loop only copies the bytes over and takes the batches. How many pushes come here at once is
 * bounded by heavy-requests.ts BigBodies. A worker that dies fails the pushes in it (500) and the
 * next push starts a new one.
 */
export class AlertParser {
  #nextId = 1;
  #inFlight = 0;
  /** The answer each push in the worker waits for. */
  readonly #waiting = new Map<number, { resolve: (m: ToServer) => void; reject: (e: Error) => void }>();
  readonly #thread = new OnDemandWorker<ToParser, ToServer>({
    name: 'alert parser worker',
    file: WORKER_FILE,
    onMessage: (m) => this.#waiting.get(m.id)?.resolve(m),
    onEnd: (e) => {
      for (const w of this.#waiting.values()) w.reject(e);
      this.#waiting.clear();
    },
  });

  /** The body's bytes as sent (gzip when `gzip`), checked as payload.ts checks them; the alerts in full when ok. */
  async parse(chunks: readonly Uint8Array[], gzip: boolean, cap: number): Promise<AlertsPayload> {
    const id = this.#nextId++;
    const worker = this.#thread.started();
    // The worker keeps the process alive while it holds a push, never when idle.
    if (this.#inFlight++ === 0) worker.ref();
    try {
      let pending: Uint8Array[] = [];
      let pendingBytes = 0;
      for (const chunk of chunks) {
        pending.push(chunk);
        pendingBytes += chunk.length;
        if (pendingBytes < HAND_OVER_BYTES) continue;
        this.#thread.post(worker, { id, kind: 'bytes', bytes: Buffer.concat(pending, pendingBytes) }, 'push');
        pending = [];
        pendingBytes = 0;
        await fairTurn();
      }
      if (pendingBytes > 0) this.#thread.post(worker, { id, kind: 'bytes', bytes: Buffer.concat(pending, pendingBytes) }, 'push');
      const parsed = await this.#ask(worker, { id, kind: 'end', gzip, cap });
      if (parsed.kind === 'refused') return { ok: false, status: parsed.status, message: parsed.message };
      if (parsed.kind === 'failed') throw new VigilError(parsed.code, FAILED[parsed.code](cap));
      if (parsed.kind !== 'parsed') throw this.#unexpected(parsed);
      const alerts: IncomingAlert[] = [];
      while (alerts.length < parsed.count) {
        await fairTurn();
        const batch = await this.#ask(worker, { id, kind: 'next' });
        if (batch.kind !== 'alerts' || batch.alerts.length === 0) throw this.#unexpected(batch);
        for (const a of batch.alerts) alerts.push(a);
      }
      return { ok: true, alerts };
    } catch (e) {
      if (this.#thread.isCurrent(worker)) worker.postMessage({ id, kind: 'drop' } satisfies ToParser);
      throw e;
    } finally {
      this.#waiting.delete(id);
      if (--this.#inFlight === 0) worker.unref();
    }
  }

  /** Ends the worker (vigil serve stopping). */
  async close(): Promise<void> {
    await this.#thread.close();
  }

  #ask(worker: Worker, m: ToParser): Promise<ToServer> {
    return new Promise((resolve, reject) => {
      this.#waiting.set(m.id, { resolve, reject });
      this.#thread.post(worker, m, 'push');
    });
  }

  #unexpected(m: ToServer): Error {
    return new Error(m.kind === 'crashed' ? `alert parser worker: ${m.message}` : `alert parser worker: unexpected ${m.kind}`);
  }
}
