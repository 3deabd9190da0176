/**
 * Go's encoding/csv Writer (comma, '\n' line ends), which cscli uses for `-o raw`: a field is
 * quoted only when it holds a comma, a quote, '\r' or '\n', starts with a space (unicode.IsSpace),
 * or is exactly `\.`; quotes inside are doubled.
 */
import { printable } from '../../lib/printable.ts';

const GO_LEADING_SPACE = /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/;

function csvField(raw: string): string {
  // Control characters (a pushed alert's ESC sequences) are escaped; a newline stays, quoted, as Go writes it.
  const field = printable(raw, { keepNewlines: true });
  const quote = field !== '' && (field === '\\.' || /[,"\r\n]/.test(field) || GO_LEADING_SPACE.test(field));
  return quote ? `"${field.replaceAll('"', '""')}"` : field;
}

/** One CSV record, '\n'-terminated. */
export function csvRow(fields: readonly string[]): string {
  return fields.map(csvField).join(',') + '\n';
}
