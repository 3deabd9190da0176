import { setImmediate as nextTurn } from 'node:timers/promises';

export { nextTurn };

/** Slices waiting for {@link fairTurn}, in order. */
const waiting: Array<() => void> = [];
let pumping = false;

function pump(): void {
  waiting.shift()?.();
  if (waiting.length > 0) setImmediate(pump);
  else pumping = false;
}

/**
 * Waits for the caller's next slice of heavy work: one waiting slice per turn of the event loop,
 * all callers together, in order. With `nextTurn` alone, N requests in slices run N slices in
 * every turn, and a pull read in between waits for all of them (issue 27: 15 heavy requests at
 * once); here it waits for one.
 */
export function fairTurn(): Promise<void> {
  return new Promise((resolve) => {
    waiting.push(resolve);
    if (!pumping) {
      pumping = true;
      setImmediate(pump);
    }
  });
}

/**
 * Runs a sliced computation (a generator that yields between slices) one slice per turn of the
 * event loop ({@link fairTurn}: taking turns with the other sliced work), and returns its result:
 * requests read in between are answered without waiting for the whole of it.
 */
export async function runInTurns<T>(steps: Generator<void, T>): Promise<T> {
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    await fairTurn();
  }
}

/** Runs a sliced computation to its end at once (its pauses ignored) and returns its result. */
export function runToEnd<T>(steps: Generator<unknown, T>): T {
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}
