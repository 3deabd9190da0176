import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { crowdsecBouncersAvailable } from '../support/crowdsec-bouncers.ts';
import { freshDbUrl } from '../support/databases.ts';
import { makeSelfSignedCert } from '../support/test-pki.ts';
import { readOpenFileLimit } from '../../src/server/limits.ts';
import { openIdle } from './idle-sockets.ts';
import { msUntilBouncerBans, pull, startRealBouncer, startVigilChild, type VigilChild } from './vigil-child.ts';
import { useCleanups } from '../support/cleanups.ts';

/**
 * Issue 27 item 1: 1,100 idle connections under a stock open-file limit (systemd's soft 1,024)
 * made real bouncer pulls fail, and a bouncer sharing its address with the attacker (a NATed
 * office, the same host) was refused by the per-address cap although it authenticates. A new
 * connection now takes the place of the oldest one that never sent a request or never
 * authenticated. Loopback only; the attacker's sockets come from the bouncer's own 127.0.0.1.
 */
const IDLE = 1_100;
const realBouncers = crowdsecBouncersAvailable();
const TWENTY = Array.from({ length: 20 }, (_, i) => `127.0.0.${i + 1}`);

describe('the open-file limit and a full connection table', () => {
  const cleanups = useCleanups();

  let dbUrl = '';
  async function start(opts: { nofile: string; tls?: boolean }): Promise<{ vigil: VigilChild; ca?: string }> {
    const db = await freshDbUrl('sqlite');
    cleanups.push(db.cleanup);
    dbUrl = db.url;
    const lines: string[] = [];
    let ca: string | undefined;
    if (opts.tls) {
      const dir = cleanups.tempDir('vigil-fd-tls-');
      const cert = makeSelfSignedCert(dir);
      ca = cert.cert;
      lines.push('tls:', `  cert_file: ${cert.certPath}`, `  key_file: ${path.join(dir, 'key.pem')}`);
    }
    const vigil = await startVigilChild({ db: db.url, configLines: lines, nofile: opts.nofile });
    cleanups.push(() => vigil.stop());
    return { vigil, ca };
  }

  /** Three pulls in a row, each on a fresh connection from 127.0.0.1: all answered in < 1 s. */
  async function pullsSucceed(vigil: VigilChild, ca?: string): Promise<void> {
    for (let i = 0; i < 3; i++) {
      const r = await pull(vigil.port, { timeoutMs: 3_000, ca });
      expect(r.status).toBe(200);
      expect(JSON.parse(r.body)).toEqual({ new: null, deleted: null });
      expect(r.ms).toBeLessThan(1_000);
    }
  }

  for (const tls of [false, true]) {
    const scheme = tls ? 'TLS' : 'plain';
    it(`${scheme}: soft and hard limit 1,024, 1,100 idle sockets from the bouncer's own address: its pull answers in < 1 s`, async () => {
      const { vigil, ca } = await start({ nofile: '1024:1024', tls });
      // The limit could not be raised: the cap is lowered to fit it, and the log says how to raise it.
      expect(vigil.output()).toMatch(/open-file limit 1024 allows only 896 connections/);
      const idle = await openIdle(vigil.port, IDLE, { from: ['127.0.0.1'], kinds: ['silent'] });
      cleanups.push(() => idle.destroy());
      await pullsSucceed(vigil, ca);
      // The attacker's sockets made way: at most the per-address cap of them is still open.
      expect(IDLE - idle.closed()).toBeLessThanOrEqual(256);
    }, 40_000);
  }

  it('plain: 1,100 idle sockets from twenty addresses fill the table; a pull from one of them answers in < 1 s', async () => {
    const { vigil } = await start({ nofile: '1024:1024' });
    const idle = await openIdle(vigil.port, IDLE, { from: TWENTY, kinds: ['silent'] });
    cleanups.push(() => idle.destroy());
    await pullsSucceed(vigil);
    await pullsSucceed(vigil);
  }, 40_000);

  // In CI the real bouncer must run; elsewhere its absence is said in the name.
  it.skipIf(!realBouncers.custom && !process.env.CI)(
    `the real crowdsec-custom-bouncer on the attacker's address gets a new decision beside 1,100 idle sockets${realBouncers.custom ? '' : ` (skipped: ${realBouncers.reason})`}`,
    async () => {
      const { vigil } = await start({ nofile: '1024:1024' });
      const idle = await openIdle(vigil.port, IDLE, { from: ['127.0.0.1'], kinds: ['silent'] });
      cleanups.push(() => idle.destroy());
      // The bouncer connects from 127.0.0.1, where the 1,100 came from.
      const bouncer = await startRealBouncer(vigil, cleanups);
      // More idle sockets from its address after it authenticated: they never take its place.
      const more = await openIdle(vigil.port, 300, { from: ['127.0.0.1'], kinds: ['silent'] });
      cleanups.push(() => more.destroy());
      expect(await msUntilBouncerBans(bouncer, dbUrl, '192.0.2.98')).toBeLessThan(5_000);
      expect(bouncer.exitCode()).toBeUndefined();
    },
    40_000,
  );

  it('soft 1,024 under a higher hard limit: the soft limit is raised at start, said in one line, and no cap is lowered', async () => {
    // As high as this machine lets an unprivileged process go, up to 16,384 (> 10,000 + 128).
    const hard = Math.min(readOpenFileLimit()!.hard, 16_384);
    const { vigil } = await start({ nofile: `1024:${hard}` });
    const max = Math.min(10_000, hard - 128);
    expect(vigil.output()).toContain(`open-file limit ${hard} (soft limit raised to the hard limit at start, as Go does): up to ${max} connections`);
    if (hard >= 10_128) expect(vigil.output()).not.toMatch(/allows only/);
    expect(fs.readFileSync(`/proc/${vigil.pid}/limits`, 'utf8')).toMatch(new RegExp(`^Max open files\\s+${hard}\\s+${hard}`, 'm'));
    const idle = await openIdle(vigil.port, IDLE, { from: ['127.0.0.1'], kinds: ['silent'] });
    cleanups.push(() => idle.destroy());
    await pullsSucceed(vigil);
  }, 40_000);
});
