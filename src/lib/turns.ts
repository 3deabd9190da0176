import { setImmediate as nextTurn } from 'node:timers/promises';

export { nextTurn };

/**
 * Runs a sliced computation (a generator that yields between slices) one slice per turn of the
 * event loop, and returns its result: requests read in between are answered without waiting for
 * the whole of it.
 */
export async function runInTurns<T>(steps: Generator<void, T>): Promise<T> {
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    await nextTurn();
  }
}

/** Runs a sliced computation to its end at once (its pauses ignored) and returns its result. */
export function runToEnd<T>(steps: Generator<unknown, T>): T {
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}
