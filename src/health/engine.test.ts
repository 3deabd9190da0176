import { describe, expect, it } from 'vitest';
import { DIALECTS, useFreshStore } from '../../test/support/databases.ts';
import { ManualClock } from '../lib/clock.ts';
import { hashApiKey } from '../core/bouncers/api-key.ts';
import { FLAP_OPENS, flappingKeys, HealthEngine } from './engine.ts';
import { DEFAULT_RULES } from '../core/health/evaluate.ts';
import { issueStatus } from '../core/health/issue-view.ts';

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
      const b = await store.createBouncer({ name: 'flappy', apiKeyHash: hashApiKey('k'), now: T0 });
      await store.createBouncer({ name: 'steady', apiKeyHash: hashApiKey('s'), now: T0 });
      for (let n = 1; n <= FLAP_OPENS; n++) {
        clock.advance(H + 1000);
        await store.applyBouncerActivity([{ id: b.id + 1, lastPullAt: clock.now() }], clock.now());
        const opened = await engine.evaluateNow();
        expect(opened.opened.map((i) => i.subject)).toEqual(['bouncer:flappy']);
        await store.applyBouncerActivity([{ id: b.id, lastPullAt: clock.now() }], clock.now());
        expect((await engine.evaluateNow()).resolved.map((i) => i.subject)).toEqual(['bouncer:flappy']);
      }
      clock.advance(H + 1000);
      await store.applyBouncerActivity([{ id: b.id + 1, lastPullAt: clock.now() }], clock.now());
      await engine.evaluateNow();
      const flapping = await flappingKeys(store, clock.now());
      const [open] = await store.openHealthIssues();
      expect(issueStatus(open!, flapping)).toBe('flapping');
      expect(await store.healthIssues({ includeResolved: true })).toHaveLength(FLAP_OPENS + 1);
      // A day later the history no longer counts as flapping.
      expect(issueStatus(open!, await flappingKeys(store, clock.now() + 25 * H))).toBe('open');
    });
  });
}
