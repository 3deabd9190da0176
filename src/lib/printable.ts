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

/**
 * Everything the CLI writes to its standard output, made safe for the terminal whatever its format:
 * our own colours (SGR, `ESC [ digits m`) pass, any other escape or control character is shown as
 * `\xHH`, and C1 controls (which some terminals obey as escapes) as `\u00HH` — inside a JSON string
 * that is the same character, so `-o json` stays exact. Newlines and tabs pass.
 */
const UNSAFE_FOR_TERMINAL = /\u001b(?!\[[0-9;]*m)|[\u0000-\u0008\u000b-\u001a\u001c-\u001f\u007f]|[\u0080-\u009f]/g;

export function terminalSafe(text: string): string {
  return text.replace(UNSAFE_FOR_TERMINAL, (c) => {
    const code = c.charCodeAt(0);
    return code >= 0x80 ? `\\u00${code.toString(16)}` : hex(c);
  });
}
