import fs from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { useCleanups } from '../../test/support/cleanups.ts';
import { loadConfig } from './config.ts';

describe('flush: in vigil.yaml', () => {
  const cleanups = useCleanups();
  let dir: string;
  beforeEach(() => {
    dir = cleanups.tempDir('vigil-flush-');
  });
  const load = (yaml: string) => {
    fs.writeFileSync(path.join(dir, 'vigil.yaml'), yaml);
    return loadConfig({ env: {}, cwd: dir, systemConfigFile: null }).flush;
  };

  it("defaults to CrowdSec's shipped flush (max_age 7d, max_items 5000), a month of history, every minute", () => {
    expect(load('')).toEqual({ maxAgeMs: 7 * 86_400_000, maxItems: 5000, historyMaxAgeMs: 30 * 86_400_000, everyMs: 60_000 });
  });

  it("reads CrowdSec's keys and Vigil's own", () => {
    expect(load('flush:\n  max_age: 2d\n  max_items: 100\n  history_max_age: 90d\n  every: 10m\n')).toEqual({
      maxAgeMs: 2 * 86_400_000,
      maxItems: 100,
      historyMaxAgeMs: 90 * 86_400_000,
      everyMs: 600_000,
    });
  });

  it('refuses values that would purge nothing or the evidence the health engine needs, naming the key and the fix', () => {
    expect(() => load('flush:\n  max_age: 0s\n')).toThrow(/flush\.max_age/);
    expect(() => load('flush:\n  max_items: 0\n')).toThrow(/flush\.max_items/);
    expect(() => load('flush:\n  history_max_age: 1d\n')).toThrow(/flush\.history_max_age: at least 7d .* e\.g\. 30d/);
    expect(() => load('flush:\n  bouncers_autodelete:\n    api_key: 1h\n')).toThrow(/unknown key bouncers_autodelete/);
  });
});
