import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach } from 'vitest';

/** What a test started (processes, folders, receivers), undone after it, last started first. */
export interface Cleanups {
  /** Runs `undo` after the test, before what was pushed earlier. */
  push(undo: () => Promise<unknown> | unknown): void;
  /** A fresh folder (real path) under the system's temporary folder, removed after the test. */
  tempDir(prefix: string): string;
}

/**
 * Cleanups for each test of the enclosing describe (or file, at the top level); with `'all'`, for
 * what its beforeAll starts, undone after all its tests.
 */
export function useCleanups(after: 'each' | 'all' = 'each'): Cleanups {
  const undos: Array<() => Promise<unknown> | unknown> = [];
  (after === 'each' ? afterEach : afterAll)(async () => {
    for (const undo of undos.splice(0).reverse()) await undo();
  });
  return {
    push: (undo) => undos.push(undo),
    tempDir(prefix) {
      const dir = fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), prefix));
      undos.push(() => fs.rmSync(dir, { recursive: true, force: true }));
      return dir;
    },
  };
}
