/**
 * Quoting for the values runbooks put into shell commands and prose: names come from operators and
 * types from any client holding a key, so nothing may break out of a word or a code span.
 */

const SHELL_SAFE = /^[A-Za-z0-9._@:/-]+$/;
// C0/C1 controls, and the invisible or direction-changing characters that make a terminal show
// something other than what runs ("Trojan source").
const NEEDS_ESCAPE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/;
const NEEDS_ESCAPE_ALL = new RegExp(NEEDS_ESCAPE.source, 'g');

function escapeChar(ch: string): string {
  const named: Record<string, string> = { '\n': '\\n', '\t': '\\t', '\r': '\\r' };
  if (named[ch]) return named[ch];
  const code = ch.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * One shell word for `value`, for bash (the seed's commands are bash). Left bare when it holds only
 * `[A-Za-z0-9._@:/-]`; single-quoted otherwise; ANSI-C quoted (`$'…'`) when it holds control or
 * invisible characters, so that what the terminal shows is what runs.
 */
export function shellQuote(value: string): string {
  if (value !== '' && SHELL_SAFE.test(value)) return value;
  if (NEEDS_ESCAPE.test(value)) {
    const body = value.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(NEEDS_ESCAPE_ALL, escapeChar);
    return `$'${body}'`;
  }
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** A value shown in prose: a Markdown code span that no content can break out of, controls made visible. */
export function code(value: string): string {
  const visible = value.replace(NEEDS_ESCAPE_ALL, escapeChar);
  const longestRun = Math.max(0, ...(visible.match(/`+/g) ?? []).map((r) => r.length));
  const fence = '`'.repeat(longestRun + 1);
  const pad = visible.startsWith('`') || visible.endsWith('`') || visible === '' ? ' ' : '';
  return `${fence}${pad}${visible}${pad}${fence}`;
}

/** A shell fragment that is already safe (built here from quoted parts): not quoted again. */
export interface Raw {
  raw: string;
}
export const raw = (text: string): Raw => ({ raw: text });

/** Tagged template: interpolated strings are shell-quoted, `raw(…)` fragments are kept. */
export function sh(strings: TemplateStringsArray, ...values: Array<string | Raw>): string {
  // The literal parts as written (`\n` stays two characters: it is for the shell, not for us).
  let out = strings.raw[0];
  values.forEach((v, i) => {
    out += (typeof v === 'string' ? shellQuote(v) : v.raw) + strings.raw[i + 1];
  });
  return out;
}
