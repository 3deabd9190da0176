import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crowdsecBouncersAvailable } from './support/crowdsec-bouncers.ts';
import { startCustomBouncer, type CustomBouncerHandle } from './support/custom-bouncer.ts';
import { until } from './support/wait.ts';
import { startVigilServe, type VigilServe } from './support/vigil-serve.ts';

/**
 * The seed's story end to end with Debian's real crowdsec-custom-bouncer and the real `vigil`
 * binary (SQLite; the store layer is proven on PostgreSQL elsewhere): stop the bouncer and RC
 * Integration Offline opens (offline_after 4s) with cause "stopped or network"; start it with a
 * wrong key and the cause becomes "authentication"; fix the key and the issue resolves.
 */
const available = crowdsecBouncersAvailable();

interface IssueJson {
  id: number;
  kind: string;
  subject: string;
  status: string;
  evidence: { causes: Array<{ cause: string; evidence: string[] }> };
}

describe.skipIf(!available.custom)(`health with the real crowdsec-custom-bouncer${available.custom ? '' : ` (skipped: ${available.reason})`}`, () => {
  let work: string;
  let serve: VigilServe;
  let apiUrl: string;
  const bouncers: CustomBouncerHandle[] = [];

  const vigil = (...args: string[]) => serve.cli(...args);
  const issues = async (): Promise<IssueJson[]> => JSON.parse(await vigil('issues', 'list', '-o', 'json'));
  const log = () => serve.logs();
  const serverLog = () => `server log:\n${log().slice(-3000)}`;

  beforeAll(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-health-e2e-'));
    serve = await startVigilServe({
      workDir: work,
      configLines: ['activity_flush_every: 250ms', 'health:', '  offline_after: 4s', '  evaluate_every: 500ms'],
    });
    apiUrl = serve.url;
  });

  afterAll(async () => {
    for (const b of bouncers) await b.stop();
    await serve?.stop();
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('opens on silence (stopped), turns to authentication on a wrong key, resolves when the key is fixed', async () => {
    const key = await vigil('bouncers', 'add', 'custom-health', '-o', 'raw');
    const running = await startCustomBouncer({ apiUrl, apiKey: key, updateFrequency: '1s', workDir: work });
    bouncers.push(running);
    // Healthy while it pulls.
    await until(
      'a pull recorded',
      async () => {
        const list = JSON.parse(await vigil('bouncers', 'list', '-o', 'json'));
        return list[0]?.health === 'healthy' && list[0]?.type === 'crowdsec-custom-bouncer' ? true : undefined;
      },
      serverLog,
    );
    expect((await issues()).filter((i) => i.subject === 'bouncer:custom-health')).toEqual([]);

    await running.stop();
    const offline = await until(
      'RC Integration Offline',
      async () => (await issues()).find((i) => i.kind === 'rc_integration_offline' && i.subject === 'bouncer:custom-health'),
      serverLog,
    );
    expect(offline.evidence.causes[0]!.cause).toBe('stopped_or_network');
    expect(log()).toContain('issue opened');
    const shown = await vigil('issues', 'show', String(offline.id));
    expect(shown).toContain('service stopped, integration not loaded, or network');
    // The service steps follow the host serve runs on: systemctl with systemd, the process and its log file without.
    expect(shown).toContain(fs.existsSync('/run/systemd/system') ? 'systemctl' : 'pgrep -af crowdsec-custom-bouncer');

    const wrong = await startCustomBouncer({ apiUrl, apiKey: 'not-the-key-0000000000000000000', updateFrequency: '1s', workDir: work });
    bouncers.push(wrong);
    const auth = await until(
      'cause authentication',
      async () => {
        const i = (await issues()).find((x) => x.id === offline.id);
        return i?.evidence.causes[0]?.cause === 'authentication' ? i : undefined;
      },
      serverLog,
    );
    expect(auth.evidence.causes[0]!.evidence[0]).toMatch(
      /refused \(unknown key\) GET \/v1\/decisions\/stream from 127\.0\.0\.1 with User-Agent crowdsec-custom-bouncer\/-/,
    );
    expect(await vigil('issues', 'show', String(offline.id))).toContain('authentication failure');
    await wrong.stop();

    const fixed = await startCustomBouncer({ apiUrl, apiKey: key, updateFrequency: '1s', workDir: work });
    bouncers.push(fixed);
    await until('resolution', async () => ((await issues()).some((i) => i.id === offline.id) ? undefined : true), serverLog);
    const history: IssueJson[] = JSON.parse(await vigil('issues', 'list', '--all', '-o', 'json'));
    expect(history.find((i) => i.id === offline.id)!.status).toBe('resolved');
    expect(log()).toContain('issue resolved');
  });
});
