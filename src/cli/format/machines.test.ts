import { MACHINES_LIST, MACHINES_LIST_JSON, MACHINES_LIST_RAW } from '../../../test/support/cscli-reference.ts';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import type { Machine } from '../../core/model/records.ts';
import { formatCredentials, formatMachineInspect, formatMachineList, lastHeartbeatText } from './machines.ts';

const at = (iso: string) => Date.parse(iso);

function machine(over: Partial<Machine> = {}): Machine {
  return {
    id: 1,
    machineId: '3d1219c7c4c5404aaa1f6d2a48adfda4',
    passwordHash: '$2b$10$abcdefghijklmnopqrstuuH0xUvWd7o8aJ1gq0kPq5y1JmUuM3pQm',
    ipAddress: '127.0.0.1',
    version: 'v1.4.6-6~deb12u1+b1-linux-debian',
    scenarios: '',
    isValidated: true,
    authType: 'password',
    createdAt: at('2026-11-24T04:19:45.611Z'),
    updatedAt: at('2026-11-24T04:19:45.612Z'),
    lastLoginAt: at('2026-11-24T04:19:45.612Z'),
    lastHeartbeatAt: at('2026-11-24T04:19:45.613Z'),
    lastPushAt: at('2026-11-24T04:19:45.612Z'),
    heartbeatCadenceMs: null,
    ...over,
  };
}

describe('machines list, as cscli 1.4.6 prints it', () => {
  it('human: the reference table, byte for byte', () => {
    const m = machine({ updatedAt: at('2026-11-24T04:19:45.900Z') });
    expect(formatMachineList([m], 'human', m.lastHeartbeatAt! + 110_500)).toBe(MACHINES_LIST);
  });

  it('human: ⚠️ once the heartbeat is more than 2 minutes old, or missing', () => {
    const m = machine({ lastHeartbeatAt: 1_000_000 });
    expect(lastHeartbeatText(m, 1_000_000 + 120_000, true)).toBe('2m0s');
    expect(lastHeartbeatText(m, 1_000_000 + 120_001, true)).toBe('⚠️ 2m0s');
    expect(lastHeartbeatText(m, 1_000_000 + 26 * 3600_000, true)).toBe('⚠️ 26h0m0s');
    expect(lastHeartbeatText(machine({ lastHeartbeatAt: null }), 0, true)).toBe('⚠️ -');
    expect(lastHeartbeatText(machine({ lastHeartbeatAt: null }), 0, false)).toBe('-');
    const table = formatMachineList([machine({ lastHeartbeatAt: null, isValidated: false, machineId: 'pending1', version: '' })], 'human', 0);
    expect(table).toContain(' pending1 ');
    expect(table).toContain('🚫');
    expect(table).toContain('⚠️ -');
  });

  it('json: the reference keys, in its order, camelCase and edges {}, no password hash', () => {
    const m = machine();
    const out = formatMachineList([m], 'json', m.lastHeartbeatAt!);
    const ours = JSON.parse(out) as Array<Record<string, unknown>>;
    const ref = JSON.parse(MACHINES_LIST_JSON) as Array<Record<string, unknown>>;
    expect(Object.keys(ours[0]!)).toEqual(Object.keys(ref[0]!));
    for (const key of ['id', 'machineId', 'ipAddress', 'version', 'isValidated', 'auth_type', 'edges']) expect(ours[0]![key]).toEqual(ref[0]![key]);
    expect(ours[0]!.created_at).toBe('2026-11-24T04:19:45.611Z');
    expect(ours[0]!.last_heartbeat).toBe('2026-11-24T04:19:45.613Z');
    expect(out).not.toContain('$2b$');
    expect(out).not.toMatch(/"password(Hash)?":/);
    // Same layout as Go's json.Encoder with a two-space indent: only the times differ.
    const times = /"\d{4}-\d\d-\d\dT[\d:.]+Z"/g;
    expect(out.replace(times, '"T"')).toBe(MACHINES_LIST_JSON.replace(times, '"T"'));
  });

  it('json: omitempty fields are absent until set; no machines is []', () => {
    const fresh = machine({ lastPushAt: null, lastHeartbeatAt: null, version: '', scenarios: '' });
    const o = JSON.parse(formatMachineList([fresh], 'json', 0))[0];
    expect(o).not.toHaveProperty('last_push');
    expect(o).not.toHaveProperty('last_heartbeat');
    expect(o).not.toHaveProperty('version');
    expect(o).not.toHaveProperty('scenarios');
    expect(JSON.parse(formatMachineList([machine({ scenarios: 'crowdsecurity/ssh-bf,crowdsecurity/http-probing' })], 'json', 0))[0].scenarios).toBe(
      'crowdsecurity/ssh-bf,crowdsecurity/http-probing',
    );
    expect(formatMachineList([], 'json', 0)).toBe('[]\n');
  });

  it('raw: the reference CSV', () => {
    const now = at('2026-11-24T04:21:36.400Z');
    const list = [
      machine({ updatedAt: now, version: '7.88.1', lastHeartbeatAt: now - 400 }),
      machine({ id: 2, machineId: 'newmachine1', updatedAt: now, version: '', isValidated: false, lastHeartbeatAt: now }),
    ];
    expect(formatMachineList(list, 'raw', now)).toBe(MACHINES_LIST_RAW);
    expect(
      formatMachineList([machine({ lastHeartbeatAt: null })], 'raw', now)
        .split('\n')[1]!
        .endsWith(',-'),
    ).toBe(true);
  });
});

describe('credentials file and inspect', () => {
  it('writes url, login and password in that order, as YAML the agent reads', () => {
    const text = formatCredentials('http://127.0.0.1:8080/', 'agent1', 'p4ss: #not a comment');
    expect(text.split('\n')[0]).toBe('url: http://127.0.0.1:8080/');
    expect(text.split('\n')[1]).toBe('login: agent1');
    expect(YAML.parse(text)).toEqual({ url: 'http://127.0.0.1:8080/', login: 'agent1', password: 'p4ss: #not a comment' });
  });

  it('inspect: fields with its health; json is the list object plus Vigil’s fields', () => {
    const m = machine({ scenarios: 'crowdsecurity/ssh-bf,crowdsecurity/http-probing', heartbeatCadenceMs: 60_000 });
    const human = formatMachineInspect(m, 'healthy', 'human', m.lastHeartbeatAt! + 5000);
    expect(human).toMatch(/ Validated\? +true /);
    expect(human).toMatch(/ Heartbeat cadence +every 1m0s /);
    expect(human).toContain('  crowdsecurity/http-probing\n');
    const json = JSON.parse(formatMachineInspect(m, 'late', 'json', 0));
    expect(json.machineId).toBe(m.machineId);
    expect(json.health).toBe('late');
    expect(json.heartbeat_cadence_ms).toBe(60_000);
    expect(JSON.stringify(json)).not.toContain('$2b$');
  });
});
