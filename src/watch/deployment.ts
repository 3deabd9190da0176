/**
 * Where CrowdSec's cscli runs, read from the command `vigil watch --cscli` was given, so runbooks
 * write the same prefix: `docker exec NAME cscli …` → Docker with that container,
 * `kubectl exec -n NS … -- cscli` → Kubernetes in that namespace, anything else → the host. Pure.
 */
import type { Deployment } from '../core/health/runbooks/index.ts';

export interface RunbookPlace {
  deployment: Deployment;
  container?: string;
  namespace?: string;
}

// docker/podman exec options that take a value (the container is the first word that is not one).
const DOCKER_VALUE_OPTS = new Set(['-e', '--env', '--env-file', '-u', '--user', '-w', '--workdir', '--detach-keys']);

export function runbookPlaceFromCommand(words: string[]): RunbookPlace {
  let i = 0;
  const base = (w: string | undefined) => (w ?? '').split('/').pop()!;
  // sudo [-u user] …, env VAR=… …: look past them.
  while (i < words.length) {
    const w = base(words[i]);
    if (w === 'sudo') {
      i++;
      while (i < words.length && words[i]!.startsWith('-')) i += words[i] === '-u' || words[i] === '-g' ? 2 : 1;
    } else if (w === 'env') {
      i++;
      while (i < words.length && (words[i]!.includes('=') || words[i]!.startsWith('-'))) i++;
    } else break;
  }
  const tool = base(words[i]);
  if ((tool === 'docker' || tool === 'podman') && words[i + 1] === 'exec') {
    for (let j = i + 2; j < words.length; j++) {
      const w = words[j]!;
      if (DOCKER_VALUE_OPTS.has(w)) {
        j++;
        continue;
      }
      if (w.startsWith('-')) continue;
      return { deployment: 'docker', container: w };
    }
    return { deployment: 'docker' };
  }
  if ((tool === 'kubectl' || tool === 'oc') && words.includes('exec')) {
    let namespace: string | undefined;
    for (let j = i + 1; j < words.length && words[j] !== '--'; j++) {
      const w = words[j]!;
      if (w === '-n' || w === '--namespace') namespace = words[j + 1];
      else if (w.startsWith('--namespace=')) namespace = w.slice('--namespace='.length);
      else if (/^-n\S/.test(w)) namespace = w.slice(2);
    }
    return { deployment: 'kubernetes', ...(namespace ? { namespace } : {}) };
  }
  return { deployment: 'host' };
}
