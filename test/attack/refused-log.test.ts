import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, freshDbUrl } from '../support/databases.ts';
import { startServer, createLogger, type RunningServer } from '../../src/app/serve.ts';
import { loadConfig } from '../../src/config/config.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import { floodRandomKeys, get } from './flood.ts';

/**
 * Issue 15: a refused-key flood wrote one warn line per request (14.5 MB for 100k). The first
 * refusal from an address is still logged at once, in full; the rest are summed in one line per
 * 10 s with counts and the addresses sending most. The log is dialect-independent: one dialect.
 */
const T0 = Date.UTC(2026, 10, 2, 0, 0, 0);

describe(`${DIALECTS[0]}: the refused-request log under a flood`, () => {
  let server: RunningServer;
  let cleanup: () => Promise<void>;
  const clock = new ManualClock(T0);
  const lines: string[] = [];
  let bytes = 0;
  let partial = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      bytes += chunk.length;
      const text = partial + chunk.toString('utf8');
      const parts = text.split('\n');
      partial = parts.pop()!;
      lines.push(...parts);
      done();
    },
  });
  const messages = () => lines.map((l) => JSON.parse(l) as { level: number; msg: string; ip?: string; refused?: number });

  beforeAll(async () => {
    const db = await freshDbUrl(DIALECTS[0]!);
    cleanup = db.cleanup;
    const config = loadConfig({ flags: { listen: '127.0.0.1:0', db: db.url, metricsListen: '127.0.0.1:0' }, env: {}, cwd: '/nonexistent' });
    config.health.evaluateEveryMs = 0;
    server = await startServer(config, { clock, log: createLogger('info', sink) });
  });
  afterAll(async () => {
    await cleanup?.();
  });

  it('logs 100k refused keys from 249 addresses in under 50 KB, the first refusal of a new address in full', async () => {
    const before = bytes;
    const statuses = await floodRandomKeys(server.url, {
      total: 100_000,
      userAgent: 'python-requests/2.31.0',
      chunk: 10_000,
      // 100k requests over 20 s of the server's clock: two summing periods and a bit.
      between: async () => clock.advance(2000),
    });
    expect(statuses.get(403)).toBe(100_000);
    // An address never seen before, after the flood: its first refusal is logged at once.
    clock.advance(10_000);
    expect(await get(server.url, '/v1/decisions/stream', { 'X-Api-Key': 'stale-key', 'User-Agent': 'crowdsec-nginx-bouncer/v1.0.8' }, '127.0.0.251')).toBe(403);
    expect(messages().find((m) => m.ip === '127.0.0.251')?.msg).toBe('refused bouncer request (first from 127.0.0.251; more are summed every 10s)');
    await server.close();

    const floodBytes = bytes - before;
    expect(floodBytes).toBeLessThan(50_000);
    const refusals = messages().filter((m) => m.msg.startsWith('refused '));
    const firsts = refusals.filter((m) => m.msg.startsWith('refused bouncer request (first from'));
    const sums = refusals.filter((m) => m.refused !== undefined);
    // Every request is accounted for: logged in full, or counted in a sum.
    expect(firsts.length + sums.reduce((n, m) => n + m.refused!, 0)).toBe(100_001);
    expect(firsts.map((m) => m.ip)).toContain('127.0.0.2');
    expect(sums.length).toBeGreaterThanOrEqual(2);
    expect(sums[0]!.msg).toMatch(
      /^refused [\d,]+ bouncer request\(s\) from [\d,]+ address\(es\) in the last \d+s(; [\d,]+ from addresses not logged yet)?; top: 127\.0\.0\.\d+ \([\d,]+, unknown key\)/,
    );
  }, 60_000);
});
