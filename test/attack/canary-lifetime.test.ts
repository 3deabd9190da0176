import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useVigilYaml } from '../support/vigil-yaml.ts';
import { Store } from '../../src/store/store.ts';
import { freshDbUrl } from '../support/databases.ts';
import { startVigilChild, type VigilChild } from './vigil-child.ts';
import { applyBouncerActivity, createBouncer } from '../../src/store/bouncers.ts';
import { activeDecisions } from '../../src/store/decisions.ts';

/**
 * A canary's test decision is enforced by every bouncer until it expires if the run never removes
 * it: a `vigil serve` killed -9 during the wait. Its life must stay a few minutes whatever the
 * settings: a long `timeout:` is refused, and the default wait (3 × the bouncer's pull cadence, at
 * most `every`) is capped too.
 */
/** The bound README states (config/canaries.ts CANARY_MAX_DECISION_MS), written out so this test stands on its own. */
const CANARY_MAX_DECISION_MS = 10 * 60_000;
const vigilYaml = useVigilYaml('vigil-canary-bound-');

describe('a canary timeout that would keep its decision for hours', () => {
  it('refuses timeout: 6h (with every: 10s), naming the key and the fix', () => {
    const { file, load } = vigilYaml('canaries:\n  - url: http://127.0.0.1:8088/\n    bouncer: web\n    every: 10s\n    timeout: 6h\n');
    expect(load).toThrow(/canaries\.0\.timeout "6h": at most 5m.*use timeout: 5m or less, or leave it out/);
    expect(load).toThrow(file);
  });

  it('vigil verify refuses --duration 6h the same way, before adding anything', async () => {
    const { runVigil } = await import('../support/cli.ts');
    const r = await runVigil({ env: { VIGIL_DB: 'sqlite:/nonexistent/never-created.db' }, cwd: os.tmpdir() }, [
      'verify',
      '--url',
      'http://127.0.0.1:1/',
      '--timeout',
      '5h',
      '--duration',
      '6h',
    ]);
    expect(r.code).not.toBe(0);
    expect(r.err).toContain('--duration 6h: at most 10m');
  });

  it('accepts timeout: 5m', () => {
    const { load } = vigilYaml('canaries:\n  - url: http://127.0.0.1:8088/\n    bouncer: web\n    every: 10m\n    timeout: 5m\n');
    expect(load().canaries[0]!.timeoutMs).toBe(300_000);
  });
});

describe('a serve killed -9 during a canary wait', () => {
  let site: http.Server;
  let url: string;
  let child: VigilChild | undefined;
  let cleanup: () => Promise<void>;
  let db: string;

  beforeAll(async () => {
    site = http.createServer((_req, res) => res.end('page'));
    await new Promise<void>((r) => site.listen(0, '127.0.0.1', () => r()));
    url = `http://127.0.0.1:${(site.address() as AddressInfo).port}/`;
    ({ url: db, cleanup } = await freshDbUrl('sqlite'));
  });
  afterAll(async () => {
    await child?.stop();
    await new Promise<void>((r) => site.close(() => r()));
    await cleanup?.();
  });

  it(`leaves a test decision that expires within ${CANARY_MAX_DECISION_MS / 60_000} min, even for a bouncer pulling hourly and every: 6h`, async () => {
    // The bouncer pulls once an hour: the default wait would be 3 h (3 × cadence, at most every).
    const store = await Store.open(db);
    const b = await createBouncer(store, { name: 'hourly', apiKeyHash: 'f'.repeat(128), now: Date.now() });
    await applyBouncerActivity(store, [{ id: b.id, pullCadenceMs: 3600_000, lastPullAt: Date.now() - 600_000 }], Date.now());
    await store.close();

    // The first run comes one interval after start, at most 60 s.
    child = await startVigilChild({ db, configLines: ['canaries:', `  - url: ${url}`, '    bouncer: hourly', '    every: 6h'] });
    const deadline = Date.now() + 90_000;
    let found: { createdAt: number; until: number } | undefined;
    while (!found && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      const s = await Store.open(db);
      try {
        found = (await activeDecisions(s, Date.now())).find((d) => d.origin === 'vigil-canary');
      } finally {
        await s.close();
      }
    }
    expect(found, `no canary decision within 90 s:\n${child.output()}`).toBeDefined();
    // Killed during its wait: nothing removes the decision now.
    await child.stop();
    child = undefined;
    const s = await Store.open(db);
    try {
      const left = (await activeDecisions(s, Date.now())).filter((d) => d.origin === 'vigil-canary');
      expect(left).toHaveLength(1);
      expect(left[0]!.until - left[0]!.createdAt).toBeLessThanOrEqual(CANARY_MAX_DECISION_MS);
    } finally {
      await s.close();
    }
  }, 150_000);
});
