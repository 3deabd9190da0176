import YAML from 'yaml';
import { VigilError, type VigilErrorCode } from './errors.ts';

/**
 * A YAML document's data, or a VigilError naming where it broke: `problem` gets `line L, column C`
 * (or `unknown position`) and the parser's first line, and says what file it was and how to fix it.
 * An empty document reads as `{}`.
 */
export function parseYaml(text: string, code: VigilErrorCode, problem: (at: string, reason: string) => string): unknown {
  const doc = YAML.parseDocument(text);
  if (doc.errors.length > 0) {
    const err = doc.errors[0]!;
    const pos = err.linePos?.[0];
    const at = pos ? `line ${pos.line}, column ${pos.col}` : 'unknown position';
    throw new VigilError(code, problem(at, err.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')));
  }
  return doc.toJS() ?? {};
}

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A `.local` overlay over its file, as CrowdSec's go-cs-lib yamlpatch merges `config.yaml.local`:
 * mappings merge key by key, anything else in the patch (a scalar, a sequence) replaces, and an
 * empty (null) value in the patch leaves the base as it was.
 */
export function mergeYamlPatch(base: unknown, patch: unknown): unknown {
  if (isMap(base) && isMap(patch)) {
    const out: Record<string, unknown> = { ...base };
    for (const [k, v] of Object.entries(patch)) out[k] = k in out ? mergeYamlPatch(out[k], v) : v;
    return out;
  }
  return patch === null || patch === undefined ? base : patch;
}
