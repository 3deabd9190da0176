import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { DIALECTS, freshDbUrl, type TestDialect } from './support/databases.ts';
import { freePort } from './support/processes.ts';
import { startHttpReceiver } from './support/receivers.ts';
import { spawnVigil } from './support/vigil-process.ts';
import { until } from './support/wait.ts';
import { useCleanups } from './support/cleanups.ts';

/**
 * Reload without a restart (SIGHUP, `vigil reload`) on a real `vigil serve`: a channel added to
 * vigil.yaml gets the next notification, with the issue that was open before the reload (same id,
 * never reopened); a bad file keeps the running configuration and says why in one line; a setting
 * that needs a restart is named and the rest applied.
 */
const BIN = path.resolve('bin/vigil.js');
const exec = promisify(execFile);

const cleanups = useCleanups();

/** `vigil serve` on a fresh database of `dialect` and a free port, evaluating health every 200 ms; removed after the test. */
async function startServe(dialect: TestDialect) {
  const db = await freshDbUrl(dialect);
  cleanups.push(db.cleanup);
  const dbUrl = db.url;
  const port = await freePort();
  const dir = cleanups.tempDir('vigil-reload-');
  const configPath = path.join(dir, 'vigil.yaml');
  const base = [`listen: 127.0.0.1:${port}`, `db: ${dbUrl}`, 'metrics_listen: "off"', 'health:', '  evaluate_every: 200ms'];
  fs.writeFileSync(configPath, `${base.join('\n')}\n`);
  // The run file goes beside a SQLite store, else into the data directory: keep it in this test's folder.
  const env = { ...process.env, VIGIL_CONFIG: configPath, VIGIL_DATA_DIR: dir };
  const vigil = await spawnVigil(['serve', '--config', configPath], { cwd: dir, env, readyWhen: 'Vigil Local API listening', cleanups });
  const cli = async (...args: string[]) => {
    try {
      const r = await exec(process.execPath, [BIN, ...args], { cwd: dir, env, timeout: 30_000 });
      return { code: 0, stdout: r.stdout, stderr: r.stderr };
    } catch (e) {
      const err = e as { code?: number; stdout?: string; stderr?: string };
      return { code: err.code ?? -1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
    }
  };
  const write = (extra: string[]) => fs.writeFileSync(configPath, `${[...base, ...extra].join('\n')}\n`);
  return { ...vigil, port, dbUrl, configPath, cli, write };
}

const channel = (name: string, url: string) => [`    ${name}:`, '      type: webhook', `      url: ${url}`];

for (const dialect of DIALECTS) {
  describe(`${dialect}: reload without a restart`, () => {
    it('a channel added to vigil.yaml gets the next notification after SIGHUP, then after `vigil reload`; open issues are kept', async () => {
      const first = await startHttpReceiver();
      cleanups.push(() => first.close());
      const second = await startHttpReceiver();
      cleanups.push(() => second.close());
      const serve = await startServe(dialect);

      // No bouncer registered: se_no_rc opens at the first evaluation, with no channel to tell.
      await until('the first issue', () => (serve.output().includes('issue opened') ? true : undefined), serve.output);
      const openBefore = JSON.parse((await serve.cli('issues', 'list', '-o', 'json')).stdout) as Array<{ id: number; kind: string }>;
      expect(openBefore.map((i) => i.kind)).toEqual(['se_no_rc']);

      serve.write(['notifications:', '  channels:', ...channel('first', first.url)]);
      serve.child.kill('SIGHUP');
      const [m] = await first.waitFor(1);
      expect(m!.json).toMatchObject({ event: 'opened', issues: [{ id: openBefore[0]!.id, kind: 'se_no_rc' }] });
      expect(serve.logLines(/reloaded .*vigil\.yaml: applied notifications/)).toHaveLength(1);

      serve.write(['notifications:', '  channels:', ...channel('first', first.url), ...channel('second', second.url)]);
      const r = await serve.cli('reload');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/applied notifications/);
      const [m2] = await second.waitFor(1);
      expect(m2!.json).toMatchObject({ event: 'opened', issues: [{ id: openBefore[0]!.id }] });
      // The first channel was told once: nothing is sent again for the issue it already knows.
      expect(first.requests).toHaveLength(1);
      const openAfter = JSON.parse((await serve.cli('issues', 'list', '-o', 'json')).stdout) as Array<{ id: number }>;
      expect(openAfter.map((i) => i.id)).toEqual(openBefore.map((i) => i.id));
      expect(serve.child.exitCode).toBe(null);
    });

    it('a bad file keeps the running configuration: one line naming the file, the key and the reason; `vigil reload` exits 1', async () => {
      const serve = await startServe(dialect);

      serve.write(['notifications:', '  channels:', '    chat:', '      type: opsgenie', '      url: http://127.0.0.1:9/']);
      serve.child.kill('SIGHUP');
      await until('the refusal', () => (serve.logLines(/reload refused/).length === 1 ? true : undefined), serve.output);
      const [refused] = serve.logLines(/reload refused/);
      expect(refused).toContain(serve.configPath);
      expect(refused).toContain('notifications.channels.chat.type: use webhook, slack, email, pagerduty, alertmanager, teams or discord');
      expect(refused).toContain('running configuration kept');

      // `vigil reload` reads the same file first: it exits 1 with one line naming the file, the key and the reason.
      const r = await serve.cli('reload');
      expect(r.code).toBe(1);
      const stderr = r.stderr.trim().split('\n');
      expect(stderr).toHaveLength(1);
      expect(stderr[0]).toContain(serve.configPath);
      expect(stderr[0]).toContain('notifications.channels.chat.type');
      expect(stderr[0]).toContain('vigil serve keeps its running configuration');

      // YAML that does not parse: the same, by SIGHUP.
      fs.writeFileSync(serve.configPath, 'listen: [unclosed\n');
      serve.child.kill('SIGHUP');
      await until('the second refusal', () => (serve.logLines(/reload refused/).length === 2 ? true : undefined), serve.output);
      expect(serve.logLines(/reload refused/)[1]).toContain(serve.configPath);

      // Still serving, as it was.
      const health = await fetch(`http://127.0.0.1:${serve.port}/health`);
      expect(health.ok).toBe(true);
      expect(serve.child.exitCode).toBe(null);
    });

    it('a setting that needs a restart is named in one line; the rest is applied', async () => {
      const serve = await startServe(dialect);
      const other = await freePort();
      fs.writeFileSync(
        serve.configPath,
        [`listen: 127.0.0.1:${other}`, `db: ${serve.dbUrl}`, 'metrics_listen: "off"', 'log_level: debug', 'health:', '  evaluate_every: 200ms', ''].join('\n'),
      );
      const r = await serve.cli('reload');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/applied log_level; listen changed: needs a restart/);
      expect(serve.logLines(/needs a restart/)).toHaveLength(1);
      // Still on the old port, and now at debug level.
      expect((await fetch(`http://127.0.0.1:${serve.port}/health`)).ok).toBe(true);
    });

    it('a canary added to vigil.yaml runs after a reload, without a restart', async () => {
      const serve = await startServe(dialect);
      // No such bouncer: the run fails at once, which is enough to see it ran.
      serve.write(['canaries:', '  - name: shop', '    url: http://127.0.0.1:9/', '    bouncer: nginx-shop', '    every: 2s']);
      const r = await serve.cli('reload');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/applied canaries/);
      await until('the canary to run', () => (serve.output().includes("canary 'shop'") ? true : undefined), serve.output);
      expect(serve.child.exitCode).toBe(null);
    });
  });
}
