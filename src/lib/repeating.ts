/** A job run every `everyMs` until stopped, its failures handed to `failed`; the timer never keeps the process alive. */
export class Repeating {
  #timer: NodeJS.Timeout | undefined;

  start(everyMs: number, job: () => Promise<unknown>, failed: (e: unknown) => void): void {
    this.#timer = setInterval(() => {
      job().catch(failed);
    }, everyMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
