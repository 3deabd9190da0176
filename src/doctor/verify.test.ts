import { describe, expect, it } from 'vitest';
import { ManualClock } from '../lib/clock.ts';
import type { HttpAnswer } from './network-probe.ts';
import { runVerify, type DecisionBackend, type VerifyDeps, type VerifyOptions } from './verify.ts';

/**
 * The verify sequence with a manual clock: the wait logic, and that the test decision goes away on
 * every path. The backend here is a plain in-memory list (the real store and cscli backends, a real
 * web server and Ctrl-C on a real process are in test/verify.test.ts).
 */
const T0 = Date.UTC(2026, 10, 24, 6, 0, 0);

function memoryBackend(clock: ManualClock) {
  const decisions = new Map<string, { ip: string; until: number }>();
  const pulls = new Map<string, number | null>([['web', T0 - 5000]]);
  let next = 1;
  const backend: DecisionBackend = {
    describe: 'memory',
    async existingDecisions(ip, now) {
      return [...decisions.values()].filter((d) => d.ip === ip && d.until > now).map((d) => d.ip);
    },
    async addDecision({ ip, durationMs, now }) {
      const id = String(next++);
      decisions.set(id, { ip, until: now + durationMs });
      clock.advance(3); // the commit takes a moment
      return { id };
    },
    async removeDecision(id) {
      return decisions.delete(id);
    },
    async lastPull(name) {
      return pulls.has(name) ? { lastPullAt: pulls.get(name)! } : undefined;
    },
  };
  return { backend, decisions, pulls };
}

const answer = (status: number, body = ''): HttpAnswer => ({ ok: true, status, headers: {}, body, ms: 1 });
const OPTS: VerifyOptions = {
  url: 'http://web/',
  ip: '192.0.2.1',
  type: 'ban',
  bouncer: 'web',
  updatePeriodMs: 10_000,
  timeoutMs: 30_000,
  pollMs: 500,
  settleMs: 0,
  requestTimeoutMs: 1000,
  decisionDurationMs: 300_000,
};

/** A clock at T0, an in-memory backend on it, and runVerify's dependencies with `sleep` moving that clock. */
function world() {
  const clock = new ManualClock(T0);
  const m = memoryBackend(clock);
  const deps = (request: VerifyDeps['request'], over: Partial<VerifyDeps> = {}): VerifyDeps => ({
    backend: m.backend,
    clock,
    sleep: async (ms) => clock.advance(ms),
    request,
    ...over,
  });
  return { clock, m, deps };
}

describe('runVerify', () => {
  it('waits for a pull later than the commit, not just any pull, then passes and removes the decision', async () => {
    const clock = new ManualClock(T0);
    const m = memoryBackend(clock);
    let committedAt = 0;
    let polls = 0;
    const result = await runVerify(OPTS, {
      backend: m.backend,
      clock,
      sleep: async (ms) => {
        polls++;
        if (polls === 1) {
          committedAt = clock.now();
          // A pull that started before the commit finished: it may have missed the decision.
          m.pulls.set('web', committedAt - 1);
        }
        if (polls === 4) m.pulls.set('web', clock.now() + 1);
        clock.advance(ms);
      },
      request: async () => (m.decisions.size > 0 && polls >= 4 ? answer(403) : answer(200, 'hello')),
    });
    expect(result.verdict).toBe('pass');
    expect(polls).toBe(4);
    expect(result.steps.map((s) => `${s.step}:${s.ok}`)).toEqual(['baseline:true', 'add:true', 'wait:true', 'check:true', 'remove:true']);
    expect(result.summary).toBe('http://web/ blocks 192.0.2.1 with status 403, 2s after the decision was added');
    expect(m.decisions.size).toBe(0);
    expect(result.decisionRemoved).toBe(true);
  });

  it('gives up after the timeout when the bouncer never pulls, and removes the decision', async () => {
    const { m, deps } = world();
    const result = await runVerify(
      { ...OPTS, timeoutMs: 5000 },
      deps(async () => answer(200)),
    );
    expect(result.verdict).toBe('fail');
    expect(result.summary).toBe("bouncer 'web' did not pull decisions within 5s: it is not receiving them");
    expect(m.decisions.size).toBe(0);
  });

  it('removes the decision when something throws mid-way', async () => {
    const { m, deps } = world();
    let calls = 0;
    const failing = async () => {
      if (++calls === 2) throw new Error('boom');
      return answer(200);
    };
    await expect(runVerify({ ...OPTS, bouncer: undefined, updatePeriodMs: 1000 }, deps(failing))).rejects.toThrow('boom');
    expect(m.decisions.size).toBe(0);
  });

  it('removes the decision when interrupted (abort), and says so', async () => {
    const { clock, m, deps } = world();
    const abort = new AbortController();
    const sleep: VerifyDeps['sleep'] = async (ms, signal) => {
      clock.advance(ms);
      abort.abort();
      if (signal?.aborted) throw new Error('aborted');
    };
    const result = await runVerify(
      OPTS,
      deps(async () => answer(200), { signal: abort.signal, sleep }),
    );
    expect(result.verdict).toBe('aborted');
    expect(result.summary).toBe('interrupted: the test decision was removed');
    expect(m.decisions.size).toBe(0);
  });

  it('refuses to test an address that is already blocked, without adding anything', async () => {
    const { clock, m, deps } = world();
    await m.backend.addDecision({ ip: '192.0.2.1', type: 'ban', durationMs: 60_000, reason: 'x', now: clock.now() });
    const result = await runVerify(
      OPTS,
      deps(async () => answer(403)),
    );
    expect(result.verdict).toBe('fail');
    expect(result.summary).toBe('192.0.2.1 already has an active decision: the test would prove nothing');
    expect(result.decisionId).toBeUndefined();
    expect(m.decisions.size).toBe(1);
  });

  it('accepts a captcha page', async () => {
    const { m, deps } = world();
    const captchaOnceBlocked = async () => (m.decisions.size ? answer(200, '<div class="h-captcha">') : answer(200, 'hello'));
    const result = await runVerify({ ...OPTS, bouncer: undefined, type: 'captcha', updatePeriodMs: 1000 }, deps(captchaOnceBlocked));
    expect(result.verdict).toBe('pass');
    expect(result.summary).toMatch(/with a captcha page/);
  });
});
