import { describe, expect, it } from 'vitest';
import { DIALECTS } from '../support/databases.ts';
import { DEFAULT_REGISTRATION } from '../../src/config/watcher-config.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import { listMachines } from '../../src/store/machines.ts';
import { openHealthIssues } from '../../src/store/health-issues.ts';
import { requestFrom } from '../support/http-from.ts';
import { FLOOD_ADDRESSES } from './flood.ts';
import { useInProcessServer } from '../support/in-process-server.ts';

/**
 * Issue 27 item 3: with remote registration open (CrowdSec's default), 308 `POST /v1/watchers`
 * from 24 addresses made 308 pending machines and 309 open LP Pending Validation issues, each a
 * page. Pending registrations are bounded per address and in all (api.registration.*), the old
 * ones expire, and all of them are one issue.
 */
const T0 = Date.UTC(2026, 10, 4, 0, 0, 0);
const ADDRESSES = FLOOD_ADDRESSES.slice(0, 24);
const ATTEMPTS = 308;

for (const dialect of DIALECTS) {
  describe(`${dialect}: a registration flood from ${ADDRESSES.length} addresses`, () => {
    const clock = new ManualClock(T0);
    const server = useInProcessServer(dialect, clock);

    const register = (name: string, from: string) =>
      requestFrom(`${server().url}/v1/watchers`, {
        method: 'POST',
        localAddress: from,
        headers: { 'Content-Type': 'application/json', 'User-Agent': 'crowdsec/v1.6.4' },
        body: JSON.stringify({ machine_id: name, password: 'a-long-enough-password' }),
        timeoutMs: 20_000,
      });

    it(`${ATTEMPTS} registrations: at most ${DEFAULT_REGISTRATION.maxPending} pending, one issue; expired ones make room`, async () => {
      const statuses = new Map<number, number>();
      for (let i = 0; i < ATTEMPTS; i++) {
        const a = await register(`flood${i}`, ADDRESSES[i % ADDRESSES.length]!);
        statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
        if (a.status === 429) expect(a.text).toMatch(/too many pending registrations: .*api\.registration\.max_pending/);
        clock.advance(70);
      }
      const pending = (await listMachines(server().store)).filter((m) => !m.isValidated);
      // 24 addresses × 5 would be 120: the total cap (100) bites first.
      expect(pending.length).toBe(DEFAULT_REGISTRATION.maxPending);
      expect(statuses).toEqual(
        new Map([
          [201, DEFAULT_REGISTRATION.maxPending],
          [429, ATTEMPTS - DEFAULT_REGISTRATION.maxPending],
        ]),
      );
      const perAddress = new Map<string, number>();
      for (const m of pending) perAddress.set(m.ipAddress, (perAddress.get(m.ipAddress) ?? 0) + 1);
      expect(Math.max(...perAddress.values())).toBeLessThanOrEqual(DEFAULT_REGISTRATION.maxPendingPerAddress);

      await server().health.evaluateNow();
      const open = (await openHealthIssues(server().store)).filter((i) => i.kind === 'lp_pending');
      expect(open.map((i) => i.subject)).toEqual(['machines:pending']);
      expect(open[0]!.summary).toMatch(/^100 unvalidated registrations from 24 address\(es\)/);

      // A day later the flood's machines have expired: a real agent registers (and waits, alone).
      clock.advance(DEFAULT_REGISTRATION.pendingExpireAfterMs + 60_000);
      expect((await register('real-agent', '127.0.0.1')).status).toBe(201);
      expect((await listMachines(server().store)).filter((m) => !m.isValidated).map((m) => m.machineId)).toEqual(['real-agent']);
      await server().health.evaluateNow();
      const after = (await openHealthIssues(server().store)).filter((i) => i.kind === 'lp_pending');
      expect(after.map((i) => i.subject)).toEqual(['machine:real-agent']);
    }, 180_000);
  });
}
