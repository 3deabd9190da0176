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

/**
 * Explicit --ulimit values a container can be given here. Root on this machine lacks
 * CAP_SYS_RESOURCE (it is itself a container), so no limit may be raised above the one it inherits:
 * the host's hard open-file limit, and for processes the 32768 podman starts conmon with (runc
 * fails with "error setting rlimit type 6: operation not permitted" above it, even under the
 * host's 96k).
 */
export async function hostUlimits(): Promise<{ nofile: number; nproc: number }> {
  const [nofile, nproc] = (await ok('bash', ['-c', 'ulimit -Hn; ulimit -Hu'])).trim().split('\n');
  const cap = (v: string | undefined, max: number) => (v === 'unlimited' || v === undefined ? max : Math.min(Number(v), max));
  return { nofile: cap(nofile, 65_536), nproc: cap(nproc, 32_768) };
}
