import type { Store } from '../store/store.ts';
import type { Bouncer } from '../store/types.ts';
import type { Clock } from '../clock.ts';
import { hashApiKey, hashesEqual } from '../bouncers/api-key.ts';

export type AuthResult =
  | { ok: true; bouncer: Bouncer }
  | { ok: false; reason: 'missing' | 'unknown' | 'revoked'; keyHash: string; bouncer?: Bouncer };

/**
 * API-key authentication as CrowdSec does it (SHA-512 of `X-Api-Key`, looked up in the store),
 * with a short cache so a hot path does not query per request. The cache lives `ttlMs`: a bouncer
 * deleted or revoked by the CLI or another replica is refused within that time.
 */
export class BouncerAuth {
  #store: Store;
  #clock: Clock;
  #ttlMs: number;
  #cache = new Map<string, { bouncer: Bouncer | undefined; at: number }>();

  constructor(store: Store, clock: Clock, ttlMs = 1000) {
    this.#store = store;
    this.#clock = clock;
    this.#ttlMs = ttlMs;
  }

  async authenticate(key: string | undefined): Promise<AuthResult> {
    if (key === undefined || key === '') return { ok: false, reason: 'missing', keyHash: '' };
    const keyHash = hashApiKey(key);
    const now = this.#clock.now();
    let entry = this.#cache.get(keyHash);
    if (!entry || now - entry.at > this.#ttlMs || now < entry.at) {
      const bouncer = await this.#store.findBouncerByKeyHash(keyHash);
      // Bounded: random keys from a scanner must not grow memory.
      if (this.#cache.size > 50_000) this.#cache.clear();
      entry = { bouncer, at: now };
      this.#cache.set(keyHash, entry);
    }
    const b = entry.bouncer;
    if (!b || !hashesEqual(b.apiKeyHash, keyHash)) return { ok: false, reason: 'unknown', keyHash };
    if (b.revoked) return { ok: false, reason: 'revoked', keyHash, bouncer: b };
    return { ok: true, bouncer: b };
  }

  /** Drop cached answers (after this process changes bouncers). */
  invalidate(): void {
    this.#cache.clear();
  }
}
