import crypto from 'node:crypto';
import type { Store } from '../store/store.ts';
import type { Bouncer } from '../core/model/records.ts';
import type { Clock } from '../lib/clock.ts';
import { hashApiKey } from '../core/bouncers/api-key.ts';
import { chooseKeyRow, DEFAULT_MAX_INSTANCES_PER_KEY, keyRevoked, TOO_MANY_INSTANCES } from '../core/bouncers/key-sharing.ts';
import { isStoreDown, type StoreHealth } from './store-health.ts';
import { bouncersByKeyHash, bouncersRev, claimBouncerAddress, createAutoBouncer, getBouncer } from '../store/bouncers.ts';

/** Why a request was refused: its key, or (`tls:…`) its client certificate (src/server/client-cert.ts). */
export type RefusalReason = 'missing' | 'unknown' | 'revoked' | typeof TOO_MANY_INSTANCES | `tls:${string}`;

export type AuthResult = { ok: true; bouncer: Bouncer } | { ok: false; reason: RefusalReason; keyHash: string; bouncer?: Bouncer };

interface CacheEntry {
  /** Every row of the key, oldest first (a shared key has one per address). */
  rows: Bouncer[];
  /** The rows by address: the hot path finds a steady bouncer's row in one lookup. */
  byIp: Map<string, Bouncer>;
  /** Its API-key rows: at `maxInstancesPerKey`, a new address is refused from here without a query. */
  keyRows: number;
  /** The stored SHA-512 as bytes, decoded once, for the constant-time comparison. */
  storedDigest: Buffer | undefined;
  at: number;
}

interface TlsEntry {
  bouncer: Bouncer | undefined;
  at: number;
}

/** While the store is down, a key it confirmed within this long is still answered from memory. */
export const STALE_KEY_MAX_MS = 15 * 60_000;

/** How often the bouncers revision is read (`start`). */
export const REVISION_CHECK_EVERY_MS = 500;

const MISSING: AuthResult = { ok: false, reason: 'missing', keyHash: '' };
const CACHE_MAX = 50_000;

/**
 * API-key authentication as CrowdSec does it (SHA-512 of `X-Api-Key`, looked up in the store),
 * with key sharing (1.6.4+): a key used from a new address gets a row of its own, `NAME@IP`, so
 * each instance keeps its own last pull and stream cursor (docs/reference/crowdsec-1.6-1.7.md §1).
 * A cache, by key and address, answers a steady bouncer without a query. An answer is trusted for
 * `ttlMs` after it was read, and beyond that for as long as the store's bouncers revision (moved by
 * triggers on every change that matters, migration 012) holds: `start` reads that one counter every
 * REVISION_CHECK_EVERY_MS and drops the cache when it moved. So a bouncer deleted or revoked by the
 * CLI or another replica is refused within about a second, and 10k bouncers pulling every 10 s cost
 * two tiny queries a second instead of 1,000 key lookups.
 */
export class BouncerAuth {
  #store: Store;
  #clock: Clock;
  #ttlMs: number;
  #cache = new Map<string, CacheEntry>();
  #tls = new Map<string, TlsEntry>();
  /** One resolution at a time per key (or certificate name): two first requests create one row. */
  #locks = new Map<string, Promise<void>>();
  #storeHealth: StoreHealth | undefined;
  /** The bouncers revision as last read, and when (by the Clock): cached answers hold while it does. */
  #confirmed: { rev: number; at: number } | undefined;
  #revisionTimer: NodeJS.Timeout | undefined;
  #confirming: Promise<void> | undefined;
  /** Told of each row this process created (CrowdSec logs `Creating bouncer <name>`). */
  onCreated: (b: Bouncer) => void = () => {};
  /** Told of each new address refused past `maxInstancesPerKey`: the key's first row, the address, its rows. */
  onTooManyInstances: (first: Bouncer, peer: string, rows: number) => void = () => {};
  /** Rows (addresses) one API key may have; a new address past it is refused (`limits.max_instances_per_key`). */
  maxInstancesPerKey = DEFAULT_MAX_INSTANCES_PER_KEY;

  /** With `storeHealth`, a lookup is bounded by its deadline and a known key outlives a store outage. */
  constructor(store: Store, clock: Clock, ttlMs = 1000, storeHealth?: StoreHealth) {
    this.#store = store;
    this.#clock = clock;
    this.#ttlMs = ttlMs;
    this.#storeHealth = storeHealth;
  }

