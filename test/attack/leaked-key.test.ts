import { describe, expect, it } from 'vitest';
import { DIALECTS } from '../support/databases.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import { hashApiKey } from '../../src/core/bouncers/api-key.ts';
import { createBouncer, listBouncers } from '../../src/store/bouncers.ts';
import { openHealthIssues } from '../../src/store/health-issues.ts';
import { FLOOD_ADDRESSES, get } from './flood.ts';
import { useInProcessServer } from '../support/in-process-server.ts';

/**
 * Issue 27 item 4: a leaked bouncer key used from thousands of new addresses made one `NAME@IP`
 * row each (7,177 in 2 minutes), and the 100 that pulled a few times and stopped each opened (and
 * paged) an Integration Late issue. Past limits.max_instances_per_key a new address is refused; the
 * refusals are ONE issue for the key, and instances that lived for minutes raise nothing while the
 * key's real instance keeps pulling.
 */
const T0 = Date.UTC(2026, 10, 3, 0, 0, 0);
const CAP = 20;
const ATTACKERS = FLOOD_ADDRESSES.slice(0, 60);
// A current version: an old one would also raise Component Outdated, which this test is not about.
const UA = 'crowdsec-firewall-bouncer/v0.0.34';

for (const dialect of DIALECTS) {
  describe(`${dialect}: a leaked bouncer key used from ${ATTACKERS.length} addresses`, () => {
    const clock = new ManualClock(T0);
    const server = useInProcessServer(dialect, clock, (config) => {
      config.limits.maxInstancesPerKey = CAP;
    });

    it(`keeps ${CAP} rows for the key, refuses the rest, and raises one issue instead of one per address`, async () => {
      await createBouncer(server().store, { name: 'fw', apiKeyHash: hashApiKey('leaked-key'), now: clock.now() });
      const pull = (from: string, startup = false) =>
        get(server().url, `/v1/decisions/stream${startup ? '?startup=true' : ''}`, { 'X-Api-Key': 'leaked-key', 'User-Agent': UA }, from);
      const statuses = new Map<number, number>();
      // The real instance pulls every 10 s for 70 minutes; at minute 10 the attackers pull three times each, 10 s apart, then stop.
      for (let step = 0; step < 420; step++) {
        expect(await pull('127.0.0.1', step === 0)).toBe(200);
        if (step >= 60 && step < 63) {
          for (const ip of ATTACKERS) {
            const s = await pull(ip, step === 60);
            statuses.set(s, (statuses.get(s) ?? 0) + 1);
          }
        }
        await server().activity.flush();
        clock.advance(10_000);
      }
      // The first CAP - 1 new addresses got rows of their own (with the real one: CAP); the rest were refused each time.
      expect(statuses).toEqual(
        new Map([
          [200, (CAP - 1) * 3],
          [403, (ATTACKERS.length - (CAP - 1)) * 3],
        ]),
      );
      const rows = (await listBouncers(server().store)).filter((b) => b.name === 'fw' || b.name.startsWith('fw@'));
      expect(rows.length).toBe(CAP);

      await server().health.evaluateNow();
      const open = await openHealthIssues(server().store);
      // One issue for the key; none for the instances that pulled for 20 s an hour ago, none for the real one.
      expect(open.map((i) => `${i.kind} ${i.subject}`)).toEqual(['key_shared_widely key:fw']);
      expect(open[0]!.summary).toContain(`used from ${ATTACKERS.length + 1} addresses: leaked?`);
      expect(open[0]!.evidence.causes[0]).toMatchObject({ cause: 'key_leaked' });
    }, 120_000);
  });
}
