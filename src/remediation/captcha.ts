/**
 * The captcha remediation. Built in and offline: a proof of work. The page gets a challenge signed
 * with the bouncer's key and bound to the client's address; the browser finds a nonce such that
 * SHA-256(`challenge:nonce`) starts with `difficulty` zero bits and sends it back; a correct answer
 * earns a signed cookie, valid for `lifetime` and for that address only. Turnstile, hCaptcha and
 * reCAPTCHA are options: their widget replaces the proof of work and the token is checked with the
 * provider's siteverify API (which needs internet).
 *
 * The signing key never leaves this module (never logged); with no key configured a random one lives
 * for the process only (passes then end at a restart).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { VigilError } from '../lib/errors.ts';
import type { Clock } from '../lib/clock.ts';

export const CAPTCHA_PROVIDERS = ['pow', 'turnstile', 'hcaptcha', 'recaptcha'] as const;
export type CaptchaProvider = (typeof CAPTCHA_PROVIDERS)[number];

/** The providers' server-side check (all three take the same form: secret, response, remoteip). */
export const SITEVERIFY_URLS: Readonly<Record<Exclude<CaptchaProvider, 'pow'>, string>> = {
  turnstile: 'https://challenges.cloudflare.com/turnstile/v0/siteverify',
  hcaptcha: 'https://api.hcaptcha.com/siteverify',
  recaptcha: 'https://www.google.com/recaptcha/api/siteverify',
};

export interface CaptchaOptions {
  provider?: CaptchaProvider;
  /** Leading zero bits the proof of work needs (pow); default 18 (~262k hashes, well under a second or two). */
  difficulty?: number;
  /** How long a solved captcha lets the address through, ms; default 1 h (the remediation spec's value). */
  lifetimeMs?: number;
  /** How long a challenge may take to be solved, ms; default 10 min. */
  challengeTtlMs?: number;
  /** Signing key (≥ 32 bytes recommended). */
  signingKey?: string | Uint8Array;
  /** Where the signing key is kept; created (mode 0600) when absent. */
  signingKeyFile?: string;
  cookieName?: string;
  /** Provider widget site key and secret (turnstile, hcaptcha, recaptcha). */
  siteKey?: string;
  secretKey?: string;
  /** Override of the provider's siteverify URL (tests, proxies). */
  verifyUrl?: string;
  /** Timeout of the siteverify call, ms; default 5 s. */
  verifyTimeoutMs?: number;
}

export const DEFAULT_DIFFICULTY = 18;
export const DEFAULT_CAPTCHA_LIFETIME_MS = 3600_000;
const MIN_DIFFICULTY = 1;
const MAX_DIFFICULTY = 32;

const b64url = (b: Buffer): string => b.toString('base64url');

/** Leading zero bits of a digest. */
export function leadingZeroBits(digest: Uint8Array): number {
  let bits = 0;
  for (const byte of digest) {
    if (byte === 0) {
      bits += 8;
      continue;
    }
    return bits + Math.clz32(byte) - 24;
  }
  return bits;
}

/** Whether `nonce` solves `challenge` at `difficulty` (the same computation the page's script does). */
export function solvesChallenge(challenge: string, nonce: string, difficulty: number): boolean {
  const digest = crypto.createHash('sha256').update(`${challenge}:${nonce}`).digest();
  return leadingZeroBits(digest) >= difficulty;
}

