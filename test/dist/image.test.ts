import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCustomBouncer, type CustomBouncerHandle } from '../support/custom-bouncer.ts';
import { freePort } from '../support/processes.ts';
import { until } from '../support/wait.ts';
import { has, ok, run } from './support.ts';
import { buildTestImage, hostUlimits, podman, removeTestImage } from './podman.ts';

/**
 * The container image (issue 30 item 1), built and run for real: the base made here without a
 * registry (debootstrap + podman import, cached), `npm run package:image` on it, then the image run
 * with a bouncer registered through the environment (BOUNCER_KEY_<name>), and Debian's real
 * crowdsec-custom-bouncer on the host receiving a decision added inside the container.
 */
const NAME = `vigil-dist-test-${process.pid}`;
const VOLUME = `vigil-dist-test-data-${process.pid}`;
const KEY = 'dist0test0key0of0the0custom0bouncer';

let image: string;
let port: number;
let work: string;
let bouncer: CustomBouncerHandle | undefined;

beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error('test:dist runs podman as root: run it as root');
  for (const tool of ['podman', 'runc', 'debootstrap', 'crowdsec-custom-bouncer']) {
    if (!has(tool)) throw new Error(`${tool} not found: bash scripts/install-dist-tools.sh (and install-crowdsec-bouncers.sh)`);
  }
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-image-'));
  image = await buildTestImage('dist-test-image');
  port = await freePort();
}, 900_000);

