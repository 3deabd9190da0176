import { VigilError } from '../../lib/errors.ts';

/** Names go in logs, tables and URLs: keep them printable and short. */
export function validateBouncerName(name: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._@:-]{0,127}$/.test(name)) {
    throw new VigilError('E_BAD_NAME', `bouncer name "${name}": use 1 to 128 letters, digits, '.', '_', '@', ':' or '-', starting with a letter or digit`);
  }
  return name;
}
