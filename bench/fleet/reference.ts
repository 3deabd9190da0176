/**
 * The same simulation through the real thing: the HealthEngine (src/health/engine.ts) over a real
 * store, reading the fleet as its snapshot source, and the real Planner (src/notify/planner.ts)
 * queuing into the store's outbox; every bouncer judged every tick. Too slow for 30 days of 1,000
 * bouncers (each tick is a few store transactions); fleet.test.ts compares it with `simulate` on a
 * small fleet.
 */
import { HealthEngine } from '../../src/health/engine.ts';
import { DEFAULT_EVALUATE_EVERY_MS, DEFAULT_RULES } from '../../src/core/health/evaluate.ts';
import type { LikelyCause } from '../../src/core/health/types.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import { Planner } from '../../src/notify/planner.ts';
import { NotifyStore } from '../../src/store/notify-store.ts';
import { Store } from '../../src/store/store.ts';
import { CHANNELS, type Told } from './bookkeeping.ts';
import { Fleet } from './fleet.ts';
import { notePage, type SimOptions } from './simulate.ts';
import { snapshotOf } from './snapshot.ts';

export async function simulateWithStore(opts: SimOptions, storeUrl: string): Promise<{ fleet: Fleet; told: Told[] }> {
  const rules = opts.rules ?? DEFAULT_RULES;
  const everyMs = opts.everyMs ?? DEFAULT_EVALUATE_EVERY_MS;
  const fleet = new Fleet(opts);
  const byName = new Map(fleet.bouncers.map((b) => [b.name, b]));
  const clock = new ManualClock(fleet.start);
  const store = await Store.open(storeUrl);
  const told: Told[] = [];
  try {
    const engine = new HealthEngine(store, clock, rules, { snapshot: async (now) => snapshotOf(fleet, fleet.bouncers, now, rules) });
    const notifyStore = new NotifyStore(store);
    const planner = new Planner({ store: notifyStore, channels: CHANNELS, clock, lapiUrl: () => 'http://127.0.0.1:8080/' });
    let seen = 0;
    for (let now = fleet.start + everyMs; now <= fleet.end; now += everyMs) {
      fleet.advanceTo(now);
      if (fleet.noise.vigilDown.contains(now)) continue;
      clock.set(now);
      await engine.evaluateNow();
      if ((await planner.run()) === 0) continue;
      for (const m of await notifyStore.outbox({ limit: 1_000_000 })) {
        if (m.id <= seen) continue;
        seen = m.id;
        const event = m.content.event;
        if (event === 'test' || event === 'acknowledged') continue; // acknowledgements go only to channels that announce them
        for (const i of m.content.issues) {
          const t: Told = {
            at: m.content.createdAt,
            channel: m.channel,
            event,
            subject: i.subject,
            kind: i.kind,
            criticality: i.criticality,
            cause: (i.causes[0] as LikelyCause | undefined)?.cause ?? null,
          };
          told.push(t);
          notePage(fleet, byName, t);
        }
      }
    }
  } finally {
    await store.close();
  }
  return { fleet, told };
}
