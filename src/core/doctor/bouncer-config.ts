/**
 * Reading bouncer configurations the way the bouncers themselves read them. Pure: takes file
 * contents, returns what the bouncer would end up with, or where and why it would stop.
 *
 * Two formats (docs/reference/crowdsec-docs-notes.md §3.2):
 * - YAML (Go bouncers: firewall, custom, cloudflare, spoa, …). `FILE.local`, when present, is
 *   deep-merged over `FILE` exactly as CrowdSec's yamlpatch does: mappings merge key by key,
 *   sequences and scalars are replaced, an explicit null removes, duplicate keys and a mapping
 *   merged into a scalar (or the reverse) are errors (strict mode). Observed with the real
 *   crowdsec-custom-bouncer 0.0.15: `line 3: key "api_key" already set in map` and
 *   `can't merge a mapping into a scalar` are fatal.
 * - `KEY=VALUE` (lua-cs-bouncer: nginx, openresty, haproxy): `#` comments at line start, blank
 *   lines skipped, values not unquoted, a line without `=` logged as "invalid configuration line"
 *   and nothing after it read; `FILE.local` overrides key by key.
 */
import YAML, { isMap, isScalar, type Node as YamlNode } from 'yaml';

export type ConfigFormat = 'yaml' | 'conf';

export interface SourceFile {
  path: string;
  text: string;
}

export interface ParseError {
  path: string;
  /** 1-based; absent when the error is not tied to a place. */
  line?: number;
  col?: number;
  message: string;
}

/** A value and the file it came from (the main file or its `.local`). */
export interface Located<T = string> {
  value: T;
  path: string;
  /** The key as written, e.g. `api_url`, `crowdsec_config.lapi_url`, `API_URL`. */
  key: string;
  line?: number;
}

/** What the bouncer will use to reach the Local API, and a few settings worth checking. */
export interface LapiSettings {
  url?: Located;
  key?: Located;
  /** mTLS client certificate instead of a key (`cert_path`/`key_path`, `USE_TLS_AUTH=true`). */
  certAuth?: { cert?: Located; key?: Located };
  caCertPath?: Located;
  insecureSkipVerify?: Located<boolean>;
  updateFrequency?: Located;
  mode?: Located;
  /** Where a YAML Go bouncer writes its log (`log_mode: file` + `log_dir`). */
  logMode?: Located;
  logDir?: Located;
  /** Every `${VAR}` left in any value after merging. */
  placeholders: Located[];
  /** Non-fatal oddities the bouncer would log (unsupported keys, quoted values, …). */
  notes: { message: string; path: string; line?: number }[];
}

export type LoadResult = { ok: true; settings: LapiSettings; files: string[] } | { ok: false; error: ParseError; files: string[] };

const PLACEHOLDER = /\$\{[A-Za-z_][A-Za-z0-9_]*\}/;

// ------------------------------------------------------------------------------------- YAML

type Plain = null | string | number | boolean | Plain[] | { [k: string]: Plain };

interface ParsedYaml {
  value: Plain;
  /** `a.b.c` → line, for messages. */
  lines: Map<string, number>;
}

function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** Parses one YAML file; an empty or comment-only file is `undefined` (skipped by the merge, as yamlpatch does). */
export function parseYamlFile(file: SourceFile): { ok: true; doc: ParsedYaml | undefined } | { ok: false; error: ParseError } {
  const doc = YAML.parseDocument(file.text, { uniqueKeys: true, prettyErrors: true, strict: true });
  // "key: value" followed by a wrongly indented " key: value" is reported by the library at the
  // first value; the Go bouncers (and the operator) see the ':' of the second line: point there.
  const multi = doc.errors.find((e) => e.code === 'MULTILINE_IMPLICIT_KEY');
  if (multi?.linePos?.[1]) {
    const { line, col } = multi.linePos[1];
    return {
      ok: false,
      error: { path: file.path, line, col, message: 'mapping values are not allowed here: this line is indented as if it continued the value above' },
    };
  }
  const err = doc.errors[0];
  if (err) {
    const pos = err.linePos?.[0];
    // The `yaml` library's message ends with a code excerpt; the first line is the reason.
    const message = err.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
    return { ok: false, error: { path: file.path, line: pos?.line, col: pos?.col, message } };
  }
  if (doc.contents === null) return { ok: true, doc: undefined };
  const lines = new Map<string, number>();
  const walk = (node: YamlNode | null | undefined, prefix: string): void => {
    if (!isMap(node)) return;
    for (const pair of node.items) {
      const k = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      const p = prefix ? `${prefix}.${k}` : k;
      const range = (pair.key as YamlNode | null)?.range;
      if (range) lines.set(p, lineOf(file.text, range[0]));
      walk(pair.value as YamlNode | null, p);
    }
  };
  walk(doc.contents as YamlNode, '');
  const value = doc.toJS({ maxAliasCount: 100 }) as Plain;
  if (value !== null && (typeof value !== 'object' || Array.isArray(value))) {
    return { ok: false, error: { path: file.path, line: 1, col: 1, message: 'the file must be a mapping of keys (key: value), not a single value or a list' } };
  }
  return { ok: true, doc: { value, lines } };
}

