import fs from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { useCleanups } from './cleanups.ts';
import { crowdsecAvailable, startCrowdsec, type CrowdsecInstance } from './crowdsec-instance.ts';
import { freshDbUrl, DIALECTS } from './databases.ts';
import { mariadbAvailable, startMariadb } from './mariadb-instance.ts';

/**
 * The test CrowdSec helper itself: an isolated real CrowdSec 1.4.6 LAPI on its own port and DB
 * (SQLite, and PostgreSQL where CrowdSec creates its own schema), its cscli, and a restart.
 */
const cs = crowdsecAvailable();
const skip = !cs.available && !process.env.CI;

describe.skipIf(skip)(`isolated CrowdSec instance${skip ? ` (skipped: ${cs.reason})` : ''}`, () => {
  const describeCleanups = useCleanups('all');
  const cleanups = useCleanups();
  let work: string;
  beforeAll(() => {
    work = describeCleanups.tempDir('vigil-cs-instance-');
  });

  async function exercise(lapi: CrowdsecInstance) {
    const key = await lapi.addBouncer('helper-bouncer');
    expect(key).toMatch(/^[0-9a-f]{32}$/);
    await lapi.addDecision({ ip: '192.0.2.7', duration: '5m', reason: 'helper' });
    const res = await fetch(`${lapi.url}v1/decisions?ip=192.0.2.7`, { headers: { 'X-Api-Key': key, 'User-Agent': 'helper/1.0' } });
    expect(res.status).toBe(200);
    expect((await res.json())[0]).toMatchObject({ value: '192.0.2.7', origin: 'cscli', scenario: 'helper' });
    const rows = await lapi.listBouncers();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ name: 'helper-bouncer', ip_address: '127.0.0.1', type: 'helper', version: '1.0', revoked: false });
    await lapi.stop();
    expect(lapi.running()).toBe(false);
    await lapi.start();
    expect((await fetch(`${lapi.url}health`)).ok).toBe(true);
    await lapi.deleteBouncer('helper-bouncer');
    expect(await lapi.listBouncers()).toEqual([]);
  }

  it('runs on its own SQLite database and port, leaving /etc/crowdsec alone', async () => {
    const before = fs.readFileSync('/etc/crowdsec/config.yaml', 'utf8');
    const lapi = await startCrowdsec({ workDir: work });
    try {
      expect(lapi.url).not.toBe('http://127.0.0.1:8080/');
      expect(lapi.dbPath).toBeTruthy();
      await exercise(lapi);
      expect(fs.existsSync(lapi.dbPath!)).toBe(true);
    } finally {
      await lapi.destroy();
    }
    expect(fs.readFileSync('/etc/crowdsec/config.yaml', 'utf8')).toBe(before);
    expect(fs.existsSync(lapi.dir)).toBe(false);
  });

  it.skipIf(!DIALECTS.includes('postgres'))('runs on PostgreSQL, creating its schema there', async () => {
    const db = await freshDbUrl('postgres');
    cleanups.push(db.cleanup);
    const lapi = await startCrowdsec({ workDir: work, db: { type: 'postgresql', url: db.url } });
    cleanups.push(() => lapi.destroy());
    expect(lapi.dbPath).toBeNull();
    await exercise(lapi);
  });

  const maria = mariadbAvailable();
  it.skipIf(!maria.available && !process.env.CI)(
    `runs on MariaDB, creating its schema there${maria.available ? '' : ` (skipped: ${maria.reason})`}`,
    async () => {
      const db = await startMariadb({ workDir: work });
      cleanups.push(() => db.destroy());
      const lapi = await startCrowdsec({ workDir: work, db: { type: 'mysql', url: db.url } });
      cleanups.push(() => lapi.destroy());
      expect(lapi.dbPath).toBeNull();
      await exercise(lapi);
    },
  );
});
