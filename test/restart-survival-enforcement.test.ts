import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createBouncer, type Bouncer } from '../src/remediation/index.ts';
import { canaryRuns, driftObservations } from '../src/store/canaries.ts';
import { DIALECTS, freshDbUrl, withStoreAt } from './support/databases.ts';
import { requestFrom } from './support/http-from.ts';
import { startVigilServe, type VigilServe } from './support/vigil-serve.ts';
import { eventually } from './support/wait.ts';
import { getBouncer } from '../src/store/bouncers.ts';
import { healthIssues, openHealthIssues } from '../src/store/health-issues.ts';
import { useCleanups } from './support/cleanups.ts';

/**
 * Issue 24 item 1, proof of enforcement: a failing canary's issue and a bouncer's drift survive a
 * restart of the real `vigil serve` (SIGTERM, then another process on the same store): the same issue
 * stays open under its id, is neither resolved at the start nor opened again, and the runs and
 * observations made before the restart are still there and still count.
 */
const BOUNCER_UA = 'crowdsec-custom-bouncer/v0.0.15';

for (const dialect of DIALECTS) {
  describe(`${dialect}: proof of enforcement survives a restart of vigil serve`, { timeout: 180_000 }, () => {
    const cleanups = useCleanups();

    async function setup(configLines: string[]) {
      const db = await freshDbUrl(dialect);
      cleanups.push(db.cleanup);
      const workDir = cleanups.tempDir('vigil-restart-enforcement-');
      const serve = async () => {
        const v = await startVigilServe({
          workDir,
          db: db.url,
          configLines: ['activity_flush_every: 100ms', 'health:', '  evaluate_every: 250ms', ...configLines],
        });
        cleanups.push(() => v.stop());
        return v;
      };
      const open = (kind: string) => withStoreAt(db.url, async (s) => (await openHealthIssues(s)).filter((i) => i.kind === kind));
      const all = (kind: string) => withStoreAt(db.url, async (s) => (await healthIssues(s, { includeResolved: true })).filter((i) => i.kind === kind));
      return { db, serve, open, all };
    }

    /** A stream bouncer pulling every 400 ms until stopped, so canaries see its pulls. */
    function keepPulling(v: () => VigilServe, key: string): () => void {
      let on = true;
      void (async () => {
        for (let i = 0; on; i++) {
          await requestFrom(`${v().url}v1/decisions/stream${i === 0 ? '?startup=true' : ''}`, {
            headers: { 'X-Api-Key': key, 'User-Agent': BOUNCER_UA },
          }).catch(() => undefined);
          await new Promise((r) => setTimeout(r, 400));
        }
      })();
      return () => {
        on = false;
      };
    }

    it('a failing canary: its issue keeps its id through the restart, is not resolved nor opened again, and its runs are kept', async () => {
      // The page the bouncer should protect, served by something that blocks nobody: every canary run fails at `check`.
      const site = http.createServer((_req, res) => res.end('welcome'));
      await new Promise<void>((r) => site.listen(0, '127.0.0.1', () => r()));
      cleanups.push(() => new Promise<void>((r) => site.close(() => r())));
      const url = `http://127.0.0.1:${(site.address() as AddressInfo).port}/`;
      const { db, serve, open, all } = await setup(['canaries:', `  - url: ${url}`, '    bouncer: web', '    every: 3s', '    timeout: 2s']);
      let v = await serve();
      const key = (await v.cli('bouncers', 'add', 'web', '-o', 'raw')).trim();
      cleanups.push(keepPulling(() => v, key));
      await eventually('the canary issue', async () => (await open('remediation_not_enforced')).length === 1, 60_000, 200);
      const [issue] = await open('remediation_not_enforced');
      const runsBefore = await withStoreAt(db.url, (s) => canaryRuns(s, { limit: 100 }));
      expect(runsBefore.length).toBeGreaterThan(0);

      await v.stop();
      v = await serve();
      // The first run after the restart fails again: the same issue, never resolved in between.
      await eventually(
        'a canary run after the restart',
        async () => (await withStoreAt(db.url, (s) => canaryRuns(s, { limit: 100 }))).length > runsBefore.length,
        60_000,
        200,
      );
      await new Promise((r) => setTimeout(r, 1000));
      expect((await open('remediation_not_enforced')).map((i) => i.id)).toEqual([issue!.id]);
      expect((await all('remediation_not_enforced')).map((i) => [i.id, i.resolvedAt])).toEqual([[issue!.id, null]]);
      const runsAfter = await withStoreAt(db.url, (s) => canaryRuns(s, { limit: 100 }));
      expect(runsAfter.map((r) => r.startedAt)).toEqual(expect.arrayContaining(runsBefore.map((r) => r.startedAt)));
    });

    it.runIf(dialect === 'sqlite')('drift: its issue and observations survive the restart, and a report after it keeps the same issue', async () => {
      const { db, serve, open, all } = await setup([]);
      let v = await serve();
      for (const ip of ['203.0.113.20', '203.0.113.21', '203.0.113.22']) await v.cli('decisions', 'add', '--ip', ip, '--duration', '1h');
      // Two crowdsec-origin bans, so the bouncer holds some (a report of none proves nothing: drift.ts).
      const file = path.join(v.dir, 'crowdsec-bans.json');
      fs.writeFileSync(file, JSON.stringify(['198.51.100.10', '198.51.100.11'].map((value) => ({ value, origin: 'crowdsec', duration: '1h' }))));
      await v.cli('decisions', 'import', '-i', file);
      // Vigil's own bouncer, asking only for crowdsec decisions: the three cscli bans never reach it (cause origins_filtered).
      const key = (await v.cli('bouncers', 'add', 'crowdsec-only', '-o', 'raw')).trim();
      const bouncers: Bouncer[] = [];
      cleanups.push(async () => {
        for (const b of bouncers) await b.stop();
      });
      const report = async () => {
        const b = createBouncer({ apiUrl: v.url, apiKey: key, usageMetricsInterval: '30m', name: 'crowdsec-only', origins: ['crowdsec'] });
        bouncers.push(b);
        await b.pull();
        expect(await b.pushUsageMetrics()).toBe('sent');
        // Report times are milliseconds: the next report must not share this one's.
        await new Promise((r) => setTimeout(r, 5));
      };
      const id = (await withStoreAt(db.url, (s) => getBouncer(s, 'crowdsec-only')))!.id;
      const observed = async () => (await withStoreAt(db.url, (s) => driftObservations(s, new Map([[id, 'crowdsec-only']]))))[0] ?? [];
      // vigil serve observes the latest report every 30 s; two observations in a row raise drift.
      await report();
      await eventually('the first report observed', async () => (await observed()).length >= 1, 75_000, 500);
      await report();
      await eventually('the drift issue', async () => (await open('remediation_drift')).length === 1, 75_000, 500);
      const [issue] = await open('remediation_drift');
      const before = (await observed()).length;
      expect(before).toBeGreaterThanOrEqual(2);

      await v.stop();
      v = await serve();
      await report();
      await eventually('the report after the restart observed', async () => (await observed()).length > before, 75_000, 500);
      await new Promise((r) => setTimeout(r, 1000));
      expect((await all('remediation_drift')).map((i) => [i.id, i.resolvedAt])).toEqual([[issue!.id, null]]);
    });
  });
}