const kindOf = (v: Plain): 'mapping' | 'sequence' | 'scalar' => (v !== null && typeof v === 'object' ? (Array.isArray(v) ? 'sequence' : 'mapping') : 'scalar');

/** yamlpatch's strict merge (crowdsec pkg/yamlpatch/merge.go semantics). Throws on a type mismatch. */
export function mergeYaml(into: Plain | undefined, from: Plain | undefined, path = ''): Plain {
  if (into === undefined || into === null) return from ?? null;
  if (from === undefined) return into;
  if (from === null) return null;
  const a = kindOf(into);
  const b = kindOf(from);
  if (a === 'mapping' && b === 'mapping') {
    const out: { [k: string]: Plain } = { ...(into as { [k: string]: Plain }) };
    for (const [k, v] of Object.entries(from as { [k: string]: Plain })) out[k] = mergeYaml(out[k], v, path ? `${path}.${k}` : k);
    return out;
  }
  if (a === b) return from;
  throw new Error(`can't merge a ${b} into a ${a}${path ? ` (key ${path})` : ''}`);
}

function get(doc: Plain, dotted: string): Plain | undefined {
  let cur: Plain | undefined = doc;
  for (const part of dotted.split('.')) {
    if (cur === null || cur === undefined || typeof cur !== 'object' || Array.isArray(cur)) return undefined;
    cur = (cur as { [k: string]: Plain })[part];
  }
  return cur;
}

const scalarText = (v: Plain | undefined): string | undefined => (v === undefined || v === null || typeof v === 'object' ? undefined : String(v));

// Which keys each bouncer family uses for the Local API (docs/reference/crowdsec-docs-notes.md §3.2), first present wins.
const YAML_URL_KEYS = ['api_url', 'crowdsec_lapi_url', 'crowdsec_config.lapi_url', 'lapi_url'];
const YAML_KEY_KEYS = ['api_key', 'crowdsec_lapi_key', 'crowdsec_config.lapi_key', 'lapi_key'];
const YAML_FREQ_KEYS = ['update_frequency', 'crowdsec_update_frequency', 'crowdsec_config.update_frequency'];

export function loadYamlConfig(main: SourceFile, local?: SourceFile): LoadResult {
  const files = local ? [main.path, local.path] : [main.path];
  const a = parseYamlFile(main);
  if (!a.ok) return { ok: false, error: a.error, files };
  const b = local ? parseYamlFile(local) : { ok: true as const, doc: undefined };
  if (!b.ok) return { ok: false, error: b.error, files };
  let merged: Plain;
  try {
    merged = mergeYaml(a.doc?.value, b.doc?.value);
  } catch (e) {
    return { ok: false, error: { path: local!.path, message: (e as Error).message }, files };
  }
  if (merged === null) merged = {};

  // Where a key's final value came from: the .local file when it sets that key (or a parent).
  const locate = (dotted: string, value: string): Located => {
    const inLocal = b.doc !== undefined && get(b.doc.value, dotted) !== undefined;
    const src = inLocal ? { path: local!.path, lines: b.doc!.lines } : { path: main.path, lines: a.doc?.lines ?? new Map<string, number>() };
    return { value, path: src.path, key: dotted, line: src.lines.get(dotted) };
  };
  const first = (keys: string[]): Located | undefined => {
    for (const k of keys) {
      const v = scalarText(get(merged, k));
      if (v !== undefined) return locate(k, v);
    }
    return undefined;
  };

  const settings: LapiSettings = { placeholders: [], notes: [] };
  settings.url = first(YAML_URL_KEYS);
  settings.key = first(YAML_KEY_KEYS);
  const cert = first(['cert_path']);
  const certKey = first(['key_path']);
  if (cert || certKey) settings.certAuth = { cert, key: certKey };
  settings.caCertPath = first(['ca_cert_path']);
  const insecure = first(['insecure_skip_verify', 'crowdsec_config.insecure_skip_verify']);
  if (insecure) settings.insecureSkipVerify = { ...insecure, value: insecure.value === 'true' };
  settings.updateFrequency = first(YAML_FREQ_KEYS);
  settings.mode = first(['mode']);
  settings.logMode = first(['log_mode']);
  settings.logDir = first(['log_dir']);

  const visit = (v: Plain, prefix: string): void => {
    if (v !== null && typeof v === 'object') {
      if (Array.isArray(v)) for (const [i, x] of v.entries()) visit(x, `${prefix}[${i}]`);
      else for (const [k, x] of Object.entries(v)) visit(x, prefix ? `${prefix}.${k}` : k);
      return;
    }
    const s = scalarText(v);
    if (s !== undefined && PLACEHOLDER.test(s)) settings.placeholders.push(locate(prefix.replace(/\[\d+\]$/, ''), s));
  };
  visit(merged, '');
  return { ok: true, settings, files };
}

