import { describe, expect, it } from 'vitest';
import { DIALECTS, useFreshStore } from '../../test/support/databases.ts';
import { buildDecision, manualAlert } from '../core/decisions/new-decisions.ts';
import { alertVolume, knownSafeCandidates } from './console-inputs.ts';
import { addDecisions, softDeleteDecisions } from './decisions.ts';

const T0 = Date.UTC(2026, 11, 7, 0, 0, 0);
const H = 3_600_000;

for (const dialect of DIALECTS) {
  describe(`${dialect}: what the Console's newest issues read`, () => {
    const store = useFreshStore(dialect);
    const add = async (at: number, value: string, opts: { scenario?: string; machineId?: string; duration?: string } = {}) => {
      const scenario = opts.scenario ?? 'crowdsecurity/ssh-bf';
      const d = buildDecision(
        { scope: value.includes('/') ? 'Range' : 'Ip', value, type: 'ban', duration: opts.duration ?? '4h', reason: scenario, origin: 'crowdsec' },
        at,
      );
      return addDecisions(store(), manualAlert({ now: at, scenario, scope: d.scope, value, count: 1, machineId: opts.machineId ?? 'agent-1' }), [d]);
    };

    it('alert volume: the alerts received in the window, found by id; the top senders only past the threshold', async () => {
      expect(await alertVolume(store(), T0, 6 * H, 2)).toEqual({ windowMs: 6 * H, count: 0, topMachines: [], topScenarios: [] });
      // 7 h ago, 5 h ago ×2 (one agent), 1 h ago ×2 (another scenario and agent).
      await add(T0 - 7 * H, '1.1.1.1');
      await add(T0 - 5 * H, '1.1.1.2');
      await add(T0 - 5 * H + 1, '1.1.1.3');
      await add(T0 - H, '1.1.1.4', { scenario: 'my/scan', machineId: 'agent-2' });
      await add(T0 - H + 1, '1.1.1.5', { scenario: 'my/scan', machineId: 'agent-2' });
      expect((await alertVolume(store(), T0, 6 * H, 10)).count).toBe(4);
      expect((await alertVolume(store(), T0, 2 * H, 10)).count).toBe(2);
      expect((await alertVolume(store(), T0 + 10 * H, 6 * H, 10)).count).toBe(0);
      const detailed = await alertVolume(store(), T0, 6 * H, 3);
      expect(detailed.count).toBe(4);
      expect(detailed.topScenarios.map((s) => `${s.scenario} ${s.count}`).sort()).toEqual(['crowdsecurity/ssh-bf 2', 'my/scan 2']);
      expect(detailed.topMachines.map((m) => `${m.machineId} ${m.count}`).sort()).toEqual(['agent-1 2', 'agent-2 2']);
    });

    it('known-safe candidates: active Ip and Range decisions whose text may be private or documentation, and canary decisions', async () => {
      await add(T0, '10.0.0.7');
      await add(T0, '192.0.2.1');
      await add(T0, '2001:db8::/48');
      await add(T0, '8.8.8.8');
      await add(T0, '203.0.113.5', { scenario: 'vigil-canary web' });
      await add(T0, '198.51.100.1', { duration: '1m' });
      const deleted = await add(T0, '192.168.1.1');
      await softDeleteDecisions(store(), deleted.decisionIds, T0 + 1);
      const got = await knownSafeCandidates(store(), T0 + 2 * 60_000);
      expect(got.map((d) => d.value).sort()).toEqual(['10.0.0.7', '192.0.2.1', '2001:db8::/48', '203.0.113.5']);
      // A canary's own address, public or not.
      expect((await knownSafeCandidates(store(), T0 + 2 * 60_000, ['8.8.8.8'])).map((d) => d.value)).toContain('8.8.8.8');
      expect(got.find((d) => d.value === '10.0.0.7')).toMatchObject({ scope: 'Ip', type: 'ban', origin: 'crowdsec', createdAt: T0 });
    });
  });
}
