import { VigilError } from '../../../lib/errors.ts';
import { maskUrl } from './mask-url.ts';

/** An http(s) URL, normalised; refused naming the key, with the URL masked (its path may be the secret). */
export function httpUrl(key: string, text: string): string {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new VigilError('E_CONFIG', `${key}: "${maskUrl(text)}" is not a URL; use https://HOST/PATH`);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') {
    throw new VigilError('E_CONFIG', `${key}: "${maskUrl(text)}": use an http:// or https:// URL`);
  }
  return u.toString();
}
