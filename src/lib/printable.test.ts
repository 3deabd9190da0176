import { describe, expect, it } from 'vitest';
import { printable, terminalSafe } from './printable.ts';

describe('printable', () => {
  it('turns C0, C1 and DEL into visible escapes, keeping text and (when asked) newlines', () => {
    expect(printable('\u001b[31mred\u001b[0m')).toBe('\\x1b[31mred\\x1b[0m');
    expect(printable('osc \u001b]52;c;ZXZpbA==\u0007 csi \u009b2J del \u007f')).toBe('osc \\x1b]52;c;ZXZpbA==\\x07 csi \\x9b2J del \\x7f');
    expect(printable('a\r\nb\tc')).toBe('a\\x0d\\x0ab\\x09c');
    expect(printable('a\nb\rc', { keepNewlines: true })).toBe('a\nb\\x0dc');
    expect(printable('plain ascii, accents é, emoji 🚫, U+2028 \u2028')).toBe('plain ascii, accents é, emoji 🚫, U+2028 \u2028');
  });

  it('terminalSafe: our colours pass, other escapes and controls are shown, JSON stays the same value', () => {
    expect(terminalSafe('\u001b[31mred\u001b[0m\tok\n')).toBe('\u001b[31mred\u001b[0m\tok\n');
    expect(terminalSafe('a\u001b[2Jb\u001b]0;title\u0007c\rd')).toBe('a\\x1b[2Jb\\x1b]0;title\\x07c\\x0dd');
    const json = JSON.stringify({ scenario: 'x\u009b2Jy' });
    expect(terminalSafe(json)).not.toMatch(/[\u0080-\u009f]/);
    expect(JSON.parse(terminalSafe(json))).toEqual({ scenario: 'x\u009b2Jy' });
  });
});
