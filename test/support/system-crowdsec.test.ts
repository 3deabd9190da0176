import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { changedPaths, treeDigests } from './system-crowdsec.ts';

describe('the system CrowdSec digest (the suite checks /etc/crowdsec and /var/lib/crowdsec are untouched)', () => {
  it('notices a changed, added or removed file, a retargeted link and a changed mode', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-digest-'));
    try {
      fs.writeFileSync(path.join(dir, 'config.yaml'), 'listen_uri: 127.0.0.1:8080\n');
      fs.writeFileSync(path.join(dir, 'gone.yaml'), 'x');
      fs.symlinkSync('/nowhere/a', path.join(dir, 'link'));
      const before = treeDigests([dir]);
      expect(changedPaths(before, treeDigests([dir]))).toEqual([]);
      fs.writeFileSync(path.join(dir, 'config.yaml'), 'listen_uri: 127.0.0.1:9999\n');
      fs.rmSync(path.join(dir, 'gone.yaml'));
      fs.writeFileSync(path.join(dir, 'new.yaml'), 'y');
      fs.rmSync(path.join(dir, 'link'));
      fs.symlinkSync('/nowhere/b', path.join(dir, 'link'));
      fs.chmodSync(dir, 0o755);
      expect(changedPaths(before, treeDigests([dir]))).toEqual(
        [dir, 'config.yaml', 'gone.yaml', 'link', 'new.yaml'].map((p) => (p === dir ? dir : path.join(dir, p))).sort(),
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
