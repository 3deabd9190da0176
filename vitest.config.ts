import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { configDefaults, defineConfig } from 'vitest/config';

// No test may touch the machine's real data directory (/var/lib/vigil as root): a command run without
// --db finds its default store here instead, and so do the processes tests start.
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-test-data-'));

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'bench/**/*.test.ts'],
    // The image and package builds take minutes: `npm run test:dist` (vitest.dist.config.ts) runs them.
    exclude: [...configDefaults.exclude, 'test/dist/**'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // Two cores: real servers and databases in the tests; keep the fan-out modest.
    maxWorkers: 2,
    globalSetup: ['test/support/global-setup.ts'],
    env: { VIGIL_DATA_DIR: dataDir },
  },
});
