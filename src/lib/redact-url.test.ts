import { describe, expect, it } from 'vitest';
import { redactSecretsOf, redactUrl } from './redact-url.ts';

describe('redactUrl', () => {
  it.each([
    ['postgres://vigil:s3cret@db:5432/vigil', 'postgres://vigil:***@db:5432/vigil'],
    ['postgresql://vigil:p%40ss@db/vigil?sslmode=require', 'postgresql://vigil:***@db/vigil?sslmode=require'],
    ['mysql://crowdsec:hunter22@127.0.0.1:3306/crowdsec', 'mysql://crowdsec:***@127.0.0.1:3306/crowdsec'],
    ['postgres://db/vigil?user=vigil&password=s3cret&sslpassword=k3y', 'postgres://db/vigil?user=vigil&password=***&sslpassword=***'],
    ['https://hooks.example/x?token=abc&x=1', 'https://hooks.example/x?token=***&x=1'],
    ['postgres://vigil@db/vigil', 'postgres://vigil@db/vigil'],
    ['sqlite:/var/lib/vigil/vigil.db', 'sqlite:/var/lib/vigil/vigil.db'],
  ])('%s', (input, shown) => {
    expect(redactUrl(input)).toBe(shown);
  });

  it('masks every URL in a message', () => {
    expect(redactUrl('a postgres://u:one@h/d then mysql://v:two@h/d')).toBe('a postgres://u:***@h/d then mysql://v:***@h/d');
  });

  it('removes the password a driver quoted on its own', () => {
    expect(redactSecretsOf('postgres://u:s3cret@h/d', 'auth failed for s3cret')).toBe('auth failed for ***');
    expect(redactSecretsOf('postgres://u:p%40ss@h/d', 'bad p@ss and p%40ss')).toBe('bad *** and ***');
  });
});
