// Node's compile cache is written before `vigil serve` listens, not once it serves: on a new
// version's first start, writing it took 55 ms of the main thread's CPU (and a 40 ms collection
// after it) in one turn, while bouncers pulled (issue 27 item 5: the bench's one tick over 100 ms).
import fs from 'node:fs';
import module from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useCleanups } from './support/cleanups.ts';
import { startVigilServe } from './support/vigil-serve.ts';

const cleanups = useCleanups();

/** Every file under `dir`, with its size. */
function filesUnder(dir: string): Array<{ file: string; bytes: number }> {
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true }).flatMap((e) => {
    if (!e.isFile()) return [];
    const file = path.join(e.parentPath, e.name);
    return [{ file, bytes: fs.statSync(file).size }];
  });
}

describe.skipIf(typeof module.flushCompileCache !== 'function')('vigil serve and the compile cache', () => {
  it('has written the cache of its start by the time it first answers', async () => {
    const work = cleanups.tempDir('vigil-compile-cache-');
    // A cache of this test's own (0700, this user's), empty: every module is compiled and new to it.
    const cache = fs.mkdtempSync(path.join(work, 'cache-'));
    const vigil = await startVigilServe({ workDir: work, env: { VIGIL_COMPILE_CACHE: cache } });
    cleanups.push(() => vigil.stop());
    // Written before the listener opened (before: 15 s after start, while bouncers pulled).
    const written = filesUnder(cache);
    expect(
      written.reduce((n, f) => n + f.bytes, 0),
      `cache files: ${written.map((f) => f.file).join(', ')}`,
    ).toBeGreaterThan(100_000);
  });
});
