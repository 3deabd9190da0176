import { META_KEYS } from './meta-keys.ts';
import type { Store } from './store.ts';
import type { RunbookSettings } from '../core/health/runbook-settings.ts';
import type { ServiceManager } from '../core/health/runbooks/index.ts';
import { getMeta, setMeta } from './meta.ts';

/** The runbook settings row of the store (META_KEYS.runbookSettings). */

const META_KEY = META_KEYS.runbookSettings;

export async function readRunbookSettings(store: Store): Promise<RunbookSettings | undefined> {
  const text = await getMeta(store, META_KEY);
  if (!text) return undefined;
  try {
    const s = JSON.parse(text) as RunbookSettings;
    return s.cli === 'cscli' || s.cli === 'vigil' ? s : undefined;
  } catch {
    return undefined;
  }
}

export async function writeRunbookSettings(store: Store, settings: RunbookSettings): Promise<void> {
  await setMeta(store, META_KEY, JSON.stringify(settings));
}

/**
 * `vigil serve` records where it actually listens and the host's service manager, so runbooks
 * rendered elsewhere (`vigil issues show` in another shell, with another config) name that URL.
 */
export async function recordServeRunbookSettings(store: Store, facts: { lapiUrl: string; serviceManager: ServiceManager }): Promise<void> {
  await writeRunbookSettings(store, { cli: 'vigil', lapiUrl: facts.lapiUrl, serviceManager: facts.serviceManager });
}
