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

/** Replaces `${NAME}` with the environment's value: the one implementation for every config file. */
export function expandEnvRefs(text: string, env: NodeJS.ProcessEnv, opts: EnvExpansion): string {
  const value = (name: string): string => {
    const v = env[name];
    if (v === undefined || (v === '' && !opts.allowEmpty)) throw new VigilError('E_CONFIG', opts.missing(name));
    return v;
  };
  if (!opts.strict) return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => value(name));
  const { malformed } = opts.strict;
  return text.replace(/\$\$|\$\{([^}]*)\}|\$/g, (match, name: string | undefined) => {
    if (match === '$$' || match === '$') return '$';
    if (!name || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new VigilError('E_CONFIG', malformed(name ?? ''));
    return value(name);
  });
}
