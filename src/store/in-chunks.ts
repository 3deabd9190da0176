/** Values per `IN (…)` list: far below SQLite's 32,766 and PostgreSQL's 65,535 bound parameters. */
export const IN_LIST_MAX = 1000;

/** The rows `read` gives for each slice of at most IN_LIST_MAX `values`, in order, all together. */
export async function readInChunks<V, R>(values: readonly V[], read: (chunk: V[]) => Promise<R[]>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < values.length; i += IN_LIST_MAX) out.push(...(await read(values.slice(i, i + IN_LIST_MAX))));
  return out;
}
