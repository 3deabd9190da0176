import { beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from './support/databases.ts';
import { startHttpReceiver } from './support/receivers.ts';
import { ManualClock } from '../src/lib/clock.ts';
import { hashApiKey } from '../src/core/bouncers/api-key.ts';
import { createSilence } from '../src/notify/silence-commands.ts';
import { createBouncer, setBouncerKind } from '../src/store/bouncers.ts';
import { bouncerPulls, evaluateAndNotify, useNotifyingServer } from './support/notify-cycle.ts';

/**
 * Maintenance windows end to end: `vigil serve` (real store, health engine, planner and outbox,
 * manual clock) with a vigil.yaml window "every night 02:00–02:30 Paris time for edge-*" and a
 * label silence, sending to a real HTTP receiver. During the window nothing goes out; afterwards
 * what is still wrong does, and what resolved meanwhile does not.
 */
// Sunday 01:05 Paris (00:05Z in December): 25 h later is Monday 02:05 Paris, inside the window.
const T0 = Date.parse('2026-12-06T00:05:00Z');
const M = 60_000;
const H = 60 * M;

for (const dialect of DIALECTS) {
  describe(`${dialect}: a maintenance window holds pages until it ends`, () => {
    const clock = new ManualClock(T0);
    const ids: Record<string, number> = {};
    const pull = bouncerPulls(() => server(), ids, clock);
    const cycle = () => evaluateAndNotify(server());
    const bouncersIn = (from: number) =>
      hook()
        .requests.slice(from)
        .map((q) => [q.json.event, q.json.issues.map((i: { bouncer: string }) => i.bouncer).sort()]);

    const { server, receiver: hook } = useNotifyingServer(dialect, clock, {
      start: () => startHttpReceiver(),
      stop: (r) => r.close(),
      notifications: (r) => ({
        maintenance: [{ name: 'nightly edge reboot', every: 'day', at: '02:00', lasting: '30m', timezone: 'Europe/Paris', bouncer: 'edge-*' }],
        channels: { hook: { type: 'webhook', url: r.url } },
      }),
    });

    beforeAll(async () => {
      for (const name of ['edge-1', 'edge-2', 'core', 'fw-1'])
        ids[name] = (await createBouncer(server().store, { name, apiKeyHash: hashApiKey(`${name}-key`), now: T0 })).id;
      await setBouncerKind(server().store, 'fw-1', 'firewall', T0);
      await pull('edge-1', 'edge-2', 'core', 'fw-1');
      // The firewall bouncers are being replaced this week: a silence by label, from the CLI's code path.
      await createSilence(server().store, { labels: ['bouncer_kind=firewall'], for: '7d', reason: 'firewall migration', createdBy: 'test', now: T0 });
    });

    it('opens issues inside the window and sends nothing', async () => {
      clock.advance(25 * H); // 02:05 Paris: edge-1, edge-2 and fw-1 silent for 25 h
      await pull('core');
      const r = await cycle();
      expect(r.opened.map((i) => i.bouncerName).sort()).toEqual(['edge-1', 'edge-2', 'fw-1']);
      expect(hook().requests).toEqual([]);
      clock.advance(5 * M); // edge-2 is back before the window ends
      await pull('core', 'edge-2');
      expect((await cycle()).resolved.map((i) => i.bouncerName)).toEqual(['edge-2']);
      clock.advance(19 * M); // 02:29 Paris: still inside
      await pull('core', 'edge-2');
      await cycle();
      expect(hook().requests).toEqual([]);
    });

    it('after the window, pages what is still wrong (edge-1), not what resolved meanwhile (edge-2), and keeps the label silence (fw-1)', async () => {
      clock.advance(M); // 02:30 Paris: the window has ended
      await pull('core', 'edge-2');
      await cycle();
      expect(bouncersIn(0)).toEqual([['opened', ['edge-1']]]);
      const at = hook().requests.length;
      // The next night, inside the window, edge-1 comes back: a sent open always gets its resolve.
      clock.set(Date.parse('2026-12-08T01:10:00Z'));
      await pull('core', 'edge-2', 'edge-1');
      await cycle();
      expect(bouncersIn(at)).toEqual([['resolved', ['edge-1']]]);
    });
  });
}
