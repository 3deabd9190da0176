import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crowdsecBouncersAvailable } from './support/crowdsec-bouncers.ts';
import { startCustomBouncer, type CustomBouncerHandle } from './support/custom-bouncer.ts';
import { startVigilServe, type VigilServe } from './support/vigil-serve.ts';
import { until } from './support/wait.ts';

/**
 * A shared host, as on a real one: two real crowdsec-custom-bouncers and a forward-auth-like client
 * pull from 127.0.0.1 at a `vigil serve` on a random port. One custom bouncer is killed:
 * - its evidence speaks of its own traffic and says the others on 127.0.0.1 kept pulling (not
 *   "nothing at all has arrived from 127.0.0.1");
 * - `vigil issues show`, run with ANOTHER config (listen 127.0.0.1:8080, the same store), prints
 *   the URL serve really listens on, and no systemctl on a host without systemd;
 * - a wrong-key custom bouncer's refused pulls are not the forward-auth client's in `bouncers inspect`.
 */
const exec = promisify(execFile);
const BIN = path.resolve(import.meta.dirname, '../bin/vigil.js');
const available = crowdsecBouncersAvailable();
const systemd = fs.existsSync('/run/systemd/system');

interface IssueJson {
  id: number;
  kind: string;
  subject: string;
}

describe.skipIf(!available.custom)(`evidence on a shared host${available.custom ? '' : ` (skipped: ${available.reason})`}`, () => {
  let work: string;
  let other: string;
  let serve: VigilServe;
  let apiUrl: string;
  const bouncers: CustomBouncerHandle[] = [];
  let pulling: ReturnType<typeof setInterval> | undefined;

  const vigil = async (cwd: string, ...args: string[]) => (await exec(process.execPath, [BIN, ...args], { cwd, timeout: 60_000 })).stdout;
  const log = () => serve.logs();
  const serverLog = () => `server log:\n${log().slice(-3000)}`;

  beforeAll(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-shared-host-'));
    other = path.join(work, 'other-shell');
    fs.mkdirSync(other);
    const db = `sqlite:${path.join(work, 'data', 'vigil.db')}`;
    serve = await startVigilServe({
      workDir: work,
      db,
      configLines: ['activity_flush_every: 250ms', 'health:', '  offline_after: 4s', '  evaluate_every: 500ms'],
    });
    apiUrl = serve.url;
    // The operator's shell elsewhere: the default port in its config, the same store.
    fs.writeFileSync(path.join(other, 'vigil.yaml'), ['listen: 127.0.0.1:8080', `db: ${db}`, ''].join('\n'));
  });

  afterAll(async () => {
    if (pulling) clearInterval(pulling);
    for (const b of bouncers) await b.stop();
    await serve?.stop();
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('speaks of its own traffic, names the real URL, and keeps other clients out of its refused requests', { timeout: 90_000 }, async () => {
    const keyA = (await vigil(serve.dir, 'bouncers', 'add', 'custom-a', '-o', 'raw')).trim();
    const keyB = (await vigil(serve.dir, 'bouncers', 'add', 'custom-b', '-o', 'raw')).trim();
    const keyF = (await vigil(serve.dir, 'bouncers', 'add', 'forward-auth', '-o', 'raw')).trim();
    const a = await startCustomBouncer({ apiUrl, apiKey: keyA, updateFrequency: '1s', workDir: work });
    bouncers.push(a, await startCustomBouncer({ apiUrl, apiKey: keyB, updateFrequency: '1s', workDir: work }));
    // A third client on 127.0.0.1 with its own product, pulling as Vigil's forward-auth bouncer does.
    const pullF = (startup: boolean) =>
      fetch(`${apiUrl}v1/decisions/stream?startup=${startup}`, { headers: { 'X-Api-Key': keyF, 'User-Agent': 'vigil-bouncer/1.0.0' } })
        .then((r) => r.arrayBuffer())
        .catch(() => undefined);
    await pullF(true);
    pulling = setInterval(() => void pullF(false), 1000);
    await until(
      'three healthy bouncers',
      async () => {
        const list: Array<{ name: string; health: string; ip_address: string }> = JSON.parse(await vigil(serve.dir, 'bouncers', 'list', '-o', 'json'));
        return list.length === 3 && list.every((b) => b.health === 'healthy' && b.ip_address === '127.0.0.1') ? true : undefined;
      },
      serverLog,
    );

    await a.stop();
    const issue = await until(
      'RC Integration Offline for custom-a',
      async () =>
        (JSON.parse(await vigil(serve.dir, 'issues', 'list', '-o', 'json')) as IssueJson[]).find(
          (i) => i.kind === 'rc_integration_offline' && i.subject === 'bouncer:custom-a',
        ),
      serverLog,
      30_000,
    );
    const shown = await vigil(other, 'issues', 'show', String(issue.id));
    expect(shown).not.toContain('nothing at all has arrived from 127.0.0.1');
    expect(shown).toContain('nothing with its key or its User-Agent crowdsec-custom-bouncer/- has arrived since');
    expect(shown).toMatch(/other bouncers on 127\.0\.0\.1 kept pulling \(last: '(custom-b|forward-auth)' at /);
    // The URL serve listens on, though this shell's config says 8080.
    expect(shown).toContain(serve.url);
    expect(shown).not.toContain('127.0.0.1:8080');
    if (!systemd) {
      expect(shown).not.toMatch(/systemctl|journalctl/);
      expect(shown).toContain('pgrep -af crowdsec-custom-bouncer');
    }

    // A wrong key from the same address, with the custom bouncer's User-Agent.
    bouncers.push(await startCustomBouncer({ apiUrl, apiKey: 'not-the-key-0000000000000000000', updateFrequency: '1s', workDir: work }));
    type Inspect = { recentRefused: Array<{ userAgent: string; whose: string }> };
    const inspect = async (name: string): Promise<Inspect> => JSON.parse(await vigil(other, 'bouncers', 'inspect', name, '-o', 'json'));
    const ofB = await until(
      'the refused pulls recorded',
      async () => {
        const b = await inspect('custom-b');
        return b.recentRefused.length > 0 ? b : undefined;
      },
      serverLog,
    );
    // custom-a and custom-b share the address and the product: only low confidence, and said so.
    expect(ofB.recentRefused[0]).toMatchObject({
      userAgent: 'crowdsec-custom-bouncer/-',
      whose: 'its address, shared with 2 other bouncer(s) (low confidence)',
    });
    expect((await inspect('forward-auth')).recentRefused).toEqual([]);
  });
});
