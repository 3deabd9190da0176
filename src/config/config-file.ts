import fs from 'node:fs';
import type { z } from 'zod';
import { expandEnvRefs } from '../lib/env.ts';
import { VigilError } from '../lib/errors.ts';
import { mergeYamlPatch, parseYaml } from '../lib/yaml.ts';

/**
 * vigil.yaml as CrowdSec reads config.yaml: the file, then `vigil.yaml.local` beside it merged over
 * it (yamlpatch: mappings key by key, lists and values replaced), then `${VAR}` and `${VAR:-default}`
 * expanded in every value. Expansion is per value, after parsing, so a variable's text can never
 * change the file's structure and an unset one is named with its key. `notifications:` is left as
 * written: its secrets are expanded when the channels start (notify/config.ts, `$$` for a literal `$`).
 */

/** Where the overlay of `file` is looked for. */
export const localOverlayOf = (file: string): string => `${file}.local`;

/** Keys whose values keep their `${VAR}` for a later, stricter expansion. */
const EXPANDED_LATER = new Set(['notifications']);

export function readConfigFile<T>(file: string, schema: z.ZodType<T>, env: NodeJS.ProcessEnv): T {
  const overlay = localOverlayOf(file);
  let data = readYaml(file);
  const hasOverlay = fs.existsSync(overlay);
  if (hasOverlay) data = mergeYamlPatch(data, readYaml(overlay));
  const where = hasOverlay ? `config file ${file} (with ${overlay})` : `config file ${file}`;
  // A value that is one whole reference takes the type its text reads as (`max_connections: ${MAX}`,
  // `use_forwarded_for_headers: ${BEHIND_LB}`, `trusted_proxies: ${PROXIES}` with `[10.0.0.1]`), as
  // CrowdSec's expansion of the text before parsing would; where the key wants text, the text stands.
  const typed = new Map<string, string>();
  let expanded = expandValues(data, [], env, where, typed);
  for (let attempt = 0; ; attempt++) {
    const parsed = schema.safeParse(expanded);
    if (parsed.success) return parsed.data;
    const issue = parsed.error.issues[0]!;
    const at = issue.path.join('.');
    if (attempt < 64 && typed.has(at)) {
      expanded = setAt(expanded, issue.path as (string | number)[], typed.get(at)!);
      typed.delete(at);
      continue;
    }
    const key = at || (issue.code === 'unrecognized_keys' ? '' : '(top level)');
    const unknown = issue.code === 'unrecognized_keys' ? (issue as { keys: string[] }).keys.join(', ') : '';
    const reason = issue.code === 'unrecognized_keys' ? `unknown key ${unknown}; see docs/configuration.md for the keys Vigil reads` : issue.message;
    throw new VigilError('E_CONFIG', `${where}: ${key ? `${key}: ` : ''}${reason}`);
  }
}

function readYaml(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new VigilError('E_CONFIG', `config file ${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return parseYaml(text, 'E_CONFIG', (at, reason) => `config file ${file}: YAML syntax error at ${at}: ${reason}`);
}

const WHOLE_REF = /^\$\{[A-Za-z_][A-Za-z0-9_]*(?::-[^}]*)?\}$/;

function expandValues(v: unknown, path: (string | number)[], env: NodeJS.ProcessEnv, where: string, typed: Map<string, string>): unknown {
  if (typeof v === 'string') {
    if (!v.includes('${')) return v;
    const key = path.join('.');
    // `$${` writes a literal `${`.
    const parts = v.split('$${');
    const text = parts
      .map((part) =>
        expandEnvRefs(part, env, {
          allowEmpty: true,
          missing: (name) =>
            `${where}: ${key}: environment variable ${name} is not set (referenced as \${${name}}); export it, or give a default: \${${name}:-VALUE}`,
        }),
      )
      .join('${');
    if (parts.length === 1 && WHOLE_REF.test(v)) {
      const asYaml = readsAs(text);
      if (asYaml !== text) {
        typed.set(key, text);
        return asYaml;
      }
    }
    return text;
  }
  if (Array.isArray(v)) return v.map((x, i) => expandValues(x, [...path, i], env, where, typed));
  if (typeof v === 'object' && v !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = path.length === 0 && EXPANDED_LATER.has(k) ? x : expandValues(x, [...path, k], env, where, typed);
    return out;
  }
  return v;
}

/** What a variable's text is as a YAML value: a number, a boolean or a flow list; anything else stays text. */
function readsAs(text: string): unknown {
  const t = text.trim();
  if (t === 'true' || t === 'false') return t === 'true';
  if (/^-?\d+(\.\d+)?$/.test(t) && Number.isFinite(Number(t))) return Number(t);
  if (t.startsWith('[') && t.endsWith(']')) {
    try {
      const list = parseYaml(t, 'E_CONFIG', () => '');
      if (Array.isArray(list)) return list;
    } catch {
      // Not a list after all: the text stands.
    }
  }
  return text;
}

function setAt(root: unknown, path: (string | number)[], value: unknown): unknown {
  if (path.length === 0) return value;
  const [head, ...rest] = path;
  if (Array.isArray(root)) return root.map((x, i) => (i === head ? setAt(x, rest, value) : x));
  const obj = root as Record<string, unknown>;
  return { ...obj, [head!]: setAt(obj[head!], rest, value) };
}
