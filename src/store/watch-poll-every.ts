import { META_KEYS } from './meta-keys.ts';
import type { Store } from './store.ts';
import { getMeta, setMeta } from './meta.ts';

/**
 * `vigil watch` records its poll_every in its store: a status read from that store (`vigil bouncers
 * list --db <watch store>`) then allows for a last pull up to one poll old (HealthRules.observedEveryMs).
 */
export async function writeWatchPollEvery(store: Store, ms: number): Promise<void> {
  await setMeta(store, META_KEYS.watchPollEveryMs, String(ms));
}

/** The poll interval of the watch that owns this store; 0 for a `vigil serve` store (each pull is recorded as it comes). */
export async function readWatchPollEvery(store: Store): Promise<number> {
  const v = Number(await getMeta(store, META_KEYS.watchPollEveryMs));
  return Number.isFinite(v) && v > 0 ? v : 0;
}
