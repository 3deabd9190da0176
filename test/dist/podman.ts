import path from 'node:path';
import { ok, run } from './support.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** Podman as this machine needs it: runc, since crun refuses its hybrid cgroups. */
export const podman = ['--runtime', 'runc'];

/**
 * Builds Vigil's image on a base made here (scripts/dist/base-image.sh: debootstrap + podman
 * import, cached by day and mirror), tagged localhost/vigil:<tag>; returns the tag.
 */
export async function buildTestImage(tag: string): Promise<string> {
  const base = (await ok('bash', [path.join(ROOT, 'scripts/dist/base-image.sh')], { cwd: ROOT })).trim().split('\n').at(-1)!;
  const image = `localhost/vigil:${tag}`;
  await ok('bash', [path.join(ROOT, 'scripts/package-image.sh')], {
    cwd: ROOT,
    env: { ...process.env, BASE: base, VIGIL_IMAGE: image, CONTAINER_ENGINE_ARGS: podman.join(' ') },
  });
  return image;
}

/** The image goes; the base stays (the cache of the next run). */
export async function removeTestImage(image: string): Promise<void> {
  await run('podman', [...podman, 'rmi', '-f', image]);
}

/** The host's hard limits: a container's --ulimit may not exceed them (podman would fail to start it). */
export async function hostUlimits(): Promise<{ nofile: number; nproc: number }> {
  const [nofile, nproc] = (await ok('bash', ['-c', 'ulimit -Hn; ulimit -Hu'])).trim().split('\n');
  const cap = (v: string | undefined, max: number) => (v === 'unlimited' || v === undefined ? max : Math.min(Number(v), max));
  return { nofile: cap(nofile, 65_536), nproc: cap(nproc, 65_536) };
}
