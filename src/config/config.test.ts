import fs from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { useCleanups } from '../../test/support/cleanups.ts';
import { defaultDataDir, loadConfig, resolveDb } from './config.ts';

describe('where the store is', () => {
  const cleanups = useCleanups();
  let dir: string;
  beforeEach(() => {
    dir = cleanups.tempDir('vigil-config-');
  });

  it('default data directory: VIGIL_DATA_DIR, else /var/lib/vigil for root, else XDG_DATA_HOME or ~/.local/share', () => {
    expect(defaultDataDir({ VIGIL_DATA_DIR: 'rel' }, '/srv', 0)).toBe('/srv/rel');
    expect(defaultDataDir({}, '/srv', 0)).toBe('/var/lib/vigil');
    expect(defaultDataDir({ HOME: '/home/ann', XDG_DATA_HOME: '/data' }, '/srv', 1000)).toBe('/data/vigil');
    expect(defaultDataDir({ HOME: '/home/ann', XDG_DATA_HOME: 'relative' }, '/srv', 1000)).toBe('/home/ann/.local/share/vigil');
    expect(defaultDataDir({ HOME: '/home/ann' }, '/srv', 1000)).toBe('/home/ann/.local/share/vigil');
  });

  it('relative SQLite paths become absolute; PostgreSQL URLs are kept', () => {
    expect(resolveDb('sqlite:./a.db', '/etc/vigil', 'db')).toBe('sqlite:/etc/vigil/a.db');
    expect(resolveDb('sqlite:///abs/a.db', '/x', 'db')).toBe('sqlite:/abs/a.db');
    expect(resolveDb(' postgres://u:p@h/d ', '/x', 'db')).toBe('postgres://u:p@h/d');
  });

  it('db from a flag or VIGIL_DB is relative to the working directory, from vigil.yaml to the file; dbSource says which', () => {
    fs.writeFileSync(path.join(dir, 'vigil.yaml'), 'db: sqlite:store/v.db\n');
    const cwd = fs.mkdtempSync(path.join(dir, 'cwd-'));
    const file = path.join(dir, 'vigil.yaml');
    expect(loadConfig({ flags: { config: file }, env: {}, cwd, systemConfigFile: null })).toMatchObject({
      db: `sqlite:${dir}/store/v.db`,
      dbSource: `${file}: db`,
    });
    expect(loadConfig({ flags: { config: file, db: 'sqlite:x.db' }, env: {}, cwd, systemConfigFile: null })).toMatchObject({
      db: `sqlite:${cwd}/x.db`,
      dbSource: '--db',
    });
    expect(loadConfig({ flags: { config: file }, env: { VIGIL_DB: 'sqlite:y.db' }, cwd, systemConfigFile: null })).toMatchObject({
      db: `sqlite:${cwd}/y.db`,
      dbSource: 'VIGIL_DB',
    });
    expect(loadConfig({ env: { VIGIL_DATA_DIR: dir }, cwd, systemConfigFile: null })).toMatchObject({
      db: `sqlite:${dir}/vigil.db`,
      dbSource: 'default',
      file: null,
    });
  });

  it('config discovery: --config / VIGIL_CONFIG, then ./vigil.yaml, then the system file', () => {
    const system = path.join(dir, 'system.yaml');
    fs.writeFileSync(system, 'log_level: warn\n');
    const cwd = fs.mkdtempSync(path.join(dir, 'cwd-'));
    expect(loadConfig({ env: {}, cwd, systemConfigFile: system })).toMatchObject({ file: system, logLevel: 'warn' });
    fs.writeFileSync(path.join(cwd, 'vigil.yaml'), 'log_level: debug\n');
    expect(loadConfig({ env: {}, cwd, systemConfigFile: system })).toMatchObject({ file: path.join(cwd, 'vigil.yaml'), logLevel: 'debug' });
    expect(loadConfig({ env: { VIGIL_CONFIG: system }, cwd, systemConfigFile: null })).toMatchObject({ file: system });
  });
});
