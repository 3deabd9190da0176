import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crowdsecBouncersAvailable } from './support/crowdsec-bouncers.ts';
import { startCustomBouncer, type CustomBouncerHandle } from './support/custom-bouncer.ts';
import { awaitHealthy, freePort, loggedProcess, type LoggedProcess } from './support/processes.ts';
import { startHttpReceiver, type HttpReceiver } from './support/receivers.ts';
import { until } from './support/wait.ts';

/**
 * Issue 24 item 2 with real programs: Debian's crowdsec-custom-bouncer pulls from the real `vigil
 * serve` every 2 s until its cadence is learnt; serve is stopped for longer than the offline
 * threshold (late after 6 s, offline after 10 s: floors set low in vigil.yaml so the test is short),
 * then started again on the same store. The bouncer pulls again at its next tick: no issue opens
 * and a real webhook receiver is told nothing, because the time Vigil was down is not its silence.
 */
const exec = promisify(execFile);
const BIN = path.resolve(import.meta.dirname, '../bin/vigil.js');
const available = crowdsecBouncersAvailable();
const OUTAGE_MS = 15_000;

interface BouncerJson {
  name: string;
  last_pull: string | null;
  pull_cadence_ms: number | null;
}

describe.skipIf(!available.custom)(
  `Vigil's own downtime with the real crowdsec-custom-bouncer${available.custom ? '' : ` (skipped: ${available.reason})`}`,
  () => {
    let work: string;
    let serve: LoggedProcess;
    let hook: HttpReceiver;
    let url: string;
    let bouncer: CustomBouncerHandle | undefined;
    let key: string;
    const vigil = async (...args: string[]) => (await exec(process.execPath, [BIN, ...args], { cwd: work, timeout: 60_000 })).stdout;
    const bouncers = async (): Promise<BouncerJson[]> => JSON.parse(await vigil('bouncers', 'list', '-o', 'json'));
    const context = () => `serve log:\n${serve.logs().slice(-3000)}\nbouncer log:\n${bouncer?.logs().slice(-2000) ?? ''}`;

    beforeAll(async () => {
      work = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-downtime-'));
      hook = await startHttpReceiver();
      const port = await freePort();
      url = `http://127.0.0.1:${port}/`;
      fs.writeFileSync(
        path.join(work, 'vigil.yaml'),
        [
          `listen: 127.0.0.1:${port}`,
          'db: sqlite:./data/vigil.db',
          'metrics_listen: 127.0.0.1:0',
          'activity_flush_every: 250ms',
          'health:',
          '  late_after_factor: 3',
          '  late_after_min: 1s',
          '  offline_after_factor: 5',
          '  offline_after_min: 1s',
          '  evaluate_every: 250ms',
          'notifications:',
          '  channels:',
          '    hook:',
          '      type: webhook',
          `      url: ${hook.url}`,
          '',
        ].join('\n'),
      );
      // Registered before the first start, so no fleet-level "no bouncer" issue opens either.
      key = (await vigil('bouncers', 'add', 'custom', '-o', 'raw')).trim();
      serve = loggedProcess(process.execPath, [BIN, 'serve', '--config', path.join(work, 'vigil.yaml')], { cwd: work });
      serve.spawn();
      await awaitHealthy(serve, url, 20_000, 'vigil serve');
    }, 60_000);

    afterAll(async () => {
      await bouncer?.stop();
      await serve?.stop();
      await hook?.close();
      if (work) fs.rmSync(work, { recursive: true, force: true });
    });

    it('serve down for longer than the offline threshold, the bouncer back within its cadence: no issue, nothing sent', async () => {
      bouncer = await startCustomBouncer({ apiUrl: url, apiKey: key, updateFrequency: '2s', workDir: work });
      const learnt = await until(
        'the 2 s cadence learnt',
        async () => {
          const [b] = await bouncers();
          return b?.pull_cadence_ms ? b : undefined;
        },
        context,
        40_000,
      );
      expect(learnt.pull_cadence_ms).toBeGreaterThan(1500);
      expect(learnt.pull_cadence_ms).toBeLessThan(2500);

      await serve.stop();
      const stoppedAt = Date.now();
      await new Promise((r) => setTimeout(r, OUTAGE_MS));
      serve.spawn();
      await awaitHealthy(serve, url, 20_000, 'vigil serve (restarted)');
      const restartedAt = Date.now();
      // Its next pull comes at its next tick (within its 2 s cadence of the start).
      const back = await until(
        'a pull after the restart',
        async () => {
          const [b] = await bouncers();
          return b?.last_pull && Date.parse(b.last_pull) >= restartedAt - 1000 ? Date.parse(b.last_pull) : undefined;
        },
        context,
        20_000,
      );
      expect(back - stoppedAt).toBeGreaterThan(OUTAGE_MS);
      // Evaluations every 250 ms since the start, and a few more now that it pulls again.
      await new Promise((r) => setTimeout(r, 3000));
      expect(JSON.parse(await vigil('issues', 'list', '--all', '-o', 'json')), context()).toEqual([]);
      expect(hook.requests.map((q) => q.json?.headline ?? q.body)).toEqual([]);
    }, 120_000);
  },
);
