/**
 * What the Console's newest issues read from the store (core/health/console-issues.ts): the alert
 * volume of the last hours, and the active decisions that may be on known-safe addresses. Both
 * bounded, as they run at every health evaluation.
 */
import type { AlertVolumeInput } from '../core/health/too-many-alerts.ts';
import type { KnownSafeInput } from '../core/health/known-safe-ip.ts';
import { alertIdBounds } from './alerts.ts';
import { dbOf } from './store-db.ts';
import type { Store } from './store.ts';

/**
 * The first alert id received after `since`. Alerts are stored in arrival order (`created_at` is
 * the receipt time), so ids follow times: a binary search over the primary key, ~20 lookups
 * however many alerts there are, where a count on `created_at` would scan them all (no index).
 */
async function firstAlertIdAfter(store: Store, since: number): Promise<number | undefined> {
  const bounds = await alertIdBounds(store);
  if (!bounds) return undefined;
  let lo = bounds.min;
  let hi = bounds.max + 1;
  for (let i = 0; i < 64 && lo < hi; i++) {
    const mid = Math.floor((lo + hi) / 2);
    const row = await dbOf(store).selectFrom('alerts').select(['id', 'created_at']).where('id', '>=', mid).orderBy('id').limit(1).executeTakeFirst();
    if (!row) hi = mid;
    else if (Number(row.created_at) > since) hi = mid;
    else lo = Number(row.id) + 1;
  }
  return lo > bounds.max ? undefined : lo;
}

/** Alerts the top senders are counted over in a flood: the latest ones, so a flood costs a bounded read. */
export const FLOOD_SAMPLE = 100_000;

/**
 * Alerts received in the last `windowMs`, as Too Many Alerts needs them: up to `detailAbove`, the id
 * span (an upper bound: ids are dense but for deleted alerts), reading no row; past it, a count that
 * stops at `detailAbove + 1`, and the top scenarios and agents among the latest FLOOD_SAMPLE alerts.
 */
export async function alertVolume(store: Store, now: number, windowMs: number, detailAbove: number): Promise<AlertVolumeInput> {
  const first = await firstAlertIdAfter(store, now - windowMs);
  const none = { windowMs, count: 0, topMachines: [], topScenarios: [] };
  if (first === undefined) return none;
  const last = (await alertIdBounds(store))?.max ?? first - 1;
  if (last - first + 1 <= detailAbove) return { ...none, count: Math.max(0, last - first + 1) };
  const db = dbOf(store);
  const c = await db
    .selectFrom((eb) =>
      eb
        .selectFrom('alerts')
        .select('id')
        .where('id', '>=', first)
        .limit(detailAbove + 1)
        .as('w'),
    )
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .executeTakeFirst();
  const count = Number(c?.n ?? 0);
  if (count <= detailAbove) return { ...none, count };
  const from = Math.max(first, last - FLOOD_SAMPLE + 1);
  const top = async (column: 'scenario' | 'machine_id') =>
    (
      await db
        .selectFrom('alerts')
        .select((eb) => [eb.ref(column).as('key'), eb.fn.countAll<number | string>().as('n')])
        .where('id', '>=', from)
        .groupBy(column)
        .orderBy('n', 'desc')
        .limit(5)
        .execute()
    ).map((r) => ({ key: String(r.key ?? ''), count: Number(r.n) }));
  return {
    windowMs,
    count,
    topScenarios: (await top('scenario')).map((r) => ({ scenario: r.key, count: r.count })),
    topMachines: (await top('machine_id')).map((r) => ({ machineId: r.key, count: r.count })),
  };
}

/** Text prefixes of the private and documentation ranges (core/health/known-safe-ip.ts checks each exactly). */
const SAFE_PREFIXES = [
  '10.',
  '127.',
  '169.254.',
  '172.',
  '192.168.',
  '100.',
  '192.0.2.',
  '198.51.100.',
  '203.0.113.',
  'fc',
  'fd',
  'fe8',
  'fe9',
  'fea',
  'feb',
  '::1',
  '2001:db8:',
];
const CANARY_SCENARIO = 'vigil-canary ';

export type KnownSafeCandidate = KnownSafeInput['decisions'][number] & { readonly until: number };

/** Whether a decision's text may be a known-safe address (a cheap filter; the evaluator decides exactly). */
export function mayBeKnownSafe(d: { value: string; scenario: string }, addresses: readonly string[] = []): boolean {
  const v = d.value.toLowerCase();
  return SAFE_PREFIXES.some((p) => v.startsWith(p)) || d.scenario.startsWith(CANARY_SCENARIO) || addresses.includes(d.value);
}

/** Active Ip and Range decisions whose text may be a known-safe address, on one of `addresses` (canaries'), and canary test decisions; the first `limit` by id. */
export async function knownSafeCandidates(store: Store, now: number, addresses: readonly string[] = [], limit?: number): Promise<KnownSafeCandidate[]> {
  let q = dbOf(store)
    .selectFrom('decisions')
    .select(['id', 'scope', 'value', 'type', 'origin', 'scenario', 'created_at', 'until'])
    .where('until', '>', now)
    .where((eb) =>
      eb.or([
        ...SAFE_PREFIXES.map((p) => eb('value', 'like', `${p}%`)),
        eb('scenario', 'like', `${CANARY_SCENARIO}%`),
        ...(addresses.length > 0 ? [eb('value', 'in', [...addresses])] : []),
      ]),
    )
    .orderBy('id');
  if (limit !== undefined) q = q.limit(limit);
  const rows = await q.execute();
  return rows.map((r) => ({
    id: Number(r.id),
    scope: r.scope,
    value: r.value,
    type: r.type,
    origin: r.origin,
    scenario: r.scenario,
    createdAt: Number(r.created_at),
    until: Number(r.until),
  }));
}
