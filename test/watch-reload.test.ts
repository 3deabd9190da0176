import fs from 'node:fs';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { startHttpReceiver } from './support/receivers.ts';
import { spawnVigil } from './support/vigil-process.ts';
import { until } from './support/wait.ts';
import { useCleanups } from './support/cleanups.ts';

/**
 * SIGHUP to a real `vigil watch` (systemd's `systemctl reload`, a logrotate postrotate) re-reads
 * vigil.yaml as it does for serve: before, Node's default ended the process. A channel added gets the
 * next notification with the issue that was open before; a bad file keeps the running configuration;
 * a change to the `watch:` section is named as needing a restart.
 */
// CrowdSec 1.4.6's bouncers table (crowdsec-wire-protocol.md §2), empty: no remediation component yet.
const BOUNCERS_146 =
  "CREATE TABLE `bouncers` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NULL, `updated_at` datetime NULL, `name` text NOT NULL, `api_key` text NOT NULL, `revoked` bool NOT NULL, `ip_address` text NULL DEFAULT '', `type` text NULL, `version` text NULL, `until` datetime NULL, `last_pull` datetime NOT NULL, `auth_type` text NOT NULL DEFAULT 'api-key');";

const cleanups = useCleanups();

async function startWatchProcess() {
  const dir = cleanups.tempDir('vigil-watch-reload-');
  const csDb = path.join(dir, 'crowdsec.db');
  const cs = new SqliteDatabase(csDb);
  cs.exec(BOUNCERS_146);
  cs.close();
  const configPath = path.join(dir, 'vigil.yaml');
  const base = [`db: sqlite:${path.join(dir, 'watch.db')}`, 'watch:', `  crowdsec_db: sqlite:${csDb}`, '  poll_every: 1s', '  listen: "off"'];
  const write = (lines: string[]) => fs.writeFileSync(configPath, `${lines.join('\n')}\n`);
  write(base);
  const env = { ...process.env, VIGIL_CONFIG: configPath, VIGIL_DATA_DIR: dir };
  const vigil = await spawnVigil(['watch'], { cwd: dir, env, readyWhen: "watching CrowdSec's bouncers", cleanups });
  return { ...vigil, base, write, configPath };
}

const channel = (url: string) => ['notifications:', '  channels:', '    ops:', '      type: webhook', `      url: ${url}`];

describe('vigil watch: reload without a restart (SIGHUP)', () => {
  it('a channel added gets the next notification, with the issue open before; the process keeps running', async () => {
    const receiver = await startHttpReceiver();
    cleanups.push(() => receiver.close());
    const watch = await startWatchProcess();
    // No remediation component in CrowdSec's database: se_no_rc opens at the first poll, with no channel to tell.
    await until('the first issue', () => (watch.output().includes('issue opened') ? true : undefined), watch.output);

    watch.write([...watch.base, ...channel(receiver.url)]);
    watch.child.kill('SIGHUP');
    const [m] = await receiver.waitFor(1);
    expect(m!.json).toMatchObject({ event: 'opened', issues: [{ kind: 'se_no_rc' }] });
    expect(watch.logLines(/reloaded .*vigil\.yaml: applied notifications/)).toHaveLength(1);
    expect(watch.child.exitCode).toBe(null);
  });

  it('a bad file is refused in one line and the running configuration kept; a watch: change needs a restart', async () => {
    const watch = await startWatchProcess();
    watch.write([...watch.base, 'notifications:', '  channels:', '    chat:', '      type: opsgenie', '      url: http://127.0.0.1:9/']);
    watch.child.kill('SIGHUP');
    await until('the refusal', () => (watch.logLines(/reload refused/).length === 1 ? true : undefined), watch.output);
    expect(watch.logLines(/reload refused/)[0]).toContain('notifications.channels.chat.type');

    watch.write([...watch.base.map((l) => l.replace('poll_every: 1s', 'poll_every: 5s')), 'log_level: debug']);
    watch.child.kill('SIGHUP');
    await until('the reload', () => (watch.logLines(/reloaded /).length === 1 ? true : undefined), watch.output);
    const [line] = watch.logLines(/reloaded /);
    expect(line).toContain('applied log_level');
    expect(line).toContain('watch changed: needs a restart (kept as running)');
    expect(watch.child.exitCode).toBe(null);
  });
});
