import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { connectionBudget, DEFAULT_LIMITS, readOpenFileLimit } from './limits.ts';
import { loadConfig } from '../config/config.ts';

describe('listener limits', () => {
  it('reads the open-file limit from /proc/self/limits', () => {
    const text =
      'Limit                     Soft Limit           Hard Limit           Units\nMax open files            1024                 524288               files\n';
    expect(readOpenFileLimit(text)).toEqual({ soft: 1024, hard: 524288 });
    expect(readOpenFileLimit('Max open files unlimited unlimited files')).toEqual({ soft: Infinity, hard: Infinity });
    expect(readOpenFileLimit('nothing here')).toBeNull();
  });

  it('keeps descriptors for the store and logs, and says how to raise a low limit', () => {
    expect(connectionBudget(DEFAULT_LIMITS, { soft: 1_048_576, hard: 1_048_576 })).toEqual({ maxConnections: 10_000, warning: null });
    const low = connectionBudget(DEFAULT_LIMITS, { soft: 1024, hard: 1024 });
    expect(low.maxConnections).toBe(1024 - 128);
    expect(low.warning).toMatch(/open-file limit 1024 allows only 896 connections.*LimitNOFILE=65536/);
    expect(connectionBudget(DEFAULT_LIMITS, null).maxConnections).toBe(10_000);
  });

  it('limits: in vigil.yaml, with defaults; a bad value names the key', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-limits-'));
    const file = path.join(dir, 'vigil.yaml');
    expect(loadConfig({ env: {}, cwd: dir }).limits).toEqual({ ...DEFAULT_LIMITS, storeTimeoutMs: 5_000 });
    fs.writeFileSync(file, 'limits:\n  header_timeout: 2s\n  max_connections_per_peer: 32\n  store_timeout: 1s\n');
    expect(loadConfig({ env: {}, cwd: dir }).limits).toMatchObject({
      headerTimeoutMs: 2_000,
      maxConnectionsPerPeer: 32,
      storeTimeoutMs: 1_000,
      keepAliveTimeoutMs: 65_000,
    });
    fs.writeFileSync(file, 'limits:\n  max_connections_per_peer: 0\n');
    expect(() => loadConfig({ env: {}, cwd: dir })).toThrow(/limits\.max_connections_per_peer: /);
    fs.writeFileSync(file, 'limits:\n  header_timout: 2s\n');
    expect(() => loadConfig({ env: {}, cwd: dir })).toThrow(/limits: unknown key header_timout/);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
