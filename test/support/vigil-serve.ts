/**
 * The real `vigil serve` (bin/vigil.js) in a child process, in a work dir of its own with a
 * vigil.yaml there, and the real `vigil` CLI on the same config, for the end-to-end compatibility
 * tests against real CrowdSec programs.
 *
 *   const vigil = await startVigilServe({ workDir, configLines: ['activity_flush_every: 250ms'] });
 *   const key = (await vigil.cli('bouncers', 'add', 'b1', '-o', 'raw')).trim();
 *   await vigil.stop();
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';

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
  /** SIGTERM and wait. Idempotent. */
  stop(): Promise<void>;
}

export async function freeLoopbackPort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export async function startVigilServe(opts: { workDir: string; configLines?: string[]; db?: string }): Promise<VigilServe> {
  fs.mkdirSync(opts.workDir, { recursive: true });
  const dir = fs.mkdtempSync(path.join(opts.workDir, 'vigil-'));
  const port = await freeLoopbackPort();
  const listen = `127.0.0.1:${port}`;
  const url = `http://${listen}/`;
  const configPath = path.join(dir, 'vigil.yaml');
  fs.writeFileSync(
    configPath,
    [`listen: ${listen}`, `db: ${opts.db ?? 'sqlite:./data/vigil.db'}`, 'metrics_listen: 127.0.0.1:0', ...(opts.configLines ?? []), ''].join('\n'),
  );
  const env = { ...process.env, VIGIL_CONFIG: configPath };
  let log = '';
  const child: ChildProcess = spawn(process.execPath, [BIN, 'serve', '--config', configPath], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d) => (log += d));
  child.stderr!.on('data', (d) => (log += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const killOnExit = () => {
    if (child.exitCode === null) child.kill('SIGKILL');
  };
  process.on('exit', killOnExit);
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    }
    process.off('exit', killOnExit);
  };
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`vigil serve exited (${child.exitCode}) during startup:\n${log}`);
    const ok = await fetch(`${url}health`, { signal: AbortSignal.timeout(2000) }).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`vigil serve did not answer ${url}health within 20 s:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
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
    logs: () => log,
    stop,
  };
}
