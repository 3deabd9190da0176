import { afterEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import { ManualClock } from '../lib/clock.ts';
import { startHttpReceiver, type HttpReceiver } from '../../test/support/receivers.ts';
import { Heartbeat, heartbeatBody, shownUrl } from './heartbeat.ts';
import { loadNotificationsConfig, resolveHeartbeat } from './config.ts';

const T0 = Date.UTC(2026, 11, 7, 12, 0, 0);
const receivers: HttpReceiver[] = [];
afterEach(async () => {
  for (const r of receivers.splice(0)) await r.close();
});

function logLines(): { log: pino.Logger; lines: string[] } {
  const lines: string[] = [];
  const log = pino({ level: 'info' }, { write: (s: string) => lines.push(s) });
  return { log, lines };
}

describe('heartbeat (watch the watcher)', () => {
  it('pings after an evaluation, at most once per `every`, with the open issues by criticality', async () => {
    const rx = await startHttpReceiver();
    receivers.push(rx);
    const clock = new ManualClock(T0);
    const hb = new Heartbeat({ url: rx.url, everyMs: 60_000, timeoutMs: 5000 }, clock, logLines().log);
    hb.evaluated([{ criticality: 'critical' }, { criticality: 'warning' }, { criticality: 'warning' }]);
    await hb.idle();
    expect(rx.requests).toHaveLength(1);
    expect(rx.requests[0]!.method).toBe('POST');
    expect(rx.requests[0]!.json).toEqual({
      status: 'evaluating',
      evaluated_at: new Date(T0).toISOString(),
      open_issues: { critical: 1, high: 0, warning: 2, recommended: 0 },
    });
    // Evaluations every 10 s: one ping a minute.
    for (let i = 1; i < 6; i++) {
      clock.advance(10_000);
      hb.evaluated([]);
      await hb.idle();
    }
    expect(rx.requests).toHaveLength(1);
    clock.advance(10_000);
    hb.evaluated([]);
    await hb.idle();
    expect(rx.requests).toHaveLength(2);
    expect(hb.sent).toBe(2);
  });

  it('sends nothing while no evaluation happens (a wedged engine stops the pings)', async () => {
    const rx = await startHttpReceiver();
    receivers.push(rx);
    const clock = new ManualClock(T0);
    const hb = new Heartbeat({ url: rx.url, everyMs: 60_000, timeoutMs: 5000 }, clock, logLines().log);
    hb.evaluated([]);
    await hb.idle();
    clock.advance(3_600_000);
    await new Promise((r) => setTimeout(r, 200));
    expect(rx.requests).toHaveLength(1);
  });

  it('logs a failing receiver once (without the secret path), and its recovery', async () => {
    const rx = await startHttpReceiver([{ status: 500 }, { status: 503 }]);
    receivers.push(rx);
    const clock = new ManualClock(T0);
    const { log, lines } = logLines();
    const hb = new Heartbeat({ url: rx.url, everyMs: 60_000, timeoutMs: 5000 }, clock, log);
    for (let i = 0; i < 3; i++) {
      hb.evaluated([]);
      await hb.idle();
      clock.advance(60_000);
    }
    expect(rx.requests).toHaveLength(3);
    const text = lines.join('');
    expect(text.match(/heartbeat to .* failed \(answered 500\)/g)).toHaveLength(1);
    expect(text).toContain('accepted again');
    expect(text).not.toContain('secret-token-123');
    expect(hb.sent).toBe(1);
  });

  it('the body counts only known criticalities', () => {
    expect(heartbeatBody(T0, [{ criticality: 'high' }, { criticality: 'bogus' }]).open_issues).toEqual({ critical: 0, high: 1, warning: 0, recommended: 0 });
    expect(shownUrl('https://hc-ping.com/0b7c-secret')).toBe('https://hc-ping.com/…');
  });

  it('configuration: `${VAR}` resolved at start, a bad URL refused naming the key', () => {
    const c = loadNotificationsConfig({ heartbeat: { url: '${HC_URL}', every: '2m' } }, 'vigil.yaml');
    expect(c.heartbeat).toEqual({ url: '${HC_URL}', everyMs: 120_000 });
    expect(resolveHeartbeat(c, { HC_URL: 'https://hc-ping.com/abc' })).toEqual({ url: 'https://hc-ping.com/abc', everyMs: 120_000, timeoutMs: 10_000 });
    expect(() => resolveHeartbeat(c, {})).toThrow(/notifications\.heartbeat\.url: environment variable HC_URL is not set/);
    const ftp = loadNotificationsConfig({ heartbeat: { url: 'ftp://x/y' } }, null);
    expect(() => resolveHeartbeat(ftp, {})).toThrow(/notifications\.heartbeat\.url: must be an http:\/\/ or https:\/\/ URL/);
    expect(loadNotificationsConfig({}, null).heartbeat).toBeNull();
    expect(() => loadNotificationsConfig({ heartbeat: { url: 'https://x/y', every: 'soon' } }, null)).toThrow(/heartbeat\.every/);
  });
});
