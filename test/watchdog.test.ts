import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { startHttpReceiver } from './support/receivers.ts';
import { startVigilServe } from './support/vigil-serve.ts';

/**
 * Watch the watcher, end to end: the real `vigil serve` pings the operator's dead-man's switch (a real
 * HTTP receiver on loopback) after its health evaluations, with `${VAR}` in the URL resolved from its
 * environment, and stops pinging when it stops.
 */
describe('vigil serve heartbeat (notifications.heartbeat)', () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-watchdog-'));
  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

  it('pings after its first evaluation, at most once per `every`, and no more once stopped', async () => {
    const rx = await startHttpReceiver();
    const vigil = await startVigilServe({
      workDir: work,
      configLines: ['health:', '  evaluate_every: 1s', 'notifications:', '  heartbeat:', `    url: ${rx.url}`, '    every: 2s'],
    });
    try {
      const [first] = await rx.waitFor(1, 20_000);
      expect(first!.method).toBe('POST');
      expect(first!.json.status).toBe('evaluating');
      expect(Object.keys(first!.json.open_issues)).toEqual(['critical', 'high', 'warning', 'recommended']);
      await rx.waitFor(2, 20_000);
      // Evaluations every second, pings at most every 2 s.
      const gap = rx.requests[1]!.at - rx.requests[0]!.at;
      expect(gap).toBeGreaterThanOrEqual(1900);
      // The ping URL's secret path never reaches the log.
      expect(vigil.logs()).not.toContain('secret-token-123');
    } finally {
      await vigil.stop();
    }
    const after = rx.requests.length;
    await new Promise((r) => setTimeout(r, 3000));
    expect(rx.requests.length).toBe(after);
    await rx.close();
  });
});
