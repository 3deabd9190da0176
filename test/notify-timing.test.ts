import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getStatus as get, requestFrom } from './support/http-from.ts';
import { DIALECTS } from './support/databases.ts';
import { useInProcessServer } from './support/in-process-server.ts';
import { startHttpReceiver, type HttpReceiver } from './support/receivers.ts';
import { ManualClock } from '../src/lib/clock.ts';
import { hashApiKey } from '../src/core/bouncers/api-key.ts';
import { loadNotificationsConfig } from '../src/notify/config.ts';
import { createBouncer, listBouncers } from '../src/store/bouncers.ts';
import { openHealthIssues } from '../src/store/health-issues.ts';
import { evaluateAndNotify } from './support/notify-cycle.ts';

/**
 * Issue 24 item 6, over real HTTP with a real webhook receiver and default health rules (time moved
 * by hand): after an escalation to Critical, a cause change reaches the receiver at the next
 * evaluation (it used to wait 5 min behind the escalation); a probe made with the dead bouncer's
 * key (`vigil doctor`'s HEAD, the runbook's `curl -I`) does not turn the issue back to Warning
 * nor announce it; the bouncer's own usage report does, at once; its pull resolves it.
 */
const T0 = Date.UTC(2026, 11, 7, 8, 0, 0);
const UA = 'crowdsec-custom-bouncer/v0.0.15';
const FROM = '127.0.0.4';

function usageReport(now: number) {
  return JSON.stringify({
    remediation_components: [
      {
        version: 'v0.0.15',
        type: 'crowdsec-custom-bouncer',
        utc_startup_timestamp: Math.floor((T0 - 3600_000) / 1000),
        os: { name: 'debian', version: '12' },
        feature_flags: [],
        metrics: [{ meta: { window_size_seconds: 900, utc_now_timestamp: Math.floor(now / 1000) }, items: [{ name: 'dropped', value: 0, unit: 'request' }] }],
      },
    ],
  });
}

for (const dialect of DIALECTS) {
  describe(`${dialect}: what the pager is told, and when`, () => {
    const clock = new ManualClock(T0);
    let hook: HttpReceiver;
    afterAll(async () => {
      await hook?.close();
    });
    const server = useInProcessServer(dialect, clock, async (config) => {
      hook = await startHttpReceiver();
      config.notifications = loadNotificationsConfig({ channels: { hook: { type: 'webhook', url: hook.url } } }, null);
    });
    let lastPull = T0;

    const pull = async (key = 'web-key') => {
      const status = await get(server().url, '/v1/decisions/stream?startup=false', { 'X-Api-Key': key, 'User-Agent': UA }, FROM);
      if (status === 200) lastPull = clock.now();
      return status;
    };
    const cycle = () => evaluateAndNotify(server(), { flushActivity: true });
    const sent = () => hook.requests.map((q) => q.json.headline as string);
    const issue = async () => (await openHealthIssues(server().store))[0];

    beforeAll(async () => {
      await createBouncer(server().store, { name: 'web', apiKeyHash: hashApiKey('web-key'), now: T0 });
      for (let n = 0; n < 8; n++) {
        if (n > 0) clock.advance(10_000);
        expect(await pull()).toBe(200);
      }
      await cycle();
      expect((await listBouncers(server().store))[0]!.pullCadenceMs).toBe(10_000);
    });

    it('killed: Warning at 130 s, Critical at 10 min, each sent at once', async () => {
      clock.set(lastPull + 130_000);
      await cycle();
      clock.set(lastPull + 10 * 60_000 + 10_000);
      await cycle();
      expect(sent()).toEqual(['WARNING: Integration Late: bouncer web', 'Now CRITICAL (was warning): RC Integration Offline: bouncer web']);
    });

    it('a cause change right after the escalation reaches the receiver at the next evaluation', async () => {
      clock.advance(10_000);
      // Restarted with a stale key: refused.
      expect(await pull('stale-key')).toBe(403);
      await cycle();
      expect(sent()).toHaveLength(3);
      expect(hook.requests[2]!.json).toMatchObject({
        event: 'updated',
        // Its own key refused, nothing succeeding since (fail-open.ts): the authentication cause that says so.
        issues: [{ criticality: 'critical', likelyCause: { cause: 'fail_open' }, previous: { criticality: 'critical', cause: 'stopped_or_network' } }],
      });
      expect(sent()[2]).toMatch(/^Likely cause changed: RC Integration Offline: bouncer web: authentication: the bouncer is failing open/);
    });

    it("a probe with the dead bouncer's key (doctor's HEAD) keeps it Critical, and tells nothing", async () => {
      clock.advance(10_000);
      const probe = await requestFrom(`${server().url}/v1/decisions?ip=192.0.2.1`, {
        method: 'HEAD',
        headers: { 'X-Api-Key': 'web-key', 'User-Agent': 'vigil-doctor/1' },
        localAddress: FROM,
      });
      expect(probe.status).toBe(200);
      for (let n = 0; n < 3; n++) {
        await cycle();
        clock.advance(10_000);
      }
      expect(await issue()).toMatchObject({ kind: 'rc_integration_offline', criticality: 'critical' });
      expect(sent()).toHaveLength(3);
    });

    it('its own usage report (the process is back, not pulling): the fall is told at once', async () => {
      const r = await requestFrom(`${server().url}/v1/usage-metrics`, {
        method: 'POST',
        headers: { 'X-Api-Key': 'web-key', 'User-Agent': UA, 'Content-Type': 'application/json' },
        body: usageReport(clock.now()),
        localAddress: FROM,
      });
      expect(r.status).toBe(201);
      await cycle();
      expect(await issue()).toMatchObject({ kind: 'integration_late', criticality: 'warning' });
      expect(sent()).toHaveLength(4);
      expect(sent()[3]).toBe('Heard from again, now WARNING (was critical): Integration Late: bouncer web');
    });

    it('pulls again: resolved at once', async () => {
      clock.advance(10_000);
      expect(await pull()).toBe(200);
      await cycle();
      expect(sent()[4]).toBe('Resolved: Integration Late: bouncer web');
      expect(hook.requests.map((q) => q.json.event)).toEqual(['opened', 'updated', 'updated', 'updated', 'resolved']);
    });
  });
}