afterAll(async () => {
  await bouncer?.stop();
  await run('podman', [...podman, 'rm', '-f', '-t', '5', NAME]);
  await run('podman', [...podman, 'volume', 'rm', '-f', VOLUME]);
  if (image) await removeTestImage(image);
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

async function startContainer(key = KEY): Promise<void> {
  const limits = await hostUlimits();
  await ok('podman', [
    ...podman,
    'run',
    '-d',
    '--name',
    NAME,
    '--ulimit',
    `nofile=${limits.nofile}:${limits.nofile}`,
    '--ulimit',
    `nproc=${limits.nproc}:${limits.nproc}`,
    '-p',
    `127.0.0.1:${port}:8080`,
    '-v',
    `${VOLUME}:/var/lib/vigil`,
    '-e',
    `BOUNCER_KEY_custom=${key}`,
    image,
  ]);
  await until(
    'the container’s /health',
    async () => ((await fetch(`http://127.0.0.1:${port}/health`).catch(() => null))?.status === 200 ? true : undefined),
    logs,
    60_000,
  );
}

/** A container's output so far (synchronous: for a wait's failure message too). */
function logsOf(container: string): string {
  const r = spawnSync('podman', ['logs', container], { encoding: 'utf8', timeout: 30_000 });
  return `${r.stdout ?? ''}${r.stderr ?? ''}`;
}
const logs = () => logsOf(NAME);

describe('the container image', () => {
  it('runs vigil serve as a non-root user on 0.0.0.0:8080, data on a volume, logs on stdout, healthy by its healthcheck', async () => {
    await startContainer();
    const inspect = JSON.parse(await ok('podman', ['image', 'inspect', image]))[0];
    expect(inspect.Config.User).toBe('vigil');
    expect(Object.keys(inspect.Config.Volumes ?? {})).toEqual(['/var/lib/vigil']);
    expect(inspect.Healthcheck?.Test).toEqual(['CMD', '/usr/lib/vigil/node/bin/node', '/usr/lib/vigil/healthcheck.mjs']);
    // PID 1 is Node itself (the entrypoint execs), as the vigil user: SIGTERM reaches it.
    const status = await ok('podman', [...podman, 'exec', NAME, 'cat', '/proc/1/status']);
    expect(status).toMatch(/^Uid:\s+999\s/m);
    expect(logs()).toContain('Vigil Local API listening on http://0.0.0.0:8080, store sqlite:/var/lib/vigil/vigil.db');
    // vigil serve registers BOUNCER_KEY_* itself at start (src/app/env-registrations.ts), as CrowdSec's image does.
    expect(logs()).toContain("bouncer 'custom' registered from BOUNCER_KEY_custom");
    // The image's healthcheck, run as the engine runs it (no systemd here to run it on a timer).
    expect((await run('podman', [...podman, 'healthcheck', 'run', NAME])).code).toBe(0);
    // The store on the volume, 0700/0600, the vigil user's.
    const listing = await ok('podman', [...podman, 'exec', NAME, 'ls', '-ln', '/var/lib/vigil']);
    expect(listing).toMatch(/^-rw------- 1 999 999 .* vigil\.db$/m);
  });

  it('the real crowdsec-custom-bouncer on the host, with the key from BOUNCER_KEY_custom, receives a decision added in the container', async () => {
    bouncer = await startCustomBouncer({ apiUrl: `http://127.0.0.1:${port}/`, apiKey: KEY, workDir: work });
    await ok('podman', [...podman, 'exec', NAME, 'vigil', 'decisions', 'add', '--ip', '192.0.2.77', '--duration', '1h', '--reason', 'dist test']);
    const event = await bouncer.waitFor((e) => e.action === 'add' && e.value === '192.0.2.77', 30_000);
    expect(event.seconds).toBeGreaterThan(3500);
  });

  it('a restart keeps the store on the volume and the registration (not re-registered: the key is the same)', async () => {
    await ok('podman', [...podman, 'restart', '-t', '20', NAME]);
    await until(
      'the container’s /health after the restart',
      async () => ((await fetch(`http://127.0.0.1:${port}/health`).catch(() => null))?.status === 200 ? true : undefined),
      logs,
      60_000,
    );
    // The same key: registered once (the first run's line), nothing changed by the second start.
    expect(logs().match(/bouncer 'custom' registered from BOUNCER_KEY_custom/g)).toHaveLength(1);
    expect(logs()).not.toContain("bouncer 'custom' given its new key");
    const r = await fetch(`http://127.0.0.1:${port}/v1/decisions?ip=192.0.2.77`, { headers: { 'X-Api-Key': KEY } });
    expect(((await r.json()) as Array<{ value: string }>)[0]?.value).toBe('192.0.2.77');
    // SIGTERM (podman stop) ended serve cleanly: its "stopped" line is in the first run's log.
    expect(logs()).toMatch(/"msg":"stopped"/);
  });

  it('a new container on the same volume with another BOUNCER_KEY_custom re-keys the bouncer: the old key is refused, the new one pulls', async () => {
    await bouncer?.stop();
    await ok('podman', [...podman, 'rm', '-f', '-t', '20', NAME]);
    const newKey = 'dist0test0key0rotated0by0the0environment';
    await startContainer(newKey);
    expect(logs()).toContain("bouncer 'custom' given its new key from BOUNCER_KEY_custom");
    const pull = (key: string) => fetch(`http://127.0.0.1:${port}/v1/decisions?ip=192.0.2.77`, { headers: { 'X-Api-Key': key } });
    expect((await pull(KEY)).status).toBe(403);
    const r = await pull(newKey);
    expect(r.status).toBe(200);
    expect(((await r.json()) as Array<{ value: string }>)[0]?.value).toBe('192.0.2.77');
    const names = JSON.parse(await ok('podman', [...podman, 'exec', NAME, 'vigil', 'bouncers', 'list', '-o', 'json'])) as Array<{ name: string }>;
    expect(names.map((b) => b.name)).toEqual(['custom']);
  });
});

/**
 * docs/examples/compose.yaml, run as written by podman-compose (Debian's): Vigil with a bouncer
 * registered through the environment, and crowdsec-custom-bouncer in its own container reaching
 * it by service name (http://vigil:8080/). The bouncer's image is made here (the host's Debian
 * binary on the same base): no registry. compose.agent.yaml (CrowdSec's agent container) is not
 * run: its image cannot be pulled here.
 */
describe('docs/examples/compose.yaml with podman-compose', () => {
  const project = `vigildist${process.pid}`;
  const bouncerImage = `localhost/crowdsec-custom-bouncer:dist-test-${process.pid}`;
  let dir: string;
  let composeEnv: NodeJS.ProcessEnv;
  const compose = async (...args: string[]) => {
    const limits = await hostUlimits();
    return run(
      'podman-compose',
      [
        '--podman-args',
        podman.join(' '),
        '--podman-run-args',
        `--ulimit nofile=${limits.nofile}:${limits.nofile} --ulimit nproc=${limits.nproc}:${limits.nproc}`,
        '-p',
        project,
        '-f',
        path.join(dir, 'compose.yaml'),
        ...args,
      ],
      { env: composeEnv, cwd: dir },
    );
  };

  afterAll(async () => {
    if (dir) {
      // Each step on its own: one that fails must not leave the others' leftovers on the shared machine.
      const down = await compose('down', '-v').catch((e: Error) => ({ code: 1, stderr: e.message }));
      if (down.code !== 0) console.error(down.stderr);
      fs.rmSync(dir, { recursive: true, force: true });
    }
    await run('podman', [...podman, 'network', 'rm', '-f', `${project}_default`]);
    await run('podman', [...podman, 'rmi', '-f', bouncerImage]);
  });

  it('up: the bouncer container pulls a decision added in the vigil container, by service name, with the key from BOUNCER_KEY', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-compose-'));
    const examples = path.resolve(import.meta.dirname, '../../docs/examples');
    fs.copyFileSync(path.join(examples, 'compose.yaml'), path.join(dir, 'compose.yaml'));
    const key = 'dist0compose0key0for0the0bouncer';
    fs.writeFileSync(
      path.join(dir, 'crowdsec-custom-bouncer.yaml'),
      fs.readFileSync(path.join(examples, 'crowdsec-custom-bouncer.yaml'), 'utf8').replace('REPLACE_WITH_BOUNCER_KEY', key),
    );
    // The example's script, recording each call where the test reads it.
    fs.mkdirSync(path.join(dir, 'bouncer-scripts'));
    fs.writeFileSync(path.join(dir, 'bouncer-scripts/on-decision.sh'), '#!/bin/sh\necho "$*" >> /scripts/calls.log\n', { mode: 0o755 });

    const base = (await ok('bash', [path.resolve(import.meta.dirname, '../../scripts/dist/base-image.sh')])).trim().split('\n').at(-1)!;
    const bouncerCtx = path.join(dir, 'bouncer-image');
    fs.mkdirSync(bouncerCtx);
    fs.copyFileSync('/usr/bin/crowdsec-custom-bouncer', path.join(bouncerCtx, 'crowdsec-custom-bouncer'));
    fs.writeFileSync(
      path.join(bouncerCtx, 'Containerfile'),
      `FROM ${base}\nCOPY crowdsec-custom-bouncer /usr/bin/crowdsec-custom-bouncer\nENTRYPOINT ["/usr/bin/crowdsec-custom-bouncer", "-c", "/etc/crowdsec/bouncers/crowdsec-custom-bouncer.yaml"]\n`,
    );
    await ok('podman', [...podman, 'build', '-t', bouncerImage, bouncerCtx]);

    const publish = await freePort();
    composeEnv = { ...process.env, VIGIL_IMAGE: image, BOUNCER_IMAGE: bouncerImage, BOUNCER_KEY: key, VIGIL_PUBLISH: `127.0.0.1:${publish}` };
    // podman-compose 1.0.3 ignores depends_on's condition: service_healthy, and the custom bouncer
    // never retries a first pull that failed: vigil first, then the rest, as docs/container.md says.
    const upVigil = await compose('up', '-d', 'vigil');
    expect(upVigil.code, upVigil.stderr).toBe(0);
    const serviceLogs = (service: string) => logsOf(`${project}_${service}_1`);
    await until(
      'the vigil service’s /health',
      async () => ((await fetch(`http://127.0.0.1:${publish}/health`).catch(() => null))?.status === 200 ? true : undefined),
      () => serviceLogs('vigil'),
      60_000,
    );
    const up = await compose('up', '-d');
    expect(up.code, up.stderr).toBe(0);
    expect(serviceLogs('vigil')).toContain("bouncer 'custom' registered from BOUNCER_KEY_custom");
    await ok('podman', [...podman, 'exec', `${project}_vigil_1`, 'vigil', 'decisions', 'add', '--ip', '192.0.2.88', '--duration', '1h']);
    const calls = path.join(dir, 'bouncer-scripts/calls.log');
    const line = await until(
      'the bouncer container’s call for 192.0.2.88',
      () =>
        fs.existsSync(calls)
          ? fs
              .readFileSync(calls, 'utf8')
              .split('\n')
              .find((l) => l.startsWith('add 192.0.2.88 '))
          : undefined,
      () => `${serviceLogs('custom-bouncer')}\n${serviceLogs('vigil')}`,
      60_000,
    );
    expect(line).toMatch(/^add 192\.0\.2\.88 \d+ /);
    // Vigil saw the bouncer pull (its last pull is recorded under the name from the environment).
    const bouncers = JSON.parse(await ok('podman', [...podman, 'exec', `${project}_vigil_1`, 'vigil', 'bouncers', 'list', '-o', 'json'])) as Array<{
      name: string;
    }>;
    expect(bouncers.map((b) => b.name)).toContain('custom');
  });
});
