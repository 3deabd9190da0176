/**
 * A temporary npm project with real CrowdSec npm clients installed from the registry (once per
 * package list, cached in os.tmpdir(), so re-runs take no network), and the plain-JS scripts of
 * test/fixtures/npm-clients/ copied into it. Used by test/compat-npm-clients.test.ts and by the
 * live-mode rows of bench:time-to-know.
 */
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const SCRIPTS = path.resolve(import.meta.dirname, '../fixtures/npm-clients');
export const NPM_CLIENT_PACKAGES = ['crowdsec-client@1.0.0', '@crowdsec/nodejs-bouncer@0.2.0', '@crowdsec/express-bouncer@0.1.0', 'express@4.21.2'];

/** The project's folder: the packages installed and the fixture scripts beside them. */
export function npmClientProject(packages: string[] = NPM_CLIENT_PACKAGES): string {
  const key = crypto.createHash('sha256').update(packages.join('\n')).digest('hex').slice(0, 12);
  const dir = path.join(os.tmpdir(), `vigil-npm-clients-${key}`);
  const marker = path.join(dir, '.installed');
  if (!fs.existsSync(marker)) {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'vigil-npm-clients', private: true, type: 'module' }));
    // npm warns about this machine's settings on stderr; only the exit code matters.
    const r = npm(['install', ...packages, '--prefer-offline', '--no-audit', '--no-fund', '--no-package-lock', '--ignore-scripts'], dir);
    if (r.status !== 0) throw new Error(`npm install ${packages.join(' ')} failed:\n${r.stderr}`);
    fs.writeFileSync(marker, new Date().toISOString());
  }
  for (const f of fs.readdirSync(SCRIPTS)) if (/\.(mjs|cjs)$/.test(f)) fs.copyFileSync(path.join(SCRIPTS, f), path.join(dir, f));
  return dir;
}

function npm(args: string[], cwd: string): { status: number | null; stderr: string } {
  const r = spawnSync('npm', args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_update_notifier: 'false' }, timeout: 180_000 });
  return { status: r.status, stderr: `${r.stderr}${r.error ? `\n${r.error.message}` : ''}` };
}
