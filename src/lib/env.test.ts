import { describe, expect, it } from 'vitest';
import { expandEnvRefs } from './env.ts';

describe('expandEnvRefs', () => {
  const missing = (name: string) => `${name} is not set`;

  it('replaces ${NAME} and refuses an unset (or, by default, empty) variable by name, never by value', () => {
    expect(expandEnvRefs('key: ${K}', { K: 's3cret' }, { missing })).toBe('key: s3cret');
    expect(() => expandEnvRefs('${NOPE}', {}, { missing })).toThrow('NOPE is not set');
    expect(() => expandEnvRefs('${E}', { E: '' }, { missing })).toThrow('E is not set');
    expect(expandEnvRefs('${E}', { E: '' }, { missing, allowEmpty: true })).toBe('');
  });

  it('leaves anything but a well-formed reference alone, unless strict', () => {
    expect(expandEnvRefs('$$ ${1X} $', {}, { missing })).toBe('$$ ${1X} $');
    const strict = { malformed: (ref: string) => `"${ref}" is not a name` };
    expect(expandEnvRefs('a$$b$c', {}, { missing, strict })).toBe('a$b$c');
    expect(() => expandEnvRefs('${1X}', {}, { missing, strict })).toThrow('"1X" is not a name');
  });
});
