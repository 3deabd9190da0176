import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defineConfig } from 'vitest/config';

// `npm run test:dist`: the distribution routes (container image, compose, Debian package), built and
// run for real as root. Minutes each, so apart from `npm test`; one file at a time: they install
// packages, start containers and share the machine's podman storage.
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-test-data-'));

export default defineConfig({
  test: {
    include: ['test/dist/**/*.test.ts'],
    testTimeout: 600_000,
    hookTimeout: 900_000,
    fileParallelism: false,
    maxWorkers: 1,
    env: { VIGIL_DATA_DIR: dataDir },
  },
});
