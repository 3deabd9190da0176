/**
 * The real `vigil serve` (bin/vigil.js) in a child process, in a work dir of its own with a
 * vigil.yaml there, and the real `vigil` CLI on the same config, for the end-to-end compatibility
 * tests against real CrowdSec programs.
 *
 *   const vigil = await startVigilServe({ workDir, configLines: ['activity_flush_every: 250ms'] });
 *   const key = (await vigil.cli('bouncers', 'add', 'b1', '-o', 'raw')).trim();
 *   await vigil.stop();
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll } from 'vitest';
import { useCleanups } from './cleanups.ts';
import { awaitHealthy, freePort, loggedProcess } from './processes.ts';

const exec = promisify(execFile);
const BIN = path.resolve(import.meta.dirname, '../../bin/vigil.js');

export interface VigilServe {
  /** `http://127.0.0.1:PORT/` (trailing slash, as bouncers want api_url) */
  url: string;
  listen: string;
  dir: string;
  configPath: string;
  /** Runs `vigil ...args` with the server's config; resolves with stdout, rejects with stderr. */
  cli(...args: string[]): Promise<string>;
  logs(): string;
  /** SIGTERM (SIGKILL after 10 s) and wait. Idempotent. */
  stop(): Promise<void>;
}

/** `listen`: an address of the caller's (e.g. the one CrowdSec's Local API had); default a free loopback port. */
export async function startVigilServe(opts: {
  workDir: string;
  configLines?: string[];
  db?: string;
  listen?: string;
  /** Added to the server's environment (BOUNCER_KEY_<name>, AGENT_USERNAME, variables vigil.yaml refers to). */
  env?: NodeJS.ProcessEnv;
  /** Lines of a vigil.yaml.local written beside vigil.yaml (the overlay merged over it). */
  overlayLines?: string[];
}): Promise<VigilServe> {
  fs.mkdirSync(opts.workDir, { recursive: true });
  const dir = fs.mkdtempSync(path.join(opts.workDir, 'vigil-'));
  const listen = opts.listen ?? `127.0.0.1:${await freePort()}`;
  const url = `http://${listen}/`;
  const configPath = path.join(dir, 'vigil.yaml');
  fs.writeFileSync(
    configPath,
    [`listen: ${listen}`, `db: ${opts.db ?? 'sqlite:./data/vigil.db'}`, 'metrics_listen: 127.0.0.1:0', ...(opts.configLines ?? []), ''].join('\n'),
  );
  if (opts.overlayLines) fs.writeFileSync(`${configPath}.local`, [...opts.overlayLines, ''].join('\n'));
  const env = { ...process.env, ...opts.env, VIGIL_CONFIG: configPath };
  const proc = loggedProcess(process.execPath, [BIN, 'serve', '--config', configPath], { cwd: dir, env });
  proc.spawn();
  await awaitHealthy(proc, url, 20_000, 'vigil serve');
  return {
    url,
    listen,
    dir,
    configPath,
    async cli(...args) {
      try {
        return (await exec(process.execPath, [BIN, ...args], { cwd: dir, env, timeout: 60_000 })).stdout;
      } catch (e) {
        const err = e as Error & { stderr?: string };
        throw new Error(`vigil ${args.join(' ')} failed: ${err.stderr?.trim() || err.message}`);
      }
    },
    logs: proc.logs,
    stop: proc.stop,
  };
}

/**
 * A real `vigil serve` for the enclosing describe's tests: started before them (before the
 * describe's own beforeAll hooks declared after this call) in a fresh folder named from `prefix`,
 * stopped and removed after them.
 */
export function useVigilServe(prefix: string, opts: Omit<Parameters<typeof startVigilServe>[0], 'workDir'> = {}): () => VigilServe {
  const cleanups = useCleanups('all');
  let vigil: VigilServe | undefined;
  beforeAll(async () => {
    const started = await startVigilServe({ ...opts, workDir: cleanups.tempDir(prefix) });
    cleanups.push(() => started.stop());
    vigil = started;
  });
  return () => {
    if (!vigil) throw new Error('vigil serve is not started: call useVigilServe inside describe()');
    return vigil;
  };
}
