/**
 * A real `vigil serve` in a child process, for the attack tests: its own config file, one bouncer
 * with a known key, optionally under `prlimit --nofile=N:N` (a stock 1,024 descriptor limit) or
 * `--nofile=SOFT:HARD` (systemd's default is 1024:524288).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Store } from '../../src/store/store.ts';
import { hashApiKey } from '../../src/core/bouncers/api-key.ts';
import { createBouncer, getBouncer } from '../../src/store/bouncers.ts';
import type { Cleanups } from '../support/cleanups.ts';
import { startCustomBouncer, type CustomBouncerHandle } from '../support/custom-bouncer.ts';

const BIN = path.resolve('bin/vigil.js');
export const BOUNCER_KEY = 'attack-test-key-0123456789abcdef';
export const BOUNCER_UA = 'crowdsec-custom-bouncer/v0.0.15';

export interface VigilChild {
  url: string;
  port: number;
  /** The /metrics URL when started with `metrics: true`. */
  metricsUrl: string | null;
  pid: number;
  child: ChildProcess;
  output(): string;
  /** Resident memory of the child in kB (VmRSS). */
  rssKb(): number;
  stop(): Promise<void>;
}

export async function startVigilChild(opts: {
  db: string;
  configLines?: string[];
  /** N (soft and hard) or 'SOFT:HARD'. */
  nofile?: number | string;
  env?: NodeJS.ProcessEnv;
  metrics?: boolean;
}): Promise<VigilChild> {
  const store = await Store.open(opts.db);
  if (!(await getBouncer(store, 'attack-bouncer')))
    await createBouncer(store, { name: 'attack-bouncer', apiKeyHash: hashApiKey(BOUNCER_KEY), now: Date.now() });
  await store.close();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-attack-'));
  const configFile = path.join(dir, 'vigil.yaml');
  fs.writeFileSync(
    configFile,
    ['listen: 127.0.0.1:0', `db: ${opts.db}`, opts.metrics ? 'metrics_listen: 127.0.0.1:0' : 'metrics_listen: "off"', ...(opts.configLines ?? []), ''].join(
      '\n',
    ),
  );
  const args = [BIN, 'serve', '--config', configFile];
  const child = opts.nofile
    ? spawn('prlimit', [`--nofile=${typeof opts.nofile === 'number' ? `${opts.nofile}:${opts.nofile}` : opts.nofile}`, '--', process.execPath, ...args], {
        env: { ...process.env, ...opts.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      })
    : spawn(process.execPath, args, { env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /listening on (https?:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) resolve(m[1]!);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => reject(new Error(`vigil serve exited (${code}) before listening:\n${out}`)));
    setTimeout(() => reject(new Error(`vigil serve did not listen within 20 s:\n${out}`)), 20_000).unref();
  });
  return {
    url,
    metricsUrl: /"metrics":"(http:[^"]+)"/.exec(out)?.[1] ?? null,
    port: Number(new URL(url).port),
    // prlimit execs node in place: same pid.
    pid: child.pid!,
    child,
    output: () => out,
    rssKb() {
      const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      return Number(m![1]);
    },
    async stop() {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * One bouncer pull on a fresh connection from 127.0.0.1 (the request crowdsec-custom-bouncer
 * sends): status, body and how long it took. With `ca`, over HTTPS trusting that certificate.
 */
export function pull(port: number, opts: { timeoutMs?: number; path?: string; ca?: string } = {}): Promise<{ status: number; body: string; ms: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = (opts.ca ? https : http).request(
      {
        ca: opts.ca,
        host: '127.0.0.1',
        localAddress: '127.0.0.1',
        port,
        path: opts.path ?? '/v1/decisions/stream?startup=true',
        headers: { 'X-Api-Key': BOUNCER_KEY, 'User-Agent': BOUNCER_UA },
        agent: false,
        timeout: opts.timeoutMs ?? 5_000,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode!, body, ms: performance.now() - started }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`pull: no answer within ${opts.timeoutMs ?? 5_000} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** The real crowdsec-custom-bouncer with the known key, pulling from `vigil` every 1 s from 127.0.0.1; stopped after the test. */
export async function startRealBouncer(vigil: VigilChild, cleanups: Cleanups): Promise<CustomBouncerHandle> {
  const bouncer = await startCustomBouncer({
    apiUrl: `${vigil.url}/`,
    apiKey: BOUNCER_KEY,
    workDir: cleanups.tempDir('vigil-attack-cb-'),
    updateFrequency: '1s',
  });
  cleanups.push(() => bouncer.stop());
  return bouncer;
}

/** A ban on `ip` added by the CLI (another process) on the store at `dbUrl`; how long until `bouncer` was told to add it, in ms. */
export async function msUntilBouncerBans(bouncer: CustomBouncerHandle, dbUrl: string, ip: string): Promise<number> {
  const added = Date.now();
  await promisify(execFile)(process.execPath, [BIN, 'decisions', 'add', '--ip', ip, '--duration', '5m', '--db', dbUrl]);
  const e = await bouncer.waitFor((ev) => ev.action === 'add' && ev.value === ip, 10_000);
  return e.at - added;
}
