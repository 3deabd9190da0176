import { describe, expect, it } from 'vitest';
import { DIALECTS, useFreshStore } from '../../test/support/databases.ts';
import { buildDecision, manualAlert } from '../core/decisions/new-decisions.ts';
import { addDecisions, softDeleteDecisions } from '../store/decisions.ts';
import { KnownSafeTracker } from './known-safe-tracker.ts';
import { AllowlistMatcher } from '../core/allowlists/allowlists.ts';
import { evaluateKnownSafeIp } from '../core/health/known-safe-ip.ts';

const T0 = Date.UTC(2026, 11, 7, 0, 0, 0);

for (const dialect of DIALECTS) {
  describe(`${dialect}: Blocking Known Safe IP's input follows the decisions revision`, () => {
    const store = useFreshStore(dialect);
    const add = async (at: number, value: string, duration = '1h') => {
      const d = buildDecision({ scope: 'Ip', value, type: 'ban', duration, reason: 'test', origin: 'cscli' }, at);
      return (await addDecisions(store(), manualAlert({ now: at, scenario: 'test', scope: 'Ip', value, count: 1, machineId: '' }), [d])).decisionIds[0]!;
    };
    const values = async (t: KnownSafeTracker, now: number, canaries: string[] = []) => (await t.input(now, canaries)).decisions.map((d) => d.value).sort();

    it('a full read first, then new, deleted and expired decisions as they change; canary addresses count', async () => {
      await add(T0, '10.0.0.1');
      await add(T0, '8.8.8.8');
      const tracker = new KnownSafeTracker(store());
      expect(await values(tracker, T0 + 1)).toEqual(['10.0.0.1']);
      const doc = await add(T0 + 2, '192.0.2.9');
      await add(T0 + 2, '192.168.1.1', '1m');
      await add(T0 + 2, '9.9.9.9');
      expect(await values(tracker, T0 + 3)).toEqual(['10.0.0.1', '192.0.2.9', '192.168.1.1']);
      await softDeleteDecisions(store(), [doc], T0 + 4);
      expect(await values(tracker, T0 + 5)).toEqual(['10.0.0.1', '192.168.1.1']);
      // Expiry moves no revision: dropped by time.
      expect(await values(tracker, T0 + 2 + 60_001)).toEqual(['10.0.0.1']);
      expect(await values(tracker, T0 + 2 + 60_001, ['8.8.8.8'])).toEqual(['10.0.0.1', '8.8.8.8']);
    });

    it('holds at most twice the decisions it judges, and reads the rest again when too few remain', async () => {
      const values = Array.from({ length: 2500 }, (_, i) => `10.1.${i >> 8}.${i & 255}`);
      const ds = values.map((value) => buildDecision({ scope: 'Ip', value, type: 'ban', duration: '1h', reason: 'test', origin: 'cscli' }, T0));
      const { decisionIds } = await addDecisions(
        store(),
        manualAlert({ now: T0, scenario: 'test', scope: 'Ip', value: '10.1.0.0', count: 2500, machineId: '' }),
        ds,
      );
      const tracker = new KnownSafeTracker(store());
      const first = await tracker.input(T0 + 1, []);
      expect(first.decisions.map((d) => d.value)).toEqual(values.slice(0, 1000));
      expect(tracker.held).toBe(2000);
      // 100 more arrive: not held (enough are), still the same 1,000 judged.
      const more = Array.from({ length: 100 }, (_, i) =>
        buildDecision({ scope: 'Ip', value: `10.2.0.${i}`, type: 'ban', duration: '1h', reason: 'test', origin: 'cscli' }, T0 + 2),
      );
      await addDecisions(store(), manualAlert({ now: T0 + 2, scenario: 'test', scope: 'Ip', value: '10.2.0.0', count: 100, machineId: '' }), more);
      expect((await tracker.input(T0 + 3, [])).decisions.map((d) => d.value)).toEqual(values.slice(0, 1000));
      expect(tracker.held).toBe(2000);
      // The first 2,200 deleted: 300 of the import and the 100 later ones remain, read again from the store.
      await softDeleteDecisions(store(), decisionIds.slice(0, 2200), T0 + 4);
      const rest = await tracker.input(T0 + 5, []);
      expect(rest.decisions.map((d) => d.value)).toEqual([...values.slice(2200), ...more.map((d) => d.value)]);
    });

    it('an allowlisted public address is a candidate once an allowlist holds it, and the evaluator names the list', async () => {
      await add(T0, '8.8.4.4');
      const tracker = new KnownSafeTracker(store());
      const none = { matcher: new AllowlistMatcher([], T0), key: '' };
      expect((await tracker.input(T0 + 1, [], none)).decisions).toEqual([]);
      const entries = [{ listName: 'partners', item: { value: '8.8.4.0/24', comment: 'dns', expiresAt: null } }];
      const listed = { matcher: new AllowlistMatcher(entries, T0), key: 'partners/8.8.4.0/24' };
      const input = await tracker.input(T0 + 2, [], listed);
      expect(input.decisions.map((d) => d.value)).toEqual(['8.8.4.4']);
      expect(input.allowlistOf?.('8.8.4.4')).toContain('partners');
      // A decision added later on a listed address is found by the incremental read.
      await add(T0 + 3, '8.8.4.5');
      const later = await tracker.input(T0 + 4, [], listed);
      expect(later.decisions.map((d) => d.value).sort()).toEqual(['8.8.4.4', '8.8.4.5']);
      const [finding] = evaluateKnownSafeIp(later, T0 + 4);
      expect(finding?.kind).toBe('blocking_safe_ip');
    });
  });
}
