import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // Two cores: real servers and databases in the tests; keep the fan-out modest.
    maxWorkers: 2,
    globalSetup: ['test/support/global-setup.ts'],
  },
});
