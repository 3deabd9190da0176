/**
 * Text from the store or the network made safe to print to a terminal: C0 and C1 control characters
 * and DEL (ESC starts the sequences that recolour, move the cursor, retitle the window or write to
 * the clipboard) become visible `\xHH` escapes. A machine can push any scenario or reason in an
 * alert; `decisions list -o raw` must not replay its escape sequences on the operator's terminal.
 * `\n` is kept where a format gives it a meaning (a quoted CSV field, a multi-line cell).
 */
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/g;
const CONTROL_OR_NEWLINE = /[\u0000-\u001f\u007f-\u009f]/g;

const hex = (c: string) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;

export function printable(text: string, options: { keepNewlines?: boolean } = {}): string {
  return text.replace(options.keepNewlines ? CONTROL : CONTROL_OR_NEWLINE, hex);
}
