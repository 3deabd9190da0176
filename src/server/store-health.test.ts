import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../lib/clock.ts';
import { createLogger } from '../lib/logger.ts';
import { isDiskFull } from '../lib/disk-full.ts';
import { httpErrorOf } from '../lib/http-errors.ts';
import { DISK_FULL_REPORTED_MS, StoreHealth } from './store-health.ts';
import { eventually } from '../../test/support/wait.ts';

const log = createLogger('silent');

describe('store health: disk full and a lost store file', () => {
  const stops: Array<() => void> = [];
  afterEach(() => {
    for (const s of stops.splice(0)) s();
  });

  it('a write refused for lack of space (SQLite, PostgreSQL, the OS) is told apart and answered 507', () => {
    for (const code of ['SQLITE_FULL', '53100', 'ENOSPC', 'EDQUOT']) {
      const e = Object.assign(new Error('full'), { code });
      expect(isDiskFull(e)).toBe(true);
      expect(httpErrorOf(e)?.status).toBe(507);
    }
    expect(isDiskFull(Object.assign(new Error('busy'), { code: 'SQLITE_BUSY' }))).toBe(false);
    // What every write meets once a lost store refuses them (query_only): 503, never a bare 500.
    expect(httpErrorOf(Object.assign(new Error('attempt to write a readonly database'), { code: 'SQLITE_READONLY' }))?.status).toBe(503);
    expect(httpErrorOf(new Error('bug'))).toBeNull();
  });

  it('"disk full" is reported, pulls stay live, and it ends at the next write or after DISK_FULL_REPORTED_MS', () => {
    const clock = new ManualClock(0);
    const h = new StoreHealth({ log, clock, probe: async () => 1 });
    stops.push(() => h.stop());
    const full = Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
    h.failed(full);
    expect(h.state()).toEqual({ store: 'degraded', reason: 'disk full' });
    expect(h.up).toBe(true);
    clock.advance(DISK_FULL_REPORTED_MS - 1);
    expect(h.state().store).toBe('degraded');
    clock.advance(1);
    expect(h.state()).toEqual({ store: 'up' });
    h.diskFull(full);
    h.wrote();
    expect(h.state()).toEqual({ store: 'up' });
  });

  it('a bulk read slower than the request deadline is answered and leaves the store up; a request-path read that slow degrades it when the probe is late too', async () => {
    let probeMs = 200;
    const probe = () => new Promise<number>((r) => setTimeout(() => r(1), probeMs));
    const h = new StoreHealth({ log, probe, requestDeadlineMs: 50, bulkDeadlineMs: 2_000, probeEveryMs: 10_000 });
    stops.push(() => h.stop());
    const slow = () => new Promise<string>((r) => setTimeout(() => r('560k rows'), 200));
    expect(await h.callBulk(slow)).toBe('560k rows');
    expect(h.state()).toEqual({ store: 'up' });
    await expect(h.call(slow)).rejects.toMatchObject({ code: 'E_STORE_DOWN' });
    await eventually('the late probe to degrade the store', () => !h.up, 2_000, 10);
    expect(h.state()).toEqual({ store: 'degraded', reason: 'unreachable' });
    await expect(h.callBulk(slow)).rejects.toMatchObject({ code: 'E_STORE_DOWN' });
    probeMs = 0;
  });

  it('one request-path read past its deadline while the store answers a probe at once leaves the store up (a slow query, not a slow store)', async () => {
    let probes = 0;
    const h = new StoreHealth({ log, probe: async () => ++probes, requestDeadlineMs: 50, probeEveryMs: 10_000 });
    stops.push(() => h.stop());
    const slow = () => new Promise<string>((r) => setTimeout(() => r('rows'), 200));
    await expect(h.call(slow)).rejects.toMatchObject({ code: 'E_STORE_DOWN' });
    await eventually('the confirming probe', () => probes === 1, 2_000, 5);
    await new Promise((r) => setTimeout(r, 20));
    expect(h.state()).toEqual({ store: 'up' });
    expect(await h.call(async () => 'next')).toBe('next');
    expect(h.errors).toBe(1);
  });

  it('a store file deleted is lost for good: not up, no recovery by a probe', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-health-'));
    stops.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'vigil.db');
    fs.writeFileSync(file, '');
    // Held open, as SQLite holds the store: its inode cannot be reused by the file put in its place.
    const fd = fs.openSync(file, 'r');
    stops.push(() => fs.closeSync(fd));
    const h = new StoreHealth({ log, probe: async () => 1, file, fileCheckEveryMs: 10, probeEveryMs: 10 });
    stops.push(() => h.stop());
    let told = 0;
    h.onLost = () => told++;
    expect(h.state()).toEqual({ store: 'up' });
    fs.rmSync(file);
    fs.writeFileSync(file, '');
    await eventually('the store to be lost', () => h.lost, 2_000, 10);
    expect(h.state()).toEqual({ store: 'lost', reason: 'store file replaced' });
    expect(h.up).toBe(false);
    h.failed(new Error('x'));
    await new Promise((r) => setTimeout(r, 50));
    expect(h.state().store).toBe('lost');
    expect(told).toBe(1);
  });
});
