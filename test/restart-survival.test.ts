import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DIALECTS, freshDbUrl, withStoreAt } from './support/databases.ts';
import { startVigilServe, type VigilServe } from './support/vigil-serve.ts';
import { requestFrom } from './support/http-from.ts';
import { startHttpReceiver } from './support/receivers.ts';
import { refusedSummaries } from '../src/store/refused-summaries.ts';

/**
 * Issue 24 item 1: what `vigil serve` learns survives a restart. Each test runs a real `vigil serve`,
 * teaches it something with real HTTP, stops it (SIGTERM, as systemd does) and starts another on the
 * same store. Cadences are short (a bouncer pulling every 400 ms) and the health floors are set down
 * in vigil.yaml, so a test takes seconds instead of the minutes the defaults would.
 */
const PULL_EVERY_MS = 400;
const HEALTH = ['health:', '  evaluate_every: 250ms', '  late_after_min: 2s', '  offline_after_min: 1m'];
const BOUNCER_UA = 'crowdsec-custom-bouncer/v0.0.15';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

for (const dialect of DIALECTS) {
  describe(`${dialect}: what vigil serve learnt survives its restart`, () => {
    const cleanups: Array<() => Promise<void>> = [];
    afterEach(async () => {
      for (const c of cleanups.splice(0).reverse()) await c();
    });

    async function setup(configLines: string[] = []) {
      const db = await freshDbUrl(dialect);
      cleanups.push(db.cleanup);
      const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-restart-survival-'));
      cleanups.push(async () => fs.rmSync(workDir, { recursive: true, force: true }));
      const serve = async () => {
        const v = await startVigilServe({ workDir, db: db.url, configLines: ['activity_flush_every: 100ms', ...HEALTH, ...configLines] });
        cleanups.push(() => v.stop());
        return v;
      };
      return { db, serve };
    }

    const pull = async (v: VigilServe, key: string, from = '127.0.0.1', startup = false) =>
      (
        await requestFrom(`${v.url}v1/decisions/stream?${startup ? 'startup=true' : ''}`, {
          headers: { 'X-Api-Key': key, 'User-Agent': BOUNCER_UA },
          localAddress: from,
        })
      ).status;

    /** A stream bouncer pulling every PULL_EVERY_MS, `n` times. */
    async function pulls(v: VigilServe, key: string, n: number, from = '127.0.0.1') {
      for (let i = 0; i < n; i++) {
        expect(await pull(v, key, from, i === 0)).toBe(200);
        await sleep(PULL_EVERY_MS);
      }
    }

    it('a learnt pull cadence: kept through the first pulls after a restart, and a bouncer killed then is raised', async () => {
      const { db, serve } = await setup();
      const first = await serve();
      const key = (await first.cli('bouncers', 'add', 'fw', '-o', 'raw')).trim();
      await pulls(first, key, 8);
      const learnt = await until('the cadence learnt', async () => (await withStoreAt(db.url, (s) => s.getBouncer('fw')))?.pullCadenceMs ?? undefined);
      expect(Math.abs(learnt - PULL_EVERY_MS)).toBeLessThan(150);
      await first.stop();

      const second = await serve();
      // Its first pulls after the restart are too few to tell a cadence: the learnt one stays.
      await pulls(second, key, 3);
      await sleep(300);
      expect((await withStoreAt(db.url, (s) => s.getBouncer('fw')))?.pullCadenceMs).toBe(learnt);
      // Killed now: Integration Late opens from the cadence learnt before the restart.
      const killedAt = Date.now();
      const issue = await until('integration_late', async () =>
        (await withStoreAt(db.url, (s) => s.openHealthIssues())).find((i) => i.subject === 'bouncer:fw'),
      );
      expect(issue.kind).toBe('integration_late');
      expect(Date.now() - killedAt).toBeLessThan(10_000);
      expect((await withStoreAt(db.url, (s) => s.getBouncer('fw')))?.pullCadenceMs).toBe(learnt);
    });
  });
}