// --------------------------------------------------------------------------------- KEY=VALUE

// lua-cs-bouncer's accepted keys (lib/plugins/crowdsec/config.lua); anything else is logged as unsupported.
const CONF_KEYS = new Set([
  'ENABLED',
  'ENABLE_INTERNAL',
  'API_URL',
  'API_KEY',
  'BOUNCING_ON_TYPE',
  'MODE',
  'SECRET_KEY',
  'SITE_KEY',
  'BAN_TEMPLATE_PATH',
  'CAPTCHA_TEMPLATE_PATH',
  'REDIRECT_LOCATION',
  'RET_CODE',
  'CAPTCHA_RET_CODE',
  'EXCLUDE_LOCATION',
  'FALLBACK_REMEDIATION',
  'CAPTCHA_PROVIDER',
  'APPSEC_URL',
  'APPSEC_FAILURE_ACTION',
  'ALWAYS_SEND_TO_APPSEC',
  'APPSEC_DROP_UNREADABLE_BODY',
  'SSL_VERIFY',
  'USE_TLS_AUTH',
  'TLS_CLIENT_CERT',
  'TLS_CLIENT_KEY',
  'SCENARIOS_CONTAINING',
  'SCENARIOS_NOT_CONTAINING',
  'CACHE_EXPIRATION',
  'CACHE_SIZE',
  'REQUEST_TIMEOUT',
  'UPDATE_FREQUENCY',
  'CAPTCHA_EXPIRATION',
  'APPSEC_CONNECT_TIMEOUT',
  'APPSEC_SEND_TIMEOUT',
  'APPSEC_PROCESS_TIMEOUT',
  'STREAM_REQUEST_TIMEOUT',
  'MAP_PATH',
]);

interface ConfEntry {
  value: string;
  line: number;
  path: string;
}

export function parseKeyValueFile(file: SourceFile, into: Map<string, ConfEntry>, notes: LapiSettings['notes']): ParseError | undefined {
  const lines = file.text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i];
    if (raw.startsWith('#') || raw.trim() === '') continue;
    const eq = raw.indexOf('=');
    if (eq < 0) {
      // The Lua bouncer logs "invalid configuration line" and stops reading the file here.
      return {
        path: file.path,
        line: i + 1,
        col: 1,
        message: `invalid configuration line "${raw.trim().slice(0, 60)}": expected KEY=VALUE; the bouncer stops reading the file at this line`,
      };
    }
    const key = raw.slice(0, eq).trim();
    const value = raw.slice(eq + 1).trim();
    if (!CONF_KEYS.has(key)) notes.push({ path: file.path, line: i + 1, message: `unsupported configuration '${key}' (the bouncer ignores it)` });
    if (/^(["']).*\1$/.test(value) && value.length >= 2) {
      notes.push({ path: file.path, line: i + 1, message: `${key} is quoted: the quotes become part of the value (write ${key}=value without quotes)` });
    }
    into.set(key, { value, line: i + 1, path: file.path });
  }
  return undefined;
}

export function loadKeyValueConfig(main: SourceFile, local?: SourceFile): LoadResult {
  const files = local ? [main.path, local.path] : [main.path];
  const entries = new Map<string, ConfEntry>();
  const settings: LapiSettings = { placeholders: [], notes: [] };
  for (const f of local ? [main, local] : [main]) {
    const err = parseKeyValueFile(f, entries, settings.notes);
    if (err) return { ok: false, error: err, files };
  }
  const at = (key: string): Located | undefined => {
    const e = entries.get(key);
    return e && e.value !== '' ? { value: e.value, path: e.path, key, line: e.line } : undefined;
  };
  settings.url = at('API_URL');
  settings.key = at('API_KEY');
  if (entries.get('USE_TLS_AUTH')?.value === 'true') settings.certAuth = { cert: at('TLS_CLIENT_CERT'), key: at('TLS_CLIENT_KEY') };
  const verify = at('SSL_VERIFY');
  if (verify) settings.insecureSkipVerify = { ...verify, value: verify.value === 'false' };
  settings.updateFrequency = at('UPDATE_FREQUENCY');
  settings.mode = at('MODE');
  for (const [key, e] of entries) {
    if (PLACEHOLDER.test(e.value)) settings.placeholders.push({ value: e.value, path: e.path, key, line: e.line });
  }
  return { ok: true, settings, files };
}

export function loadBouncerConfig(format: ConfigFormat, main: SourceFile, local?: SourceFile): LoadResult {
  return format === 'yaml' ? loadYamlConfig(main, local) : loadKeyValueConfig(main, local);
}

/** `*.yaml`/`*.yml` are YAML; `*.conf` (and anything else) the Lua bouncers' KEY=VALUE. */
export function formatOfFile(path: string): ConfigFormat {
  return /\.ya?ml$/i.test(path) ? 'yaml' : 'conf';
}

export const hasPlaceholder = (value: string): boolean => PLACEHOLDER.test(value);
