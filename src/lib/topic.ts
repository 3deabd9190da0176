/**
 * A tiny typed event: parts publish, others subscribe. Replaces assignable callback properties
 * (`engine.onResult = …`), where setting one again silently dropped the listener before it;
 * here every subscriber is called, in the order it subscribed.
 *
 *   const unsubscribe = engine.evaluated.subscribe((r) => log.info(r.opened.length));
 */
export class Topic<T> {
  #listeners: Array<(value: T) => void> = [];

  /** Calls `listener` with every value published from now on; returns the way to stop. */
  subscribe(listener: (value: T) => void): () => void {
    this.#listeners = [...this.#listeners, listener];
    return () => {
      this.#listeners = this.#listeners.filter((l) => l !== listener);
    };
  }

  /**
   * Calls every subscriber. One that throws does not keep the value from the others: its error is
   * thrown after all were called (the publisher's own error path handles it).
   */
  publish(value: T): void {
    let failure: { error: unknown } | undefined;
    for (const l of this.#listeners) {
      try {
        l(value);
      } catch (e) {
        failure ??= { error: e };
      }
    }
    if (failure) throw failure.error;
  }

  get size(): number {
    return this.#listeners.length;
  }
}
