import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * One worker thread, started when first needed and again after it ended (what was in it fails,
 * the next use starts a new one), and never what keeps the process alive while idle: its owner
 * refs it while work is in it. The owner routes its messages and fails what waited when it ends.
 */
export class OnDemandWorker<ToWorker, FromWorker> {
  #worker: Worker | undefined;
  readonly #name: string;
  readonly #file: URL;
  readonly #options: WorkerOptions | undefined;
  readonly #onMessage: (m: FromWorker) => void;
  readonly #onEnd: (e: Error) => void;

  constructor(spec: { name: string; file: URL; options?: WorkerOptions; onMessage: (m: FromWorker) => void; onEnd: (e: Error) => void }) {
    this.#name = spec.name;
    this.#file = spec.file;
    this.#options = spec.options;
    this.#onMessage = spec.onMessage;
    this.#onEnd = spec.onEnd;
  }

  /** The running worker, started now if none runs. */
  started(): Worker {
    if (this.#worker) return this.#worker;
    const worker = new Worker(this.#file, this.#options);
    worker.on('message', (m: FromWorker) => this.#onMessage(m));
    const ended = (e: Error) => {
      if (this.#worker === worker) this.#worker = undefined;
      this.#onEnd(new Error(`${this.#name}: ${e.message}`));
    };
    worker.on('error', ended);
    worker.on('exit', (code) => ended(new Error(`exited (${code})`)));
    // After the listeners: adding a 'message' one refs the worker again.
    worker.unref();
    this.#worker = worker;
    return worker;
  }

  /** Whether `worker` is still the running one (not ended since it was handed out). */
  isCurrent(worker: Worker): boolean {
    return this.#worker === worker;
  }

  /** Sends to `worker`; throws when it ended meanwhile (its answers would never come). */
  post(worker: Worker, m: ToWorker, holding: string): void {
    if (this.#worker !== worker) throw new Error(`${this.#name}: ended while the ${holding} was in it`);
    worker.postMessage(m);
  }

  /** Ends the worker; what was in it fails. */
  async close(): Promise<void> {
    const w = this.#worker;
    this.#worker = undefined;
    await w?.terminate();
  }
}
