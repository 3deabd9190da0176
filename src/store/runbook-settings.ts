import { META_KEYS } from './meta-keys.ts';
import type { Store } from './store.ts';
import type { RunbookSettings } from '../core/health/runbook-settings.ts';

/** The runbook settings row of the store (META_KEYS.runbookSettings). */

const META_KEY = META_KEYS.runbookSettings;

export async function readRunbookSettings(store: Store): Promise<RunbookSettings | undefined> {
  const text = await store.getMeta(META_KEY);
  if (!text) return undefined;
  try {
    const s = JSON.parse(text) as RunbookSettings;
    return s.cli === 'cscli' || s.cli === 'vigil' ? s : undefined;
  } catch {
    return undefined;
  }
}

export async function writeRunbookSettings(store: Store, settings: RunbookSettings): Promise<void> {
  await store.setMeta(META_KEY, JSON.stringify(settings));
}