  /**
   * The answer when the cache alone can give it (a missing key, or a key seen from this address
   * within `ttlMs`), else undefined: the caller then awaits `authenticate`. Synchronous, so the hot
   * path answers a known bouncer without a promise.
   */
  cached(key: string | undefined, peer: string, method: string): AuthResult | undefined {
    if (key === undefined || key === '') return MISSING;
    const digest = crypto.hash('sha512', key, 'buffer');
    const keyHash = digest.toString('hex');
    const entry = this.#cache.get(keyHash);
    if (entry === undefined || !this.#fresh(entry.at)) return undefined;
    if (!sameDigest(entry, digest)) return { ok: false, reason: 'unknown', keyHash };
    const row = entry.byIp.get(peer);
    if (row !== undefined && row.authType === 'api-key') return judge(entry.rows, row, keyHash);
    if (method === 'HEAD') {
      const choice = chooseKeyRow(entry.rows, peer, method);
      return 'use' in choice ? judge(entry.rows, choice.use, keyHash) : { ok: false, reason: 'unknown', keyHash };
    }
    // A key at its cap: every further new address is refused from memory (a leaked key tried from
    // thousands of addresses costs no query, no row, and no cache drop for everyone else).
    if (entry.keyRows >= this.maxInstancesPerKey) return this.#tooMany(entry.rows, peer, keyHash, entry.keyRows);
    // A new address (a row to claim or create) is the store's business.
    return undefined;
  }

  async authenticate(key: string | undefined, peer: string, method: string): Promise<AuthResult> {
    const hit = this.cached(key, peer, method);
    if (hit !== undefined) return hit;
    const keyHash = hashApiKey(key!);
    return this.#serialized(keyHash, async () => this.cached(key, peer, method) ?? (await this.#resolve(keyHash, peer, method)));
  }

  /**
   * The row of a verified client certificate, `CN@IP` (cs `APIKey.authTLS`, docs/reference/crowdsec-1.6-1.7.md §2):
   * created on first use with auth type `tls` and a random key nobody knows; a row of that name
   * that authenticates by key is refused.
   */
  cachedTls(name: string): AuthResult | undefined {
    const entry = this.#tls.get(name);
    if (entry === undefined || entry.bouncer === undefined || !this.#fresh(entry.at)) return undefined;
    return judgeTls(entry.bouncer);
  }

  async authenticateTls(name: string, peer: string): Promise<AuthResult> {
    const hit = this.cachedTls(name);
    if (hit !== undefined) return hit;
    return this.#serialized(`tls\0${name}`, async () => {
      const again = this.cachedTls(name);
      if (again !== undefined) return again;
      let bouncer = await this.#call(() => getBouncer(this.#store, name));
      if (bouncer === undefined) {
        // Random bytes hashed: a valid-looking hash no key can produce, so the row never answers X-Api-Key.
        const apiKeyHash = hashApiKey(crypto.randomBytes(32).toString('hex'));
        const made = await this.#call(() => createAutoBouncer(this.#store, { name, apiKeyHash, ip: peer, now: this.#clock.now(), authType: 'tls' }));
        if (made.created) this.onCreated(made.bouncer);
        bouncer = made.bouncer;
      }
      this.#bound(this.#tls);
      this.#tls.set(name, { bouncer, at: this.#clock.now() });
      return judgeTls(bouncer);
    });
  }

  /** Reads the bouncers revision every `everyMs` (see the class comment); `stop` ends it. */
  start(everyMs = REVISION_CHECK_EVERY_MS): void {
    this.stop();
    void this.confirmRevision();
    this.#revisionTimer = setInterval(() => void this.confirmRevision(), everyMs);
    this.#revisionTimer.unref();
  }

  stop(): void {
    if (this.#revisionTimer) clearInterval(this.#revisionTimer);
    this.#revisionTimer = undefined;
  }

  /**
   * Reads the bouncers revision; a moved one drops every cached answer. The first reading drops
   * them too: nothing says what changed before it. A failed read changes nothing, and the
   * revision's trust runs out `ttlMs` after the last good one (the store's health logs the failure).
   */
  confirmRevision(): Promise<void> {
    this.#confirming ??= (async () => {
      try {
        const at = this.#clock.now();
        const rev = await this.#call(() => bouncersRev(this.#store));
        if (this.#confirmed?.rev !== rev) this.invalidate();
        this.#confirmed = { rev, at };
      } catch {
        // Left to the revision's expiry; pulls then ask the store, and its errors are answered there.
      }
    })().finally(() => {
      this.#confirming = undefined;
    });
    return this.#confirming;
  }

  /** Drop cached answers (after this process changes bouncers). */
  invalidate(): void {
    this.#cache.clear();
    this.#tls.clear();
  }

