import type { Logger } from 'pino';

/**
 * The parts of a running process (store, sync loop, notifications, listeners…), started one after
 * the other and stopped in reverse order, as Fastify closes its plugins. A failure while starting
 * stops exactly the parts already started, newest first, then rethrows: a port taken by another
 * program no longer leaves the store, the sync loop and notifications open behind a dead listener.
 *
 *   const life = new Lifecycle(log);
 *   const store = await life.start('store', () => Store.open(…), (s) => s.close());
 *   …
 *   await life.stop();
 */
export class Lifecycle {
  #stack = new AsyncDisposableStack();
  #names: string[] = [];
  #log: Logger;
  #stopping: Promise<void> | undefined;

  constructor(log: Logger) {
    this.#log = log;
  }

  /**
   * Starts one part: `open` makes it, `close` stops it (run on stop, or when a later part fails to
   * start). A part whose `open` throws has nothing to close: it cleans up after itself.
   */
  async start<T>(name: string, open: () => Promise<T> | T, close: (part: T) => Promise<void> | void): Promise<T> {
    if (this.#stopping) throw new Error(`cannot start ${name}: stopping`);
    const part = await open();
    this.#stack.defer(async () => {
      await close(part);
    });
    this.#names.push(name);
    return part;
  }

  /** Registers what must happen on stop for something started elsewhere (a timer, a subscription). */
  defer(name: string, close: () => Promise<void> | void): void {
    this.#stack.defer(async () => {
      await close();
    });
    this.#names.push(name);
  }

  /** The parts started, in start order (logs and tests). */
  get started(): readonly string[] {
    return this.#names;
  }

  /**
   * Stops every part started, newest first; each is stopped even when one before it failed (the
   * failures are logged, and the first is rethrown once all are stopped). Idempotent.
   */
  stop(): Promise<void> {
    this.#stopping ??= this.#stack.disposeAsync().catch((e: unknown) => {
      // SuppressedError chains several failures; each is one line.
      for (let err = e; err; err = err instanceof SuppressedError ? err.suppressed : undefined) {
        const one = err instanceof SuppressedError ? err.error : err;
        this.#log.error({ err: one }, `stopping failed: ${(one as Error)?.message ?? String(one)}`);
      }
      throw e instanceof SuppressedError ? e.error : e;
    });
    return this.#stopping;
  }

  /** Runs `build` with this lifecycle; when it throws, stops what it started, then rethrows. */
  async build<T>(build: (life: Lifecycle) => Promise<T>): Promise<T> {
    try {
      return await build(this);
    } catch (e) {
      await this.stop().catch(() => {});
      throw e;
    }
  }
}
