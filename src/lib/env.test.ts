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

describe('expandEnvRefs with a default', () => {
  const missing = (name: string) => `${name} is not set`;
  const strict = { malformed: (ref: string) => `"${ref}" is not a name` };

  it('takes ${NAME:-default} when NAME is unset or empty, the value otherwise, in both forms', () => {
    for (const opts of [{ missing }, { missing, strict }]) {
      expect(expandEnvRefs('${PORT:-8080}', {}, opts)).toBe('8080');
      expect(expandEnvRefs('${PORT:-8080}', { PORT: '' }, opts)).toBe('8080');
      expect(expandEnvRefs('${PORT:-8080}', { PORT: '9090' }, opts)).toBe('9090');
      expect(expandEnvRefs('http://${H:-127.0.0.1:8080}/', {}, opts)).toBe('http://127.0.0.1:8080/');
      expect(expandEnvRefs('${E:-}', {}, opts)).toBe('');
    }
    expect(() => expandEnvRefs('${1X:-a}', {}, { missing, strict })).toThrow('"1X:-a" is not a name');
  });
});
