import { describe, expect, it } from 'vitest';
import { DIALECTS, freshDbUrl, withStoreAt } from './support/databases.ts';
import { startVigilServe, type VigilServe } from './support/vigil-serve.ts';
import { until as waitUntil } from './support/wait.ts';
import { requestFrom } from './support/http-from.ts';
import { startHttpReceiver } from './support/receivers.ts';
import { refusedSummaries } from '../src/store/refused-summaries.ts';
import { lastProbes } from '../src/store/bouncer-probes.ts';
import { getMachine } from '../src/store/machines.ts';
import { getBouncer, listBouncers } from '../src/store/bouncers.ts';
import { openHealthIssues } from '../src/store/health-issues.ts';
import { useCleanups } from './support/cleanups.ts';

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

/** A real process on a loaded machine: 30 s at most, every 100 ms. */
const until = <T>(what: string, probe: () => Promise<T | undefined>): Promise<T> => waitUntil(what, probe, undefined, 30_000, 100);

for (const dialect of DIALECTS) {
  // Two real processes and a few seconds of pulls each: a loaded CI machine needs more than the default 30 s.
  describe(`${dialect}: what vigil serve learnt survives its restart`, { timeout: 120_000 }, () => {
    const cleanups = useCleanups();

    async function setup(configLines: string[] = [], flushEvery = '100ms') {
      const db = await freshDbUrl(dialect);
      cleanups.push(db.cleanup);
      const workDir = cleanups.tempDir('vigil-restart-survival-');
      const serve = async () => {
        const v = await startVigilServe({ workDir, db: db.url, configLines: [`activity_flush_every: ${flushEvery}`, ...HEALTH, ...configLines] });
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
      const learnt = await until('the cadence learnt', async () => (await withStoreAt(db.url, (s) => getBouncer(s, 'fw')))?.pullCadenceMs ?? undefined);
      expect(Math.abs(learnt - PULL_EVERY_MS)).toBeLessThan(150);
      await first.stop();

      const second = await serve();
      // Its first pulls after the restart are too few to tell a cadence: the learnt one stays.
      await pulls(second, key, 3);
      await sleep(300);
      expect((await withStoreAt(db.url, (s) => getBouncer(s, 'fw')))?.pullCadenceMs).toBe(learnt);
      // Killed now: Integration Late opens from the cadence learnt before the restart.
      // (bounded wait: late after 6 × 400 ms, the 2 s floor and one 250 ms evaluation; 30 s allows a loaded machine)
      const issue = await until('integration_late', async () =>
        (await withStoreAt(db.url, (s) => openHealthIssues(s))).find((i) => i.subject === 'bouncer:fw'),
      );
      expect(issue.kind).toBe('integration_late');
      expect((await withStoreAt(db.url, (s) => getBouncer(s, 'fw')))?.pullCadenceMs).toBe(learnt);
    });

    it('statuses and open issues: the issue stays open under its id, is not re-opened nor paged again, and the status stays late', async () => {
      const hook = await startHttpReceiver();
      cleanups.push(() => hook.close());
      const { db, serve } = await setup(['notifications:', '  timeout: 2s', '  channels:', '    hook:', '      type: webhook', `      url: ${hook.url}`]);
      const first = await serve();
      const key = (await first.cli('bouncers', 'add', 'fw', '-o', 'raw')).trim();
      await pulls(first, key, 8);
      const issue = await until('integration_late', async () =>
        (await withStoreAt(db.url, (s) => openHealthIssues(s))).find((i) => i.subject === 'bouncer:fw'),
      );
      // se_no_rc may have been sent before the bouncer was added; wait for the bouncer's own page.
      await until('the page', async () => (hook.requests.some((r) => JSON.stringify(r.json).includes('bouncer:fw')) ? true : undefined));
      const pagesBefore = hook.requests.filter((r) => r.json?.event === 'opened' && JSON.stringify(r.json).includes('bouncer:fw')).length;
      expect(pagesBefore).toBe(1);
      await first.stop();

      const second = await serve();
      await sleep(2000); // several evaluations and dispatcher rounds
      const open = (await withStoreAt(db.url, (s) => openHealthIssues(s))).filter((i) => i.subject === 'bouncer:fw');
      expect(open.map((i) => [i.id, i.openedAt])).toEqual([[issue.id, issue.openedAt]]);
      expect(hook.requests.filter((r) => r.json?.event === 'opened' && JSON.stringify(r.json).includes('bouncer:fw'))).toHaveLength(pagesBefore);
      expect(await second.cli('bouncers', 'inspect', 'fw')).toMatch(/Health\s+late/);
      expect(second.logs()).not.toContain('issue opened');
    });

    it('refused-request summaries and the last probe buffered at SIGTERM are written before the process exits', async () => {
      // Nothing is flushed on a timer in this test: only the stop can write them.
      const { db, serve } = await setup([], '1h');
      const first = await serve();
      const key = (await first.cli('bouncers', 'add', 'web', '-o', 'raw')).trim();
      for (let i = 0; i < 3; i++) {
        const r = await requestFrom(`${first.url}v1/decisions/stream?`, {
          headers: { 'X-Api-Key': 'stale-key', 'User-Agent': BOUNCER_UA },
          localAddress: '127.0.0.2',
        });
        expect(r.status).toBe(403);
      }
      expect((await fetch(`${first.url}v1/decisions`, { method: 'HEAD', headers: { 'X-Api-Key': key, 'User-Agent': 'curl/8.5.0' } })).status).toBe(200);
      await first.stop();
      const summaries = await withStoreAt(db.url, (s) => refusedSummaries(s, { since: 0 }));
      expect(summaries.map((r) => [r.peerIp, r.reason, r.count, r.userAgent])).toEqual([['127.0.0.2', 'unknown', 3, BOUNCER_UA]]);
      const probe = await withStoreAt(db.url, async (s) => (await lastProbes(s)).get((await getBouncer(s, 'web'))!.id));
      expect(probe).toMatchObject({ userAgent: 'curl/8.5.0', method: 'HEAD', path: '/v1/decisions' });
      // The next process reads them: its evidence names the refused key.
      const second = await serve();
      expect(await second.cli('bouncers', 'inspect', 'web')).toMatch(/Last Probe\s+key accepted at \S+, from curl\/8\.5\.0/);
    });

    it('bouncer families: a shared key keeps its NAME@IP row and that instance keeps its delta cursor', async () => {
      const { db, serve } = await setup();
      const first = await serve();
      const key = (await first.cli('bouncers', 'add', 'web', '-o', 'raw')).trim();
      await first.cli('decisions', 'add', '--ip', '192.0.2.7', '--duration', '1h', '--reason', 'test');
      expect(await pull(first, key, '127.0.0.1', true)).toBe(200);
      const startup = await requestFrom(`${first.url}v1/decisions/stream?startup=true`, {
        headers: { 'X-Api-Key': key, 'User-Agent': BOUNCER_UA },
        localAddress: '127.0.0.2',
      });
      expect(startup.text).toContain('192.0.2.7');
      await sleep(300);
      const rows = async () => (await withStoreAt(db.url, (s) => listBouncers(s))).map((b) => b.name).sort();
      expect(await rows()).toEqual(['web', 'web@127.0.0.2']);
      await first.stop();

      const second = await serve();
      // A delta (no startup) from the second instance: nothing new since its cursor, no new row.
      const delta = await requestFrom(`${second.url}v1/decisions/stream?`, {
        headers: { 'X-Api-Key': key, 'User-Agent': BOUNCER_UA },
        localAddress: '127.0.0.2',
      });
      expect(delta.status).toBe(200);
      expect(JSON.parse(delta.text)).toEqual({ deleted: null, new: null });
      await sleep(300);
      expect(await rows()).toEqual(['web', 'web@127.0.0.2']);
      expect(second.logs()).not.toContain('Creating bouncer');
    });

    it("an agent's learnt heartbeat cadence: kept through a restart, and a stopped agent is raised LP Late", async () => {
      const { db, serve } = await setup();
      const first = await serve();
      const password = 'agent-test-password-0123456789abcdef';
      await first.cli('machines', 'add', 'myhost', '--password', password);
      const ua = 'crowdsec/v1.4.6-6~deb12u1+b1-linux-debian';
      const beat = async (v: VigilServe, n: number) => {
        const r = await fetch(`${v.url}v1/watchers/login`, {
          method: 'POST',
          headers: { 'User-Agent': ua, 'Content-Type': 'application/json' },
          body: JSON.stringify({ machine_id: 'myhost', password, scenarios: [] }),
        });
        const { token } = (await r.json()) as { token: string };
        for (let i = 0; i < n; i++) {
          expect((await fetch(`${v.url}v1/heartbeat`, { headers: { 'User-Agent': ua, Authorization: `Bearer ${token}` } })).status).toBe(200);
          await sleep(PULL_EVERY_MS);
        }
      };
      await beat(first, 8);
      const learnt = (await withStoreAt(db.url, (s) => getMachine(s, 'myhost')))!.heartbeatCadenceMs!;
      expect(Math.abs(learnt - PULL_EVERY_MS)).toBeLessThan(150);
      await first.stop();

      const second = await serve();
      await beat(second, 2);
      const kept = (await withStoreAt(db.url, (s) => getMachine(s, 'myhost')))!.heartbeatCadenceMs;
      expect(kept).not.toBeNull();
      expect(Math.abs(kept! - PULL_EVERY_MS)).toBeLessThan(150);
      const issue = await until('lp_late', async () => (await withStoreAt(db.url, (s) => openHealthIssues(s))).find((i) => i.subject === 'machine:myhost'));
      expect(issue.kind).toBe('lp_late');
    });
  });
}
