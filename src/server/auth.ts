import crypto from 'node:crypto';
import type { Store } from '../store/store.ts';
import type { Bouncer } from '../core/model/records.ts';
import type { Clock } from '../lib/clock.ts';
import { hashApiKey } from '../core/bouncers/api-key.ts';
import { isStoreDown, type StoreHealth } from './store-health.ts';

export type AuthResult = { ok: true; bouncer: Bouncer } | { ok: false; reason: 'missing' | 'unknown' | 'revoked'; keyHash: string; bouncer?: Bouncer };

interface CacheEntry {
  bouncer: Bouncer | undefined;
  /** The bouncer's stored SHA-512 as bytes, decoded once, for the constant-time comparison. */
  storedDigest: Buffer | undefined;
  at: number;
}

/** While the store is down, a key it confirmed within this long is still answered from memory. */
export const STALE_KEY_MAX_MS = 15 * 60_000;

const MISSING: AuthResult = { ok: false, reason: 'missing', keyHash: '' };

/**
 * API-key authentication as CrowdSec does it (SHA-512 of `X-Api-Key`, looked up in the store),
 * with a short cache so a hot path does not query per request. The cache lives `ttlMs`: a bouncer
 * deleted or revoked by the CLI or another replica is refused within that time.
 */
export class BouncerAuth {
  #store: Store;
  #clock: Clock;
  #ttlMs: number;
  #cache = new Map<string, CacheEntry>();
  #storeHealth: StoreHealth | undefined;

  /** With `storeHealth`, a lookup is bounded by its deadline and a known key outlives a store outage. */
  constructor(store: Store, clock: Clock, ttlMs = 1000, storeHealth?: StoreHealth) {
    this.#store = store;
    this.#clock = clock;
    this.#ttlMs = ttlMs;
    this.#storeHealth = storeHealth;
  }

  /**
   * The answer when the cache alone can give it (a missing key, or a key seen within `ttlMs`),
   * else undefined: the caller then awaits `authenticate`. Synchronous, so the hot path answers a
   * known bouncer without a promise.
   */
  cached(key: string | undefined): AuthResult | undefined {
    if (key === undefined || key === '') return MISSING;
    const digest = crypto.hash('sha512', key, 'buffer');
    const keyHash = digest.toString('hex');
    const entry = this.#cache.get(keyHash);
    if (entry === undefined || !this.#fresh(entry)) return undefined;
    return judge(entry, keyHash, digest);
  }

  async authenticate(key: string | undefined): Promise<AuthResult> {
    const hit = this.cached(key);
    if (hit !== undefined) return hit;
    const keyHash = hashApiKey(key!);
    let bouncer: Bouncer | undefined;
    try {
      const find = () => this.#store.findBouncerByKeyHash(keyHash);
      bouncer = await (this.#storeHealth ? this.#storeHealth.call(find) : find());
    } catch (e) {
      // The store is down or slow: a key it confirmed recently keeps working (bounded staleness);
      // an unknown one gets E_STORE_DOWN (503), never a 403 that would tell a bouncer its key is wrong.
      const stale = this.#cache.get(keyHash);
      const age = this.#clock.now() - (stale?.at ?? -Infinity);
      if (isStoreDown(e) && stale && age >= 0 && age <= STALE_KEY_MAX_MS) return judge(stale, keyHash, Buffer.from(keyHash, 'hex'));
      throw e;
    }
    // Bounded: random keys from a scanner must not grow memory.
    if (this.#cache.size > 50_000) this.#cache.clear();
    const entry: CacheEntry = { bouncer, storedDigest: bouncer ? Buffer.from(bouncer.apiKeyHash, 'hex') : undefined, at: this.#clock.now() };
    this.#cache.set(keyHash, entry);
    return judge(entry, keyHash, Buffer.from(keyHash, 'hex'));
  }

  /** Drop cached answers (after this process changes bouncers). */
  invalidate(): void {
    this.#cache.clear();
  }

  #fresh(entry: CacheEntry): boolean {
    const now = this.#clock.now();
    return now - entry.at <= this.#ttlMs && now >= entry.at;
  }
}

function judge(entry: CacheEntry, keyHash: string, digest: Buffer): AuthResult {
  const b = entry.bouncer;
  // The map lookup found the entry by hash; the constant-time comparison is what decides.
  const stored = entry.storedDigest;
  if (!b || !stored || stored.length !== digest.length || !crypto.timingSafeEqual(stored, digest)) return { ok: false, reason: 'unknown', keyHash };
  if (b.revoked) return { ok: false, reason: 'revoked', keyHash, bouncer: b };
  return { ok: true, bouncer: b };
}
