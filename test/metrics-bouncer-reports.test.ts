import { describe, expect, it } from 'vitest';
import { DIALECTS } from './support/databases.ts';
import { useInProcessServer } from './support/in-process-server.ts';
import { usageReport } from './support/usage-report.ts';
import { ManualClock } from '../src/lib/clock.ts';
import { hashApiKey } from '../src/core/bouncers/api-key.ts';
import { createBouncer } from '../src/store/bouncers.ts';

/**
 * The Prometheus gauges made from bouncers' own usage-metrics reports (docs/operations.md):
 * `vigil_bouncer_reported` (their counters) and `vigil_bouncer_report_timestamp_seconds`, scraped
 * over real HTTP after a real POST /v1/usage-metrics; a bouncer that never reported has no series.
 */
const T0 = Date.UTC(2026, 10, 24, 6, 0, 0);
const KEY = '7c1e2d3c4b5a69788796a5b4c3d2e1f0';

for (const dialect of DIALECTS) {
  describe(`${dialect}: bouncer report gauges`, () => {
    const clock = new ManualClock(T0);
    const server = useInProcessServer(dialect, clock, (config) => {
      config.metricsListen = { host: '127.0.0.1', port: 0 };
    });

    it("a bouncer's report is scraped under its name; a bouncer without a report has no series", async () => {
      await createBouncer(server().store, { name: 'fw', apiKeyHash: hashApiKey(KEY), now: T0 });
      await createBouncer(server().store, { name: 'quiet', apiKeyHash: hashApiKey('0'.repeat(32)), now: T0 });
      const posted = await fetch(`${server().url}/v1/usage-metrics`, {
        method: 'POST',
        body: JSON.stringify(usageReport(T0, T0)),
        headers: { 'X-Api-Key': KEY, 'User-Agent': 'vigil-bouncer/v0.1.0', 'Content-Type': 'application/json' },
      });
      expect(posted.status).toBe(201);
      const text = await (await fetch(server().metricsUrl!)).text();
      const lines = text.split('\n').filter((l) => /^vigil_bouncer_report(ed|_timestamp_seconds)\{/.test(l));
      expect(lines.filter((l) => l.includes('bouncer="quiet"'))).toEqual([]);
      expect(lines).toContain(`vigil_bouncer_report_timestamp_seconds{bouncer="fw"} ${T0 / 1000}`);
      expect(lines.find((l) => l.startsWith('vigil_bouncer_reported{') && l.includes('name="dropped"'))).toMatch(/bouncer="fw".* 12$/);
    });
  });
}
