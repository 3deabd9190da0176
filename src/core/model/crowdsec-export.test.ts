import { describe, expect, it } from 'vitest';
import { cscliDeleteCommand, planCrowdsecExport, toCscliImportEntry } from './crowdsec-export.ts';
import type { Alert, Bouncer, Decision, Machine } from './records.ts';
import { storedAlert } from '../../../test/support/alert-builders.ts';

const NOW = Date.parse('2026-12-07T12:00:00Z');
const H = 3_600_000;

const alert = (id: number, over: Partial<Alert> = {}): Alert =>
  storedAlert(id, NOW - H, { scenario: 'crowdsecurity/ssh-bf', machineId: 'agent', eventsCount: 6, leakspeed: '10s', ...over });
const decision = (id: number, value: string, over: Partial<Decision> = {}): Decision => ({
  id,
  alertId: 1,
  origin: 'crowdsec',
  type: 'ban',
  scope: 'Ip',
  value,
  scenario: 'crowdsecurity/ssh-bf',
  createdAt: NOW - H,
  until: NOW + 4 * H,
  deletedAt: null,
  simulated: false,
  ...over,
});
const bouncer = (name: string, apiKeyHash: string): Bouncer =>
  ({ name, apiKeyHash, revoked: false, createdAt: NOW - H, lastPullAt: null, authType: 'api-key' }) as Bouncer;
const machine = (machineId: string, passwordHash: string): Machine => ({ machineId, passwordHash, isValidated: true }) as Machine;
const csTime = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '+00:00');

describe('planCrowdsecExport', () => {
  const d1 = decision(1, '192.0.2.1');
  const d2 = decision(2, '192.0.2.2');
  const d3 = decision(3, '203.0.113.0/24', { alertId: null, scope: 'Range', origin: 'cscli', type: 'captcha' });
  const plan = planCrowdsecExport({
    vigil: {
      decisions: [
        { decision: d1, alert: alert(1) },
        { decision: d2, alert: alert(1) },
        { decision: d3, alert: null },
      ],
      bouncers: [bouncer('same', 'a'.repeat(128)), bouncer('rekeyed', 'b'.repeat(128)), bouncer('new', 'c'.repeat(128))],
      machines: [machine('agent', '$2a$10$x'), machine('new-agent', '$2a$10$y')],
      allowlists: [
        {
          name: 'office',
          description: '',
          items: [
            { value: '192.0.2.0/28', expiresAt: null, comment: 'HQ' },
            { value: '10.0.0.1', expiresAt: NOW - 1, comment: '' },
          ],
        },
      ],
    },
    crowdsec: {
      decisions: [
        // The same as d1 (CrowdSec keeps whole seconds): kept.
        { id: 10, scope: 'Ip', value: '192.0.2.1', type: 'ban', origin: 'crowdsec', until: csTime(d1.until) },
        // Deleted on Vigil: expired there.
        { id: 11, scope: 'Ip', value: '198.51.100.9', type: 'ban', origin: 'cscli', until: csTime(NOW + H) },
        // Already expired in CrowdSec: left alone.
        { id: 12, scope: 'Ip', value: '198.51.100.10', type: 'ban', origin: 'cscli', until: csTime(NOW - H) },
      ],
      bouncers: [
        { id: 1, name: 'same', api_key: 'A'.repeat(128), revoked: 0 },
        { id: 2, name: 'rekeyed', api_key: 'd'.repeat(128), revoked: 0 },
        { id: 3, name: 'gone-from-vigil', api_key: 'e'.repeat(128), revoked: 0 },
      ],
      machines: [{ id: 1, machine_id: 'agent', password: '$2a$10$x', is_validated: 1 }],
    },
    now: NOW,
  });

  it('writes what CrowdSec lacks under its alert, keeps what both hold, expires what Vigil no longer holds', () => {
    expect(plan.kept).toBe(1);
    expect(plan.alerts.map((a) => [a.scenario, a.machineId, a.decisions.map((d) => d.value)])).toEqual([
      ['crowdsecurity/ssh-bf', 'agent', ['192.0.2.2']],
      ['crowdsecurity/ssh-bf', '', ['203.0.113.0/24']],
    ]);
    expect(plan.alerts[1]!.sourceScope).toBe('vigil/export');
    expect(plan.expire).toEqual([{ id: 11, what: 'ban on ip:198.51.100.9 (origin cscli)' }]);
  });

  it('adds missing bouncers and machines with their hashes, replaces a key changed on Vigil, names one Vigil dropped', () => {
    expect(plan.bouncersToAdd.map((b) => b.name)).toEqual(['new']);
    expect(plan.bouncersToUpdate.map((b) => b.name)).toEqual(['rekeyed']);
    expect(plan.machinesToAdd.map((m) => m.machineId)).toEqual(['new-agent']);
    expect(plan.machinesToUpdate).toEqual([]);
    expect(plan.notes).toContain(
      'bouncer gone-from-vigil: in CrowdSec but not in Vigil (deleted there?): kept; remove it with cscli bouncers delete gone-from-vigil',
    );
  });

  it('turns allowlists into cscli commands, leaving expired items out', () => {
    expect(plan.allowlistCommands).toEqual(['cscli allowlists create office -d office', 'cscli allowlists add office 192.0.2.0/28 -d HQ']);
  });
});

describe('the --to-file forms', () => {
  it('a cscli decisions import entry with the time left', () => {
    expect(
      toCscliImportEntry({ origin: 'cscli', type: 'ban', scope: 'Ip', value: '192.0.2.1', scenario: 'x y', until: NOW + 90_500, simulated: false }, NOW),
    ).toEqual({
      duration: '91s',
      origin: 'cscli',
      reason: 'x y',
      scope: 'Ip',
      type: 'ban',
      value: '192.0.2.1',
    });
  });
  it('delete commands in 1.4.6 cscli flags', () => {
    expect(cscliDeleteCommand({ scope: 'Ip', value: '192.0.2.1', type: 'ban' })).toBe('cscli decisions delete --ip 192.0.2.1 --type ban');
    expect(cscliDeleteCommand({ scope: 'Range', value: '2001:db8::/64', type: 'captcha' })).toBe('cscli decisions delete --range 2001:db8::/64 --type captcha');
    expect(cscliDeleteCommand({ scope: 'Username', value: "o'brien", type: 'ban' })).toBe("cscli decisions delete --value 'o'\\''brien' --type ban");
  });
});
