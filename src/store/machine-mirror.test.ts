import { beforeEach, describe, expect, it } from 'vitest';
import { describeOnEachDialect } from '../../test/support/store-suites.ts';
import { machineBuilder } from '../../test/support/health-inputs.ts';
import type { MachineHealthInput } from '../core/health/types.ts';
import { listMachines } from './machines.ts';
import { mergeHeartbeats, syncMachineMirror } from './machine-mirror.ts';
import type { Store } from './store.ts';

const T0 = Date.UTC(2026, 11, 7, 16, 0, 0);

const agent = machineBuilder(
  { id: 7, machineId: 'myhost', ipAddress: '127.0.0.1', version: 'v1.4.6-6~deb12u1+b1-linux-debian' },
  { createdAt: T0 - 3600_000, lastLoginAt: T0 - 600_000, lastHeartbeatAt: T0, lastPushAt: null },
);

describe('heartbeat times from two sources', () => {
  it('one beat seen in the database (to the µs) and the log (to the second) counts once', () => {
    expect(mergeHeartbeats([T0 + 650, T0 + 60_999], [T0, T0 + 60_000, T0 + 120_000])).toEqual([T0 + 650, T0 + 60_999, T0 + 120_000]);
  });
});

describeOnEachDialect("CrowdSec's machines mirrored into watch's store", (current) => {
  let store: Store;
  beforeEach(() => {
    store = current();
  });

  it('learns the heartbeat cadence from last_heartbeat read poll after poll, keeps it in the store, and deletes machines CrowdSec dropped', async () => {
    let out: MachineHealthInput[] = [];
    // The agent beats every 60 s; watch reads every 10 s and sees each beat once or more.
    for (let t = 0; t <= 6 * 60_000; t += 10_000) {
      const beat = T0 + Math.floor(t / 60_000) * 60_000 + 370;
      out = await syncMachineMirror(store, [agent({ lastHeartbeatAt: beat })], new Map(), T0 + t);
    }
    expect(out[0]!.heartbeatCadenceMs).toBe(60_000);
    const [row] = await listMachines(store);
    expect(row).toMatchObject({ machineId: 'myhost', heartbeatCadenceMs: 60_000, lastHeartbeatAt: T0 + 360_370, passwordHash: '', ipAddress: '127.0.0.1' });
    // A restarted watch reads one more beat: the cadence is still known.
    out = await syncMachineMirror(store, [agent({ lastHeartbeatAt: T0 + 420_370 })], new Map(), T0 + 421_000);
    expect(out[0]!.heartbeatCadenceMs).toBe(60_000);
    await syncMachineMirror(store, [], new Map(), T0 + 422_000);
    expect(await listMachines(store)).toEqual([]);
  });

  it('takes the access log heartbeats at once: the cadence is known at the first poll', async () => {
    const log = Array.from({ length: 8 }, (_, i) => T0 - 420_000 + i * 60_000);
    const out = await syncMachineMirror(store, [agent()], new Map([['myhost', log]]), T0 + 1000);
    expect(out[0]!.heartbeatCadenceMs).toBe(60_000);
  });
});
