import { describe, expect, it } from 'vitest';
import { parseCscliMachinesJson, parseMachineRow } from './crowdsec-machine.ts';

describe("CrowdSec's machines", () => {
  it('cscli machines list -o json (1.4.6, real): camelCase keys; a machine that never logged in has no heartbeat, push or login', () => {
    // Captured from cscli 1.4.6 right after `cscli machines add`: last_push/last_heartbeat are registration placeholders.
    const out = `[{"id":1,"created_at":"2026-12-03T09:59:37.155094324Z","updated_at":"2026-12-03T09:59:37.155094765Z","last_push":"2026-12-03T09:59:37.155094865Z","last_heartbeat":"2026-12-03T09:59:37.155094975Z","machineId":"vigil-test-machine","isValidated":true,"auth_type":"password","edges":{}}]`;
    expect(parseCscliMachinesJson(out)).toEqual([
      {
        id: 1,
        machineId: 'vigil-test-machine',
        ipAddress: '',
        version: '',
        isValidated: true,
        authType: 'password',
        createdAt: Date.parse('2026-12-03T09:59:37.155Z'),
        lastLoginAt: null,
        lastHeartbeatAt: null,
        lastPushAt: null,
        heartbeatCadenceMs: null,
      },
    ]);
    expect(parseCscliMachinesJson('null')).toEqual([]);
  });

  it('a database row of an agent that logged in (SQLite text times, 0/1 booleans)', () => {
    const m = parseMachineRow(
      {
        id: 3,
        machine_id: 'agent-1',
        ip_address: '10.0.0.7',
        version: 'v1.4.6',
        is_validated: 0,
        auth_type: 'tls',
        created_at: '2026-12-01 08:00:00.1+00:00',
        updated_at: '2026-12-03 09:00:00+00:00',
        last_push: '2026-12-02 10:00:00+00:00',
        last_heartbeat: '2026-12-03 08:59:00+00:00',
      },
      1,
    );
    expect(m).toMatchObject({
      id: 3,
      isValidated: false,
      authType: 'tls',
      lastHeartbeatAt: Date.parse('2026-12-03T08:59:00Z'),
      lastLoginAt: Date.parse('2026-12-03T08:59:00Z'),
      lastPushAt: Date.parse('2026-12-02T10:00:00Z'),
    });
    expect(parseMachineRow({ machine_id: '' }, 1)).toBeNull();
  });
});
