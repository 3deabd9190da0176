/**
 * A job run at most once at a time: asked again while it runs, it answers with the run under way
 * (an evaluation, a poll or a flush asked for twice at once is done once).
 */
export class SharedRun<T> {
  readonly #job: () => Promise<T>;
  #current: Promise<T> | undefined;

  constructor(job: () => Promise<T>) {
    this.#job = job;
  }

  run(): Promise<T> {
    this.#current ??= this.#job().finally(() => {
      this.#current = undefined;
    });
    return this.#current;
  }

  /** The run under way, if any. */
  get current(): Promise<T> | undefined {
    return this.#current;
  }
}
