import { describe, expect, it } from 'vitest';
import { parseJsonInTurns } from './json-in-turns.ts';
import { runCountingPauses } from '../../test/support/turns.ts';

/** Runs the parser to its end, counting its pauses. */
const parse = (text: string): { value: unknown; pauses: number } => runCountingPauses(parseJsonInTurns(text));

describe('parseJsonInTurns', () => {
  it('gives what JSON.parse gives, small and big', () => {
    const big = {
      alerts: Array.from({ length: 3_000 }, (_, i) => ({
        n: i,
        f: i / 7,
        neg: -i,
        e: 1e21,
        s: `x"\\y\u00e9\ud83d\ude00 ${i}`,
        nested: { deep: [[[]], {}, null, true, false] },
        long: 'z'.repeat(i % 50 === 0 ? 70_000 : 3),
      })),
      ' spaced key ': '\\',
    };
    const texts = [
      '0',
      '-1.5e-3',
      '"a\\"b"',
      '[]',
      '{}',
      ' [ 1 , { "a" : [ ] } ] ',
      'null',
      JSON.stringify(big),
      JSON.stringify(big, null, 2),
      JSON.stringify([JSON.stringify(big)]),
    ];
    for (const text of texts) expect(parse(text).value).toEqual(JSON.parse(text));
  });

  it('pauses while it parses a big body, never on a small one', () => {
    const rows = JSON.stringify(Array.from({ length: 50_000 }, (_, i) => ({ value: `10.0.${i >> 8}.${i & 255}`, type: 'ban' })));
    expect(rows.length).toBeGreaterThan(1_500_000);
    expect(parse(rows).pauses).toBeGreaterThan(5);
    expect(parse('[{"a":1}]').pauses).toBe(0);
  });

  it('refuses what JSON.parse refuses', () => {
    const filler = `"${'a'.repeat(70_000)}"`;
    for (const text of [
      '',
      '[',
      '{"a":1,}',
      '[1,]',
      '01',
      '[01]',
      "{'a':1}",
      '"\\x"',
      `[${filler},]`,
      `{${filler}:1 2}`,
      `[${filler}] x`,
      `{"a":[${filler}}`,
      'nul',
    ]) {
      expect(() => JSON.parse(text), text.slice(0, 20)).toThrow(SyntaxError);
      expect(() => parse(text), text.slice(0, 20)).toThrow(SyntaxError);
    }
  });

  it('keeps "__proto__" an own key, as JSON.parse does', () => {
    const text = `{"__proto__":{"polluted":1},"pad":"${'p'.repeat(70_000)}"}`;
    const v = parse(text).value as Record<string, unknown>;
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.keys(v)).toEqual(['__proto__', 'pad']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('refuses a big container nested deeper than any body Vigil reads', () => {
    const deep = `${'['.repeat(40)}"${'a'.repeat(70_000)}"${']'.repeat(40)}`;
    expect(() => parse(deep)).toThrow(/nested deeper than 16/);
  });
});
