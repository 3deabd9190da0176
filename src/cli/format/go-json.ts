/**
 * JSON as Go's encoding/json writes it (json.Marshal / MarshalIndent / Encoder), for the cscli
 * `-o json` outputs: keys in the order given (Go prints struct fields in declaration order),
 * `<`, `>`, `&`, U+2028 and U+2029 escaped as \u003c…, control characters as \u00XX except
 * \n \r \t (Go < 1.22, which built CrowdSec 1.4.6, has no \b or \f), lone surrogates as U+FFFD.
 */

function quote(text: string): string {
  let out = '"';
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (cp < 0x20 || ch === '<' || ch === '>' || ch === '&' || cp === 0x2028 || cp === 0x2029) {
      out += '\\u' + cp.toString(16).padStart(4, '0');
    } else if (cp >= 0xd800 && cp <= 0xdfff) out += '\ufffd';
    else out += ch;
  }
  return out + '"';
}

/**
 * `indent` '' gives Go's compact json.Marshal; otherwise MarshalIndent(v, "", indent).
 * Object members whose value is `undefined` are left out (Go's omitempty, as the caller decides).
 * bigint prints as a number; objects with toJSON() go through it, as with JSON.stringify.
 */
export function goJson(value: unknown, indent = ''): string {
  return encode(value, indent, '');
}

function encode(value: unknown, indent: string, prefix: string): string {
  if (value === null || value === undefined || typeof value === 'function' || typeof value === 'symbol') return 'null';
  if (typeof value === 'bigint') return value.toString();
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    return encode((value as { toJSON: () => unknown }).toJSON(), indent, prefix);
  }
  if (typeof value === 'string') return quote(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new RangeError(`cannot encode ${value} as JSON`);
    return JSON.stringify(value);
  }
  const inner = prefix + indent;
  const open = indent === '' ? '' : '\n' + inner;
  const sep = indent === '' ? ',' : ',\n' + inner;
  const close = indent === '' ? '' : '\n' + prefix;
  const colon = indent === '' ? ':' : ': ';
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    return '[' + open + value.map((v: unknown) => encode(v, indent, inner)).join(sep) + close + ']';
  }
  const members = Object.entries(value as object).filter(([, v]) => v !== undefined);
  if (members.length === 0) return '{}';
  return '{' + open + members.map(([k, v]) => quote(k) + colon + encode(v, indent, inner)).join(sep) + close + '}';
}
