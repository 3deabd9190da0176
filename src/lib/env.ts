import { VigilError } from './errors.ts';

export interface EnvExpansion {
  /** The message for a reference to a variable that is not set (never its value). */
  missing: (name: string) => string;
  /** An empty variable counts as set (default: refused, like an unset one). */
  allowEmpty?: boolean;
  /**
   * Strict form (notification secrets): `$$` is a literal `$`, and a `${…}` that is not a variable
   * name is refused with `malformed`. Otherwise only well-formed `${NAME}` are replaced.
   */
  strict?: { malformed: (ref: string) => string };
}

/** `NAME` or `NAME:-default` inside `${…}` (the shell's and Compose's default form). */
const REF = /^([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$/s;

/**
 * Replaces `${NAME}` with the environment's value, and `${NAME:-default}` with it or, when it is
 * unset or empty, with `default` (taken as written, no nested references): the one implementation
 * for every config file.
 */
export function expandEnvRefs(text: string, env: NodeJS.ProcessEnv, opts: EnvExpansion): string {
  const value = (name: string, fallback: string | undefined): string => {
    const v = env[name];
    if (fallback !== undefined && (v === undefined || v === '')) return fallback;
    if (v === undefined || (v === '' && !opts.allowEmpty)) throw new VigilError('E_CONFIG', opts.missing(name));
    return v;
  };
  if (!opts.strict) {
    return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (_, name: string, fallback: string | undefined) => value(name, fallback));
  }
  const { malformed } = opts.strict;
  return text.replace(/\$\$|\$\{([^}]*)\}|\$/g, (match, ref: string | undefined) => {
    if (match === '$$' || match === '$') return '$';
    const m = ref === undefined ? null : REF.exec(ref);
    if (!m) throw new VigilError('E_CONFIG', malformed(ref ?? ''));
    return value(m[1]!, m[2]);
  });
}
