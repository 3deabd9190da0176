import fs from 'node:fs';
import path from 'node:path';
import { loadConfig, type VigilConfig } from '../../src/config/config.ts';
import { useCleanups } from './cleanups.ts';

/** A vigil.yaml a test wrote, and its configuration as `vigil --config FILE` loads it (no system file, no environment). */
export interface VigilYaml {
  file: string;
  load(): VigilConfig;
}

/**
 * `vigilYaml(text)`: vigil.yaml holding `text` in a fresh folder named from `prefix`; the folders
 * are removed after the enclosing describe's (or file's) tests.
 */
export function useVigilYaml(prefix: string): (yaml: string) => VigilYaml {
  const cleanups = useCleanups('all');
  return (yaml) => {
    const dir = cleanups.tempDir(prefix);
    const file = path.join(dir, 'vigil.yaml');
    fs.writeFileSync(file, yaml);
    return { file, load: () => loadConfig({ flags: { config: file }, env: {}, cwd: dir, systemConfigFile: null }) };
  };
}
