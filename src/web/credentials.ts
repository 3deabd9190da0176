import crypto from 'node:crypto';
import { promisify } from 'node:util';
import type { Store } from '../store/store.ts';
import { hashesEqual } from '../core/bouncers/api-key.ts';
import { META_KEYS } from '../store/meta-keys.ts';
import { getMeta, setMeta, setMetaIfAbsent } from '../store/meta.ts';

const ADMIN_TOKEN_KEY = META_KEYS.adminToken;

/**
 * What opens the dashboard: the admin token (`vigil admin token`, stored as SHA-256) or the
 * dashboard password created at first start (stored with scrypt). Neither is stored in plain.
 */
export const PASSWORD_KEY = META_KEYS.dashboardPassword;

export type LoginVia = 'password' | 'token';

const scrypt = promisify(crypto.scrypt) as (pw: string, salt: Buffer, keylen: number, opts: crypto.ScryptOptions) => Promise<Buffer>;
/** 32 MiB, ~0.1 s: the password is random (≈99 bits), so the cost guards the hash, not a weak secret. */
const SCRYPT_PARAMS = { N: 1 << 15, r: 8, p: 1 };
const KEY_LEN = 32;
// No 0/o, 1/l/i: read from a terminal and typed on a phone.
const ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';

/** e.g. `k3xq9-mfh2w-p7zcr-tn4sd`: 20 random characters (≈99 bits). */
export function generatePassword(): string {
  const chars = Array.from({ length: 20 }, () => ALPHABET[crypto.randomInt(ALPHABET.length)]);
  return [0, 5, 10, 15].map((i) => chars.slice(i, i + 5).join('')).join('-');
}

/**
 * The dashboard password's hash, scrypt: `scrypt$N$r$p$salt$hash` (base64url), the parameters travel
 * with the hash so they can change. Machine passwords are bcrypt, as CrowdSec stores them (lib/password.ts).
 */
export async function hashDashboardPassword(password: string): Promise<string> {
  const salt = crypto.randomBytes(16);
  const { N, r, p } = SCRYPT_PARAMS;
  const key = await scrypt(password, salt, KEY_LEN, { N, r, p, maxmem: 64 * 1024 * 1024 });
  return ['scrypt', N, r, p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

export async function verifyDashboardPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  const salt = Buffer.from(parts[4]!, 'base64url');
  const expected = Buffer.from(parts[5]!, 'base64url');
  if (!Number.isInteger(N) || N > 1 << 20 || !Number.isInteger(r) || !Number.isInteger(p) || expected.length === 0) return false;
  const key = await scrypt(password, salt, expected.length, { N, r, p, maxmem: 256 * N * r + 1024 * 1024 });
  return crypto.timingSafeEqual(key, expected);
}

/** A first-start password, hashed but not stored yet. */
export interface PreparedPassword {
  password: string;
  hash: string;
}

/** A new first-start password and its scrypt hash; null when a password exists already. */
export async function prepareDashboardPassword(store: Store): Promise<PreparedPassword | null> {
  if (await getMeta(store, PASSWORD_KEY)) return null;
  const password = generatePassword();
  return { password, hash: await hashDashboardPassword(password) };
}

/**
 * Stores a prepared password unless one exists, and returns it (to print once) when this process's
 * was stored. Replicas starting together race on the insert-if-absent: only the winner prints.
 */
export async function storeDashboardPassword(store: Store, prepared: PreparedPassword): Promise<string | null> {
  await setMetaIfAbsent(store, PASSWORD_KEY, prepared.hash);
  return (await getMeta(store, PASSWORD_KEY)) === prepared.hash ? prepared.password : null;
}

/** Replaces the dashboard password (sessions opened with the old one end); returns the new one. */
export async function resetDashboardPassword(store: Store, password = generatePassword()): Promise<string> {
  await setMeta(store, PASSWORD_KEY, await hashDashboardPassword(password));
  return password;
}

/** Which credential a login secret matches, if any. The token is checked first: it costs nothing. */
export async function checkLoginSecret(store: Store, secret: string): Promise<LoginVia | null> {
  const token = await getMeta(store, ADMIN_TOKEN_KEY);
  if (token && hashesEqual(sha256(secret), token)) return 'token';
  const password = await getMeta(store, PASSWORD_KEY);
  if (password && (await verifyDashboardPassword(secret, password))) return 'password';
  return null;
}

/**
 * A short fingerprint of the stored credential a session was opened with: a new password or a
 * rotated token changes it, which ends those sessions. Null when the credential is gone.
 */
export async function credentialFingerprint(store: Store, via: LoginVia): Promise<string | null> {
  const stored = await getMeta(store, via === 'token' ? ADMIN_TOKEN_KEY : PASSWORD_KEY);
  return stored ? sha256(stored).slice(0, 16) : null;
}

function sha256(s: string): string {
  return crypto.createHash('sha256').update(s).digest('hex');
}
