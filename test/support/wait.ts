/**
 * Polls `probe` (real time, for real programs and daemons) until it returns something other than
 * undefined, and returns that; after `timeoutMs` fails naming `what`, with `context()` (e.g. the
 * program's log) to show why.
 */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  context: () => string = () => '',
  timeoutMs = 20_000,
  everyMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${context()}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Polls `check` until it is true (real time), failing after `timeoutMs` with `what`. */
export async function eventually(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 10_000, everyMs = 50): Promise<void> {
  await until(what, async () => ((await check()) ? true : undefined), undefined, timeoutMs, everyMs);
}
