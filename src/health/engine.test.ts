import { describe, expect, it } from 'vitest';
import { DIALECTS, useFreshStore } from '../../test/support/databases.ts';
import { ManualClock } from '../lib/clock.ts';
import { hashApiKey } from '../core/bouncers/api-key.ts';
import { FLAP_OPENS, flappingKeys, HealthEngine } from './engine.ts';
import { DEFAULT_RULES } from '../core/health/evaluate.ts';
import { issueStatus } from '../core/health/issue-view.ts';
import { createMachine, deleteMachines, recordHeartbeat, recordLogin } from '../store/machines.ts';
import { recordRefusedSummaries } from '../store/refused-summaries.ts';
import { applyBouncerActivity, createBouncer } from '../store/bouncers.ts';
import { healthIssues, openHealthIssues } from '../store/health-issues.ts';

const T0 = Date.UTC(2026, 10, 4);
const H = 3600_000;

for (const dialect of DIALECTS) {
  describe(`${dialect}: health engine persistence`, () => {
    const current = useFreshStore(dialect);

    it('keeps one row per opening and shows an issue that keeps coming back as flapping', async () => {
      const store = current();
      const clock = new ManualClock(T0);
      const rules = { ...DEFAULT_RULES, offlineAfterMs: H };
      const engine = new HealthEngine(store, clock, rules);
      const b = await createBouncer(store, { name: 'flappy', apiKeyHash: hashApiKey('k'), now: T0 });
      await createBouncer(store, { name: 'steady', apiKeyHash: hashApiKey('s'), now: T0 });
      for (let n = 1; n <= FLAP_OPENS; n++) {
        clock.advance(H + 1000);
        await applyBouncerActivity(store, [{ id: b.id + 1, lastPullAt: clock.now() }], clock.now());
        const opened = await engine.evaluateNow();
        expect(opened.opened.map((i) => i.subject)).toEqual(['bouncer:flappy']);
        await applyBouncerActivity(store, [{ id: b.id, lastPullAt: clock.now() }], clock.now());
        expect((await engine.evaluateNow()).resolved.map((i) => i.subject)).toEqual(['bouncer:flappy']);
      }
      clock.advance(H + 1000);
      await applyBouncerActivity(store, [{ id: b.id + 1, lastPullAt: clock.now() }], clock.now());
      await engine.evaluateNow();
      const flapping = await flappingKeys(store, clock.now());
      const [open] = await openHealthIssues(store);
      expect(issueStatus(open!, flapping)).toBe('flapping');
      expect(await healthIssues(store, { includeResolved: true })).toHaveLength(FLAP_OPENS + 1);
      // A day later the history no longer counts as flapping.
      expect(issueStatus(open!, await flappingKeys(store, clock.now() + 25 * H))).toBe('open');
    });
  });
}

for (const dialect of DIALECTS) {
  describe(`${dialect}: health engine over machines`, () => {
    const current = useFreshStore(dialect);

    it('heartbeat → no issue; 24 h without → LP Offline with its cause; a heartbeat again → resolved', async () => {
      const store = current();
      const clock = new ManualClock(T0);
      // CrowdSec's 24 h for offline (no cadence escalation, tested in evaluate-machines.test.ts), our LP Late before it.
      const engine = new HealthEngine(store, clock, { ...DEFAULT_RULES, offlineAfterFactor: 0 });
      const machineIssues = async () => (await openHealthIssues(store)).filter((i) => i.subject.startsWith('machine:'));
      await createMachine(store, { machineId: 'agent1', passwordHash: '$2a$10$x', now: T0, isValidated: true });
      await recordLogin(store, 'agent1', { ipAddress: '10.0.0.7', version: 'v1.7.8', scenarios: '', now: T0 });
      for (let n = 0; n <= 6; n++) await recordHeartbeat(store, 'agent1', T0 + n * 60_000);
      clock.set(T0 + 6 * 60_000 + 30_000);
      await engine.evaluateNow();
      expect(await machineIssues()).toEqual([]);

      // Its password no longer matches: the agent keeps trying to log in and is refused.
      const lastBeat = T0 + 6 * 60_000;
      await recordRefusedSummaries(store, [
        {
          peerIp: '10.0.0.7',
          userAgent: 'crowdsec/v1.7.8',
          reason: 'login:bad-password',
          keyFingerprint: '',
          severalKeys: false,
          bouncerName: 'agent1',
          method: 'POST',
          path: '/v1/watchers/login',
          firstAt: lastBeat + 60_000,
          lastAt: lastBeat + 20 * H,
          count: 1200,
        },
      ]);
      clock.set(lastBeat + 24 * H);
      await engine.evaluateNow();
      // Silent for exactly 24 h is not yet offline; it was late long before.
      const [late] = await machineIssues();
      expect(late!.kind).toBe('lp_late');
      clock.set(lastBeat + 24 * H + 1000);
      const r = await engine.evaluateNow();
      // One incident: the late issue escalates in place (same id), nothing opens or resolves.
      expect(r.opened).toEqual([]);
      expect(r.resolved).toEqual([]);
      expect(r.escalated.map((i) => `${i.id}:${i.kind}:${i.subject}`)).toEqual([`${late!.id}:lp_offline:machine:agent1`]);
      const [offline] = await machineIssues();
      expect(offline).toMatchObject({ id: late!.id, kind: 'lp_offline', criticality: 'critical', bouncerName: null, since: lastBeat });
      expect((offline!.evidence.causes[0] as { cause: string; confidence: string }).cause).toBe('machine_bad_password');
      expect((offline!.evidence.causes[0] as { confidence: string }).confidence).toBe('high');

      await recordHeartbeat(store, 'agent1', clock.now() + 5000);
      clock.advance(10_000);
      const back = await engine.evaluateNow();
      expect(back.resolved.map((i) => `${i.kind}:${i.subject}`)).toEqual(['lp_offline:machine:agent1']);
      expect(await machineIssues()).toEqual([]);
    });

    it('a machine deleted while offline resolves its issue; none without machines', async () => {
      const store = current();
      const clock = new ManualClock(T0);
      const engine = new HealthEngine(store, clock, DEFAULT_RULES);
      await createMachine(store, { machineId: 'agent2', passwordHash: '$2a$10$x', now: T0, isValidated: true });
      clock.set(T0 + 25 * H);
      expect((await engine.evaluateNow()).opened.map((i) => i.kind)).toContain('lp_offline');
      await deleteMachines(store, ['agent2']);
      expect((await engine.evaluateNow()).resolved.map((i) => i.kind)).toEqual(['lp_offline']);
    });
  });
}
