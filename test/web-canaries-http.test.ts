import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../src/app/serve.ts';
import { hashApiKey } from '../src/core/bouncers/api-key.ts';
import { ManualClock } from '../src/lib/clock.ts';
import { recordCanaryRun, recordDriftObservation, type NewCanaryRun } from '../src/store/canaries.ts';
import { DIALECTS } from './support/databases.ts';
import { startDashboardServer } from './support/dashboard-server.ts';
import { createBouncer } from '../src/store/bouncers.ts';

/**
 * The bouncer page's canary history and drift over real HTTP: each run's result, the step that
 * failed, its timings and whether its decision was removed; what a run stored (URL, summary) is
 * escaped, never markup.
 */
const T0 = Date.UTC(2026, 10, 24, 6, 0, 0);
const PASSWORD = 'correct-horse-battery-staple';

const run = (over: Partial<NewCanaryRun>): NewCanaryRun => ({
  canary: 'shop',
  bouncerName: 'web',
  url: 'http://127.0.0.1:8088/',
  address: '192.0.2.44',
  expect: 'ban',
  startedAt: T0 - 600_000,
  finishedAt: T0 - 597_000,
  verdict: 'pass',
  failedStep: null,
  summary: 'blocks 192.0.2.44 with status 403',
  fix: null,
  decisionId: '3',
  decisionRemoved: true,
  answerStatus: 403,
  pulledAfterMs: 1200,
  enforcedAfterMs: 1350,
  totalMs: 3000,
  steps: [],
  ...over,
});

for (const dialect of DIALECTS) {
  describe(`${dialect}: the bouncer page's canaries over HTTP`, () => {
    let server: RunningServer;
    let cleanup: () => Promise<void>;
    let origin: string;
    let cookie = '';
    const clock = new ManualClock(T0);

    beforeAll(async () => {
      ({ server, cleanup } = await startDashboardServer({ clock, password: PASSWORD, dialect }));
      origin = new URL(server.web.dashboardUrl!).origin;
      const b = await createBouncer(server.store, { name: 'web', apiKeyHash: hashApiKey('web-key'), now: T0 - 3600_000 });
      await createBouncer(server.store, { name: 'other', apiKeyHash: hashApiKey('other-key'), now: T0 - 3600_000 });
      await recordCanaryRun(server.store, run({}));
      await recordCanaryRun(
        server.store,
        run({
          startedAt: T0 - 300_000,
          verdict: 'fail',
          failedStep: 'check',
          summary: 'http://127.0.0.1:8088/<script>alert(1)</script> still serves 192.0.2.44 (200)',
          answerStatus: 200,
          enforcedAfterMs: null,
          decisionId: '4',
          decisionRemoved: false,
        }),
      );
      await recordCanaryRun(server.store, run({ bouncerName: 'other', canary: 'elsewhere' }));
      await recordDriftObservation(
        server.store,
        {
          bouncerId: b.id,
          bouncerName: 'web',
          reportAt: T0 - 60_000,
          reported: 4,
          expected: 9,
          byOrigin: { crowdsec: { reported: 4, expected: 4 }, cscli: { reported: 0, expected: 5 } },
        },
        T0,
      );
      const res = await fetch(`${origin}/ui/login`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: origin },
        body: new URLSearchParams({ secret: PASSWORD, next: '/ui/' }),
      });
      cookie = (res.headers.get('set-cookie') ?? '').split(';')[0]!;
    });
    afterAll(async () => {
      await server?.close();
      await cleanup?.();
    });

    const page = async (name: string) => {
      const res = await fetch(`${origin}/ui/bouncers/${name}`, { headers: { Cookie: cookie } });
      expect(res.status).toBe(200);
      const text = await res.text();
      return /<section id="bouncer-canaries"[^>]*>([\s\S]*?)<\/section>/.exec(text)![1]!;
    };

    it('lists its canary runs newest first, with result, failed step, timings and the test decision', async () => {
      const s = await page('web');
      const rows = [...s.matchAll(/<tr data-verdict="(\w+)">([\s\S]*?)<\/tr>/g)];
      expect(rows.map((r) => r[1])).toEqual(['fail', 'pass']);
      expect(rows[0]![2]).toContain('<td data-label="Failed step">check</td>');
      expect(rows[0]![2]).toContain('<strong>NOT removed</strong> (#4)');
      expect(rows[1]![2]).toMatch(/<td data-label="Pulled after" class="num">1\.2 s<\/td>/);
      expect(rows[1]![2]).toContain('removed');
      expect(s).not.toContain('elsewhere');
      // Stored text is shown, never run.
      expect(s).not.toContain('<script>');
      expect(s).toContain('&lt;script&gt;');
    });

    it('shows drift: what it reports holding against what it is sent, and the origins that differ', async () => {
      const s = await page('web');
      expect(s).toMatch(
        /<tr data-drift="yes">.*<td data-label="Reports holding" class="num">4<\/td><td data-label="Sent" class="num">9<\/td><td data-label="Origins that differ">cscli: 0 of 5<\/td>/,
      );
    });

    it('a bouncer without canaries says how to add one', async () => {
      await createBouncer(server.store, { name: 'bare', apiKeyHash: hashApiKey('bare-key'), now: T0 });
      expect(await page('bare')).toContain('No canary runs');
    });
  });
}
