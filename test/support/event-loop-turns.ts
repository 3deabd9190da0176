/**
 * Runs `work` and counts the turns the event loop took meanwhile (a setImmediate chain): work done
 * in one piece lets none through, work sliced across turns lets one through per slice.
 */
export async function turnsDuring<T>(work: () => Promise<T>): Promise<{ result: T; turns: number }> {
  let turns = 0;
  let counting = true;
  const count = () => {
    if (!counting) return;
    turns++;
    setImmediate(count);
  };
  setImmediate(count);
  try {
    const result = await work();
    return { result, turns };
  } finally {
    counting = false;
  }
}
