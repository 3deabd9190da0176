import { beforeEach, expect, it } from 'vitest';
import { describeOnEachDialect } from '../../test/support/store-suites.ts';
import {
  HEARTBEATS_KEPT,
  createMachine,
  deleteMachines,
  getMachine,
  listMachines,
  machinesToPrune,
  recordHeartbeat,
  recordLogin,
  validateMachine,
} from './machines.ts';
import type { Store } from './store.ts';
import { addAlerts } from './decisions.ts';
import { newAlert } from '../../test/support/alert-builders.ts';
import { logProcessorUsage, recordLogProcessorUsage } from './usage-log-processors.ts';

const T0 = Date.UTC(2026, 10, 24, 4, 0, 0);
const HASH = '$2a$10$abcdefghijklmnopqrstuu6yDq7bH2uW1o9H1s5yq3Jm0aTnq5mWe';

describeOnEachDialect('machines', (current) => {
  let store: Store;
  beforeEach(() => {
    store = current();
  });

  it('creates a pending machine, refuses a second of the same name, validates it and lists both', async () => {
    const m = await createMachine(store, { machineId: 'agent-1', passwordHash: HASH, now: T0, ipAddress: '10.0.0.5' });
    expect(m).toMatchObject({
      machineId: 'agent-1',
      passwordHash: HASH,
      ipAddress: '10.0.0.5',
      isValidated: false,
      authType: 'password',
      createdAt: T0,
      lastLoginAt: null,
      lastHeartbeatAt: null,
      lastPushAt: null,
      heartbeatCadenceMs: null,
    });
    await expect(createMachine(store, { machineId: 'agent-1', passwordHash: HASH, now: T0 })).rejects.toMatchObject({ code: 'E_MACHINE_EXISTS' });
    await validateMachine(store, 'agent-1', T0 + 5);
    expect((await getMachine(store, 'agent-1'))?.isValidated).toBe(true);
    expect((await getMachine(store, 'agent-1'))?.updatedAt).toBe(T0 + 5);
    await expect(validateMachine(store, 'nobody', T0)).rejects.toMatchObject({ code: 'E_NO_MACHINE' });
    await createMachine(store, { machineId: 'cscli', passwordHash: HASH, now: T0, isValidated: true });
    expect((await listMachines(store)).map((x) => [x.machineId, x.isValidated])).toEqual([
      ['agent-1', true],
      ['cscli', true],
    ]);
    expect(await deleteMachines(store, ['agent-1', 'nobody'])).toBe(1);
    expect(await getMachine(store, 'agent-1')).toBeUndefined();
  });

  it("deletes a machine's usage reports with it, and only its own", async () => {
    const report = { version: 'v1.6.3', utc_startup_timestamp: T0 / 1000, datasources: { file: 1 }, hub_items: {} };
    for (const id of ['agent-1', 'agent-2']) {
      const m = await createMachine(store, { machineId: id, passwordHash: HASH, now: T0, isValidated: true });
      await recordLogProcessorUsage(store, m.id, T0, report);
    }
    expect((await logProcessorUsage(store, 0)).length).toBe(2);
    expect(await deleteMachines(store, ['agent-1'])).toBe(1);
    const left = await logProcessorUsage(store, 0);
    expect(left.map((u) => u.machineId)).toEqual([(await getMachine(store, 'agent-2'))!.id]);
    expect(left[0]!.windows.length).toBe(1);
  });

  it('records logins, pushes and heartbeats; a steady 60 s heartbeat gives a 60 s cadence, an erratic one none', async () => {
    await createMachine(store, { machineId: 'agent-1', passwordHash: HASH, now: T0, isValidated: true });
    await recordLogin(store, 'agent-1', {
      ipAddress: '192.0.2.7',
      version: 'v1.4.6-debian',
      scenarios: 'crowdsecurity/ssh-bf,crowdsecurity/http-probing',
      now: T0 + 1,
    });
    // A push is recorded with its alerts, in their transaction (POST /v1/alerts).
    const alert = newAlert(T0 + 2, { machineId: 'agent-1', sourceValue: '192.0.2.9', sourceIp: '192.0.2.9', startAt: T0, stopAt: T0 });
    await addAlerts(store, [{ alert, decisions: [] }], undefined, { machineId: 'agent-1', at: T0 + 2 });
    let m = await getMachine(store, 'agent-1');
    expect(m).toMatchObject({
      ipAddress: '192.0.2.7',
      version: 'v1.4.6-debian',
      scenarios: 'crowdsecurity/ssh-bf,crowdsecurity/http-probing',
      lastLoginAt: T0 + 1,
      lastPushAt: T0 + 2,
    });
    for (let i = 0; i < 20; i++) await recordHeartbeat(store, 'agent-1', T0 + i * 60_000);
    m = await getMachine(store, 'agent-1');
    expect(m?.lastHeartbeatAt).toBe(T0 + 19 * 60_000);
    expect(m?.heartbeatCadenceMs).toBe(60_000);
    // Erratic: intervals of 1 s and 10 min alternate.
    let t = T0 + 20 * 60_000;
    for (let i = 0; i < HEARTBEATS_KEPT; i++) await recordHeartbeat(store, 'agent-1', (t += i % 2 ? 1000 : 600_000));
    expect((await getMachine(store, 'agent-1'))?.heartbeatCadenceMs).toBeNull();
    // A heartbeat of an unknown (deleted) machine changes nothing and does not throw.
    await recordHeartbeat(store, 'nobody', T0);
    expect(await listMachines(store)).toHaveLength(1);
  });

  it('prune candidates: last heartbeat before the cutoff, or none and created before it', async () => {
    const day = 86_400_000;
    await createMachine(store, { machineId: 'silent-old', passwordHash: HASH, now: T0 });
    await createMachine(store, { machineId: 'silent-new', passwordHash: HASH, now: T0 + 3 * day });
    await createMachine(store, { machineId: 'beat-old', passwordHash: HASH, now: T0 });
    await createMachine(store, { machineId: 'beat-new', passwordHash: HASH, now: T0 });
    await recordHeartbeat(store, 'beat-old', T0 + day);
    await recordHeartbeat(store, 'beat-new', T0 + 3 * day);
    const names = (await machinesToPrune(store, T0 + 2 * day)).map((m) => m.machineId);
    expect(names).toEqual(['silent-old', 'beat-old']);
  });
});