  async #resolve(keyHash: string, peer: string, method: string): Promise<AuthResult> {
    let rows: Bouncer[];
    try {
      rows = await this.#call(() => bouncersByKeyHash(this.#store, keyHash));
    } catch (e) {
      // The store is down or slow: a key and address it confirmed recently keep working (bounded
      // staleness); anything else gets E_STORE_DOWN (503), never a 403 that would tell a bouncer
      // its key is wrong. No row is claimed or created meanwhile.
      const stale = this.#cache.get(keyHash);
      const age = this.#clock.now() - (stale?.at ?? -Infinity);
      if (isStoreDown(e) && stale && age >= 0 && age <= STALE_KEY_MAX_MS) {
        const choice = chooseKeyRow(stale.rows, peer, 'HEAD');
        const row = method === 'HEAD' ? ('use' in choice ? choice.use : undefined) : stale.byIp.get(peer);
        if (row) return judge(stale.rows, row, keyHash);
      }
      throw e;
    }
    // A claim lost to another request or replica: read again and choose again (at most twice).
    for (let attempt = 0; ; attempt++) {
      this.#remember(keyHash, rows);
      const choice = chooseKeyRow(rows, peer, method);
      if ('none' in choice) return { ok: false, reason: 'unknown', keyHash };
      if ('use' in choice) return judge(rows, choice.use, keyHash);
      // A revoked key gets no new row: it is refused from every address.
      if (keyRevoked(rows, rows[0]!)) return { ok: false, reason: 'revoked', keyHash, bouncer: rows[0]! };
      const keyRows = this.#cache.get(keyHash)?.keyRows ?? 0;
      if ('create' in choice && keyRows >= this.maxInstancesPerKey) return this.#tooMany(rows, peer, keyHash, keyRows);
      const now = this.#clock.now();
      if ('claim' in choice) {
        // Lost or won, the rows say who has it now; a row deleted and re-added meanwhile ends the loop.
        if (attempt >= 3) return { ok: false, reason: 'unknown', keyHash };
        await this.#call(() => claimBouncerAddress(this.#store, choice.claim.id, peer, now));
        rows = await this.#call(() => bouncersByKeyHash(this.#store, keyHash));
        continue;
      }
      const made = await this.#call(() => createAutoBouncer(this.#store, { name: choice.create, apiKeyHash: keyHash, ip: peer, now, authType: 'api-key' }));
      if (made.created) this.onCreated(made.bouncer);
      rows = await this.#call(() => bouncersByKeyHash(this.#store, keyHash));
      this.#remember(keyHash, rows);
      // The row of that name is another key's, or a certificate's: CrowdSec fails the same way.
      if (made.bouncer.apiKeyHash !== keyHash || made.bouncer.authType !== 'api-key') return { ok: false, reason: 'unknown', keyHash };
      return judge(rows, rows.find((b) => b.id === made.bouncer.id) ?? made.bouncer, keyHash);
    }
  }

  #tooMany(rows: readonly Bouncer[], peer: string, keyHash: string, keyRows: number): AuthResult {
    const first = rows.find((b) => !b.autoCreated) ?? rows[0]!;
    if (keyRevoked(rows, first)) return { ok: false, reason: 'revoked', keyHash, bouncer: first };
    this.onTooManyInstances(first, peer, keyRows);
    return { ok: false, reason: TOO_MANY_INSTANCES, keyHash, bouncer: first };
  }

  #remember(keyHash: string, rows: Bouncer[]): void {
    this.#bound(this.#cache);
    const byIp = new Map<string, Bouncer>();
    let keyRows = 0;
    for (const b of rows) {
      if (b.ipAddress !== '' && !byIp.has(b.ipAddress)) byIp.set(b.ipAddress, b);
      if (b.authType === 'api-key') keyRows++;
    }
    this.#cache.set(keyHash, {
      rows,
      byIp,
      keyRows,
      storedDigest: rows.length > 0 ? Buffer.from(rows[0]!.apiKeyHash, 'hex') : undefined,
      at: this.#clock.now(),
    });
  }

  /** Bounded: random keys from a scanner must not grow memory. */
  #bound(map: Map<string, unknown>): void {
    if (map.size > CACHE_MAX) map.clear();
  }

  #call<T>(fn: () => Promise<T>): Promise<T> {
    return this.#storeHealth ? this.#storeHealth.call(fn) : fn();
  }

  async #serialized<T>(lock: string, run: () => Promise<T>): Promise<T> {
    const before = this.#locks.get(lock);
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = (before ?? Promise.resolve()).then(() => mine);
    this.#locks.set(lock, tail);
    try {
      await before;
      return await run();
    } finally {
      release();
      if (this.#locks.get(lock) === tail) this.#locks.delete(lock);
    }
  }

  #fresh(at: number): boolean {
    const now = this.#clock.now();
    if (now < at) return false;
    if (now - at <= this.#ttlMs) return true;
    const c = this.#confirmed;
    return c !== undefined && now >= c.at && now - c.at <= this.#ttlMs;
  }
}

/** The map lookup found the entry by hash; the constant-time comparison is what decides. */
function sameDigest(entry: CacheEntry, digest: Buffer): boolean {
  const stored = entry.storedDigest;
  return stored !== undefined && stored.length === digest.length && crypto.timingSafeEqual(stored, digest);
}

function judge(rows: readonly Bouncer[], b: Bouncer, keyHash: string): AuthResult {
  if (keyRevoked(rows, b)) return { ok: false, reason: 'revoked', keyHash, bouncer: b };
  return { ok: true, bouncer: b };
}

function judgeTls(b: Bouncer): AuthResult {
  // cs: "bouncer isn't allowed to auth by TLS"; the refusal names it so health can explain it.
  if (b.authType !== 'tls') return { ok: false, reason: 'tls:api-key-bouncer', keyHash: '', bouncer: b };
  if (b.revoked) return { ok: false, reason: 'revoked', keyHash: '', bouncer: b };
  return { ok: true, bouncer: b };
}
