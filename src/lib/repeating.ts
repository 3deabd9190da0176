import { Topic } from './topic.ts';

/**
 * A job run every `everyMs` from start until stopped; the timer never keeps the process alive.
 * A run that fails is published on `failed` (the owner hands that topic on as its own).
 */
export class Repeating {
  readonly failed = new Topic<unknown>();
  readonly #job: () => Promise<unknown>;
  #timer: NodeJS.Timeout | undefined;

  constructor(job: () => Promise<unknown>) {
    this.#job = job;
  }

  start(everyMs: number): void {
    this.#timer = setInterval(() => {
      this.#job().catch((e: unknown) => this.failed.publish(e));
    }, everyMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
