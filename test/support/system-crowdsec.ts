/**
 * What the machine's own CrowdSec keeps (its configuration and its data), summed, so the test suite
 * and the benchmarks can prove they leave an operator's install alone: they run private CrowdSec
 * instances from copied configs in temporary folders (test/support/crowdsec-instance.ts).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export const SYSTEM_CROWDSEC_DIRS = ['/etc/crowdsec', '/var/lib/crowdsec'];

/** Every file, link and folder under `dirs`, by path: a sha256 of its content, link target or mode. */
export function treeDigests(dirs: string[] = SYSTEM_CROWDSEC_DIRS): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (p: string) => {
    let st: fs.Stats;
    try {
      st = fs.lstatSync(p);
    } catch {
      return;
    }
    if (st.isSymbolicLink()) out.set(p, `link ${fs.readlinkSync(p)}`);
    else if (st.isDirectory()) {
      out.set(p, `dir ${(st.mode & 0o7777).toString(8)}`);
      for (const name of fs.readdirSync(p).sort()) walk(path.join(p, name));
    } else if (st.isFile()) out.set(p, `file ${(st.mode & 0o7777).toString(8)} ${crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex')}`);
  };
  for (const d of dirs) walk(d);
  return out;
}

/** The paths whose digest differs between two readings (added, removed or changed). */
export function changedPaths(before: Map<string, string>, after: Map<string, string>): string[] {
  const paths = new Set([...before.keys(), ...after.keys()]);
  return [...paths].filter((p) => before.get(p) !== after.get(p)).sort();
}
