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
