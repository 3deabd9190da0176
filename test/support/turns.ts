/** Runs a sliced computation (a generator yielding between slices) to its end at once: its result and how often it paused. */
export function runCountingPauses<T>(steps: Generator<unknown, T>): { value: T; pauses: number } {
  let pauses = 0;
  for (;;) {
    const step = steps.next();
    if (step.done) return { value: step.value, pauses };
    pauses++;
  }
}