/** Reads the key file, or creates it with a fresh random key (0600, written whole or not at all). */
export function loadOrCreateSigningKey(file: string): Buffer {
  try {
    const text = fs.readFileSync(file, 'utf8').trim();
    const key = Buffer.from(text, 'base64url');
    if (key.length < 16) {
      throw new VigilError('E_CONFIG', `captcha signing key file ${file}: holds fewer than 16 bytes; delete it to have a new key generated`);
    }
    return key;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
      if (e instanceof VigilError) throw e;
      throw new VigilError('E_CONFIG', `captcha signing key file ${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  }
  const key = crypto.randomBytes(32);
  const tmp = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    fs.writeFileSync(tmp, `${b64url(key)}\n`, { mode: 0o600, flag: 'wx' });
    // link() refuses to replace: of two processes starting together, one key wins and both use it.
    try {
      fs.linkSync(tmp, file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  } catch (e) {
    throw new VigilError(
      'E_CONFIG',
      `captcha signing key file ${file}: cannot create it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); make its directory writable or set captcha.signing_key_file elsewhere`,
    );
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  // Another process may have won the race: whatever is on disk now is the key.
  return Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'base64url');
}

export interface IssuedChallenge {
  /** Opaque, signed; the page hashes `challenge:nonce`. */
  challenge: string;
  difficulty: number;
}

export class CaptchaService {
  readonly provider: CaptchaProvider;
  readonly difficulty: number;
  readonly lifetimeMs: number;
  readonly challengeTtlMs: number;
  readonly cookieName: string;
  readonly siteKey: string;
  readonly #secretKey: string;
  readonly #verifyUrl: string;
  readonly #verifyTimeoutMs: number;
  readonly #key: Buffer;
  readonly #clock: Clock;

  constructor(options: CaptchaOptions, clock: Clock) {
    this.provider = options.provider ?? 'pow';
    if (!CAPTCHA_PROVIDERS.includes(this.provider)) {
      throw new VigilError('E_CONFIG', `captcha.provider "${this.provider}": use one of ${CAPTCHA_PROVIDERS.join(', ')}`);
    }
    this.difficulty = options.difficulty ?? DEFAULT_DIFFICULTY;
    if (!Number.isInteger(this.difficulty) || this.difficulty < MIN_DIFFICULTY || this.difficulty > MAX_DIFFICULTY) {
      throw new VigilError(
        'E_CONFIG',
        `captcha.difficulty ${this.difficulty}: use a whole number of bits from ${MIN_DIFFICULTY} to ${MAX_DIFFICULTY} (18 takes a browser about a second)`,
      );
    }
    this.lifetimeMs = options.lifetimeMs ?? DEFAULT_CAPTCHA_LIFETIME_MS;
    this.challengeTtlMs = options.challengeTtlMs ?? 600_000;
    this.cookieName = options.cookieName ?? 'vigil_captcha';
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(this.cookieName)) {
      throw new VigilError('E_CONFIG', `captcha.cookie_name "${this.cookieName}": use letters, digits, _ or - (at most 64)`);
    }
    this.siteKey = options.siteKey ?? '';
    this.#secretKey = options.secretKey ?? '';
    if (this.provider !== 'pow' && (this.siteKey === '' || this.#secretKey === '')) {
      throw new VigilError(
        'E_CONFIG',
        `captcha.provider ${this.provider} needs captcha.site_key and captcha.secret_key from the provider's dashboard (or use provider pow, which needs none)`,
      );
    }
    this.#verifyUrl = options.verifyUrl ?? (this.provider === 'pow' ? '' : SITEVERIFY_URLS[this.provider]);
    this.#verifyTimeoutMs = options.verifyTimeoutMs ?? 5000;
    if (options.signingKey !== undefined) {
      this.#key = Buffer.from(options.signingKey);
      if (this.#key.length < 16) throw new VigilError('E_CONFIG', 'captcha.signing_key: use at least 16 bytes (32 random bytes recommended)');
    } else if (options.signingKeyFile !== undefined) {
      this.#key = loadOrCreateSigningKey(options.signingKeyFile);
    } else {
      this.#key = crypto.randomBytes(32);
    }
    this.#clock = clock;
  }

  #mac(...parts: string[]): string {
    return b64url(crypto.createHmac('sha256', this.#key).update(parts.join('|')).digest().subarray(0, 18));
  }

  /** A fresh proof-of-work challenge for this client address (canonical text). */
  issueChallenge(ip: string): IssuedChallenge {
    const payload = `${Math.floor(this.#clock.now() / 1000)}.${this.difficulty}.${b64url(crypto.randomBytes(9))}`;
    return { challenge: `${payload}.${this.#mac('pow', ip, payload)}`, difficulty: this.difficulty };
  }

  /** Whether `nonce` answers a challenge we issued to this address, recently, at today's difficulty. */
  verifySolution(ip: string, challenge: string, nonce: string): boolean {
    if (challenge.length > 200 || !/^\d{1,20}$/.test(nonce)) return false;
    const parts = challenge.split('.');
    if (parts.length !== 4) return false;
    const [issued, difficulty, , mac] = parts;
    const payload = parts.slice(0, 3).join('.');
    if (!safeEqual(mac, this.#mac('pow', ip, payload))) return false;
    const age = this.#clock.now() - Number(issued) * 1000;
    if (!(age >= -60_000 && age <= this.challengeTtlMs)) return false;
    const bits = Number(difficulty);
    if (!(bits >= this.difficulty)) return false;
    return solvesChallenge(challenge, nonce, bits);
  }

  /** Checks a provider widget's token with its siteverify API. False on any failure (no pass). */
  async verifyProviderToken(ip: string, token: string): Promise<boolean> {
    if (this.provider === 'pow' || token.length === 0 || token.length > 4096) return false;
    try {
      const res = await fetch(this.#verifyUrl, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ secret: this.#secretKey, response: token, remoteip: ip }).toString(),
        signal: AbortSignal.timeout(this.#verifyTimeoutMs),
      });
      if (res.status !== 200) return false;
      const body = (await res.json()) as { success?: unknown };
      return body.success === true;
    } catch {
      return false;
    }
  }

  /** The Set-Cookie value of a pass for this address. */
  passCookie(ip: string, secure: boolean): string {
    const expires = Math.floor((this.#clock.now() + this.lifetimeMs) / 1000);
    const value = `${expires}.${this.#mac('pass', ip, String(expires))}`;
    const maxAge = Math.floor(this.lifetimeMs / 1000);
    return `${this.cookieName}=${value}; Max-Age=${maxAge}; Path=/; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
  }

  /** Whether the request's Cookie header holds a live pass for this address. */
  hasPass(ip: string, cookieHeader: string | undefined): boolean {
    if (cookieHeader === undefined) return false;
    const value = cookieValue(cookieHeader, this.cookieName);
    if (value === null) return false;
    const dot = value.indexOf('.');
    if (dot <= 0) return false;
    const expires = value.slice(0, dot);
    if (!/^\d{1,12}$/.test(expires) || Number(expires) * 1000 <= this.#clock.now()) return false;
    return safeEqual(value.slice(dot + 1), this.#mac('pass', ip, expires));
  }
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

/** One cookie's value from a Cookie header, or null. */
export function cookieValue(header: string, name: string): string | null {
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}
