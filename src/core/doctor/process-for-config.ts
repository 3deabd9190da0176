import path from 'node:path';

/**
 * Which running process reads a bouncer's configuration file, found by the path on its command line
 * (`-c FILE`, `-c=FILE`, `--config FILE`, as Go's flag package and Vigil's CLI accept them) rather
 * than by the file's name: `custom.yaml` is read by `crowdsec-custom-bouncer -c custom.yaml`. Pure:
 * the caller reads the process table.
 */
export interface ProcessArgs {
  pid: number;
  argv: string[];
}

const FLAGS = new Set(['-c', '--c', '-config', '--config']);

/** The configuration file a command line names, resolved from `/` (doctor reads /proc/PID/cmdline, not its cwd). */
export function configPathOf(argv: readonly string[]): string | undefined {
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    if (FLAGS.has(a) && argv[i + 1]) return path.posix.resolve('/', argv[i + 1]!);
    const eq = a.indexOf('=');
    if (eq > 0 && FLAGS.has(a.slice(0, eq)) && a.length > eq + 1) return path.posix.resolve('/', a.slice(eq + 1));
  }
  return undefined;
}

/**
 * The processes reading `file`, and the service name to look for them under: the program's base
 * name (`/usr/bin/crowdsec-custom-bouncer` → `crowdsec-custom-bouncer`), or for Vigil's forward-auth
 * bouncer (`node …/vigil bouncer forward-auth -c FILE`) its unit's name.
 */
export function processesForConfig(all: readonly ProcessArgs[], file: string): { name: string; processes: ProcessArgs[] } | undefined {
  const target = path.posix.resolve('/', file);
  const mine = all.filter((p) => configPathOf(p.argv) === target);
  if (mine.length === 0) return undefined;
  const argv = mine[0]!.argv;
  if (argv.includes('forward-auth') && argv.includes('bouncer')) return { name: 'vigil-forward-auth', processes: mine };
  const name = path.posix.basename(argv[0] ?? '').replace(/:.*$/, '');
  return name ? { name, processes: mine } : undefined;
}
