import { sign, verify } from 'hono/jwt';
import type { Context } from 'hono';
import type { Machine } from '../core/model/records.ts';
import type { Clock } from '../lib/clock.ts';
import { formatRfc3339 } from '../lib/duration.ts';
import { hashMachinePassword, verifyMachinePassword } from '../lib/password.ts';
import { getMachine } from '../store/machines.ts';
import type { Store } from '../store/store.ts';

/**
 * Machine authentication as CrowdSec's gin-jwt does it (docs/reference/crowdsec-1.6-1.7.md §8):
 * HS256 tokens with claims {id, exp, orig_iat}, valid one hour. The key comes from the store, so
 * a token issued by one replica is honoured by every other on the same PostgreSQL (CrowdSec needs
 * a shared CS_LAPI_SECRET for that). Times come from the Clock, not from the JWT library.
 */
export const TOKEN_TTL_MS = 3600_000;
/** gin-jwt's MaxRefresh: /v1/refresh_token accepts a token this long after it was first issued. */
export const MAX_REFRESH_MS = 3600_000;
export const JWT_REALM = 'JWT realm=Crowdsec API local';

export type TokenCheck = { ok: true; machineId: string; origIat: number } | { ok: false; reason: 'jwt:invalid' | 'jwt:expired'; message: string };

/** Tokens whose signature was verified, kept so an agent's next push skips the HMAC (bounded). */
const VERIFIED_KEPT = 10_000;

export class MachineTokens {
  #secret: string;
  #clock: Clock;
  /** Token → its verified payload: the signature check is the same every time; expiry is not, so it runs each time. */
  #verified = new Map<string, Record<string, unknown>>();

  constructor(secret: Buffer, clock: Clock) {
    // hono/jwt takes the HMAC key as a string; hex keeps all 256 bits.
    this.#secret = secret.toString('hex');
    this.#clock = clock;
  }

  async issue(machineId: string, origIatMs?: number): Promise<{ token: string; expire: string }> {
    const now = this.#clock.now();
    const exp = Math.floor((now + TOKEN_TTL_MS) / 1000);
    const token = await sign({ exp, id: machineId, orig_iat: Math.floor((origIatMs ?? now) / 1000) }, this.#secret, 'HS256');
    return { token, expire: formatRfc3339(exp * 1000) };
  }

  /** Checks a token; `allowExpiredWithinRefresh` for /v1/refresh_token (gin-jwt's MaxRefresh). */
  async check(token: string, allowExpiredWithinRefresh = false): Promise<TokenCheck> {
    if (token.split('.').length !== 3) return { ok: false, reason: 'jwt:invalid', message: 'token contains an invalid number of segments' };
    let payload = this.#verified.get(token);
    if (payload === undefined)
      try {
        // Only HS256: `none` and every other algorithm fail the header check (gin-jwt's message).
        payload = (await verify(token, this.#secret, { alg: 'HS256', exp: false, nbf: false, iat: false })) as Record<string, unknown>;
        if (this.#verified.size >= VERIFIED_KEPT) this.#verified.clear();
        this.#verified.set(token, payload);
      } catch (e) {
        const name = (e as Error).name;
        if (name === 'JwtAlgorithmMismatch' || name === 'JwtHeaderInvalid') return { ok: false, reason: 'jwt:invalid', message: 'invalid signing algorithm' };
        if (name === 'JwtTokenSignatureMismatched') return { ok: false, reason: 'jwt:invalid', message: 'signature is invalid' };
        return { ok: false, reason: 'jwt:invalid', message: 'token is malformed' };
      }
    const { id, exp, orig_iat: origIat } = payload;
    if (typeof id !== 'string' || id === '' || typeof exp !== 'number' || !Number.isFinite(exp)) {
      return { ok: false, reason: 'jwt:invalid', message: 'token is malformed' };
    }
    const now = this.#clock.now();
    const iatMs = typeof origIat === 'number' && Number.isFinite(origIat) ? origIat * 1000 : 0;
    if (exp * 1000 <= now) {
      if (!allowExpiredWithinRefresh || iatMs + MAX_REFRESH_MS <= now) return { ok: false, reason: 'jwt:expired', message: 'Token is expired' };
    }
    return { ok: true, machineId: id, origIat: iatMs };
  }
}

/** The token as gin-jwt looks for it: `Authorization: Bearer`, then `?token=`, then the `jwt` cookie. */
export function tokenOf(c: Context): string | undefined {
  const auth = c.req.header('authorization');
  if (auth) {
    const m = /^Bearer (.+)$/.exec(auth);
    if (m && m[1]!.trim() !== '') return m[1]!.trim();
  }
  const q = c.req.query('token');
  if (q) return q;
  const cookie = c.req.header('cookie');
  if (cookie) {
    for (const part of cookie.split(';')) {
      const [k, ...v] = part.trim().split('=');
      if (k === 'jwt' && v.join('=') !== '') return v.join('=');
    }
  }
  return undefined;
}

/**
 * Bounds the bcrypt work of logins: at most `concurrent` comparisons at once (each ~50–100 ms of
 * CPU at cost 10) and `waiting` queued; beyond that a login is turned away at once, so a flood of
 * logins costs a bounded share of the CPU and bouncers' pulls keep being answered.
 */
export class PasswordChecks {
  #running = 0;
  #queue: Array<() => void> = [];
  #concurrent: number;
  #waiting: number;
  #dummyHash: Promise<string> | undefined;

  constructor(opts: { concurrent?: number; waiting?: number } = {}) {
    this.#concurrent = opts.concurrent ?? 2;
    this.#waiting = opts.waiting ?? 64;
  }

  /** Runs bcrypt work under the cap; undefined when too much is already in progress or queued. */
  async bounded<T>(work: () => Promise<T>): Promise<T | undefined> {
    if (this.#running >= this.#concurrent) {
      if (this.#queue.length >= this.#waiting) return undefined;
      await new Promise<void>((resolve) => this.#queue.push(resolve));
    } else this.#running++;
    try {
      return await work();
    } finally {
      const next = this.#queue.shift();
      if (next) next();
      else this.#running--;
    }
  }

  /** undefined when too many logins are in progress; otherwise whether the password matches. */
  verify(password: string, machine: Machine | undefined): Promise<boolean | undefined> {
    return this.bounded(async () => {
      // An unknown machine costs the same comparison: the answer's time does not tell names apart.
      this.#dummyHash ??= hashMachinePassword('vigil-no-such-machine');
      const real = machine !== undefined && machine.passwordHash !== '';
      const ok = await verifyMachinePassword(password, real ? machine.passwordHash : await this.#dummyHash);
      return ok && real;
    });
  }
}

/** The machine a valid token names, if it still exists and is validated. */
export async function machineOfToken(store: Store, machineId: string): Promise<Machine | undefined> {
  const m = await getMachine(store, machineId);
  return m?.isValidated ? m : undefined;
}
