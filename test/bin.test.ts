import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * bin/vigil.js as a command on PATH (`npm link`): whatever `node` the shell finds first, it runs on
 * the Node version package.json's `engines` names, handing over to the Node that `npm install`
 * brought when the one on PATH is older (Debian's Node 20 on this machine and in CI).
 */
const root = path.join(import.meta.dirname, '..');
const bin = path.join(root, 'bin', 'vigil.js');
const engines = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).engines.node as string;
const systemNode = ['/usr/bin/node', '/usr/local/bin/node'].find((p) => fs.existsSync(p));
const systemMajor = systemNode ? Number(execFileSync(systemNode, ['-p', 'process.versions.node.split(".")[0]'], { encoding: 'utf8' }).trim()) : null;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bin-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('bin/vigil.js', () => {
  it('states the Node version once, in package.json engines', () => {
    expect(engines).toMatch(/^>=\d+/);
    expect(fs.readFileSync(bin, 'utf8')).not.toMatch(/major < \d+/);
  });

  const older = systemNode !== undefined && systemMajor !== null && systemMajor < Number(/\d+/.exec(engines)![0]);
  it.runIf(older)(
    `on an older system Node it hands over to the Node npm install brought${older ? ` (${systemNode}, v${systemMajor})` : ' (skipped: no Node older than engines on this machine)'}`,
    () => {
      const db = `sqlite:${path.join(tmp, 'v.db')}`;
      const r = spawnSync(systemNode!, [bin, 'bouncers', 'add', 'old-node', '--db', db, '-o', 'json'], { encoding: 'utf8', cwd: tmp });
      expect(r.stderr).not.toMatch(/level=fatal/);
      expect(r.status).toBe(0);
      expect(JSON.parse(r.stdout)).toMatch(/^[0-9a-f]{32}$/);
    },
  );

  it('an unknown command exits 1 with one fatal line', () => {
    const r = spawnSync(process.execPath, [bin, 'no-such-command'], { encoding: 'utf8', cwd: tmp });
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')[0]).toMatch(/^level=fatal msg="unknown command 'no-such-command'/);
  });
});
