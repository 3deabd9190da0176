import { describe, expect, it } from 'vitest';
import { goJson } from './go-json.ts';

describe('goJson (Go encoding/json)', () => {
  it('escapes HTML characters, line separators and control characters as Go does', () => {
    expect(goJson('<a href="x">&</a>')).toBe('"\\u003ca href=\\"x\\"\\u003e\\u0026\\u003c/a\\u003e"');
    expect(goJson('\u2028\u2029')).toBe('"\\u2028\\u2029"');
    expect(goJson('\n\r\t\b\f\u0001')).toBe('"\\n\\r\\t\\u0008\\u000c\\u0001"');
    expect(goJson('\ud800x')).toBe('"\ufffdx"');
    expect(goJson('µ✔️🚫')).toBe('"µ✔️🚫"');
  });

  it('is compact without an indent and MarshalIndent-shaped with one', () => {
    const value = { b: 1, a: [true, null], e: [], o: {}, skipped: undefined };
    expect(goJson(value)).toBe('{"b":1,"a":[true,null],"e":[],"o":{}}');
    expect(goJson(value, ' ')).toBe('{\n "b": 1,\n "a": [\n  true,\n  null\n ],\n "e": [],\n "o": {}\n}');
    expect(goJson([], '  ')).toBe('[]');
    expect(goJson(null, '  ')).toBe('null');
  });

  it('encodes bigint and toJSON values from callers’ hooks', () => {
    expect(goJson({ n: 10n ** 20n, d: new Date(0) })).toBe('{"n":100000000000000000000,"d":"1970-01-01T00:00:00.000Z"}');
  });
});
