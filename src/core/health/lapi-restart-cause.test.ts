import { describe, expect, it } from 'vitest';
import { lapiRestartCause } from './lapi-restart-cause.ts';

const T0 = Date.UTC(2026, 11, 8, 1, 0, 0);
const MIN = 60_000;
const words = { after: "this bouncer's last pull", notBack: 'it has not pulled since: it did not reconnect' };

describe('lapiRestartCause: a Local API restart soon after the silence began', () => {
  it.each([
    { what: 'within the minimum window, no cadence known', at: T0 + 2 * MIN, cadenceMs: null, blamed: true },
    { what: 'past the minimum window, no cadence known', at: T0 + 2 * MIN + 1, cadenceMs: null, blamed: false },
    { what: 'within three cadences, past the minimum', at: T0 + 15 * MIN, cadenceMs: 5 * MIN, blamed: true },
    { what: 'past three cadences', at: T0 + 15 * MIN + 1, cadenceMs: 5 * MIN, blamed: false },
    { what: 'the minimum when three cadences are shorter', at: T0 + 2 * MIN, cadenceMs: 10_000, blamed: true },
    { what: 'before the silence began', at: T0 - 1, cadenceMs: null, blamed: false },
  ])('$what: blamed $blamed', ({ at, cadenceMs, blamed }) => {
    const cause = lapiRestartCause([at], { since: T0, cadenceMs, minWindowMs: 2 * MIN }, 0, words);
    expect(cause !== null).toBe(blamed);
  });

  it('says when, how long after, in the component words; high confidence only when nothing else explains it', () => {
    const silence = { since: T0, cadenceMs: 10_000, minWindowMs: 2 * MIN };
    expect(lapiRestartCause([T0 - MIN, T0 + 90_400], silence, 0, words)).toEqual({
      cause: 'lapi_restart',
      confidence: 'high',
      evidence: ["the Local API restarted at 2026-12-08T01:01:30Z, 1m30s after this bouncer's last pull, and it has not pulled since: it did not reconnect"],
    });
    expect(lapiRestartCause([T0 + MIN], silence, 1, words)?.confidence).toBe('medium');
  });
});
