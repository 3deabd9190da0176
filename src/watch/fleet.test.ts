import { describe, expect, it } from 'vitest';
import { evaluate, DEFAULT_RULES } from '../core/health/evaluate.ts';
import type { BouncerHealthInput } from '../core/health/types.ts';
import { stripAddressSuffixes, fleetInputs, sourceUnavailableFinding, type WatchedEntry } from './fleet.ts';

const H = 3600_000;
const NOW = Date.parse('2026-11-24T12:00:00Z');
let nextId = 1;

function entry(name: string, over: Partial<BouncerHealthInput> = {}, meta: { autoCreated?: boolean; authType?: string } = {}): WatchedEntry {
  return {
    input: {
      id: nextId++,
      name,
      type: 'crowdsec-nginx-bouncer',
      version: 'v1.0.8',
      ipAddress: '10.0.0.1',
      kind: 'remediation',
      revoked: false,
      createdAt: NOW - 30 * 24 * H,
      lastPullAt: NOW - 60_000,
      lastRequestAt: null,
      pullCadenceMs: null,
      lastUsageMetricsAt: null,
      ...over,
    },
    autoCreated: meta.autoCreated ?? false,
    authType: meta.authType ?? 'api-key',
  };
}

const findings = (entries: WatchedEntry[]) => evaluate({ bouncers: fleetInputs(entries), refused: [], lapiStarts: [], bouncerChanges: [] }, NOW, DEFAULT_RULES);

describe('base names of auto-created entries: one or chained @ip suffixes stripped, IPv4 and IPv6, nothing else', () => {
  it.each([
    ['nginx@10.0.0.5', 'nginx'],
    ['envoy@10.42.1.147@10.42.2.242', 'envoy'],
    ['caddy@2001:db8::7', 'caddy'],
    ['ops@example.com', 'ops@example.com'],
    ['plain', 'plain'],
  ])('%s → %s', (name, base) => {
    expect(stripAddressSuffixes(name)).toBe(base);
  });
});

describe('no false offline across CrowdSec versions', () => {
  it('a never-pulled bouncer registered an hour ago is not offline (1.6.3+ NULL, or 1.4 placeholder parsed to null)', () => {
    const fresh = entry('new-bouncer', { createdAt: NOW - H, lastPullAt: null, ipAddress: '', type: '' });
    const healthy = entry('nginx');
    expect(findings([fresh, healthy])).toEqual([]);
  });

  it('a never-pulled bouncer is offline a day after registration, counted from registration, cause never pulled', () => {
    const old = entry('forgotten', { createdAt: NOW - 25 * H, lastPullAt: null, ipAddress: '', type: '' });
    const [f] = findings([old, entry('nginx')]);
    expect(f).toMatchObject({ kind: 'rc_integration_offline', subject: 'bouncer:forgotten', since: NOW - 25 * H });
    expect(f!.causes[0]!.cause).toBe('never_pulled');
  });

  it('a stale name@ip child whose parent pulls raises nothing', () => {
    const parent = entry('nginx', { lastPullAt: NOW - 30_000, ipAddress: '10.0.0.9' });
    const stale = entry('nginx@10.0.0.5', { lastPullAt: NOW - 10 * 24 * H, ipAddress: '10.0.0.5' }, { autoCreated: true });
    const neverPulled = entry('nginx@10.0.0.6', { lastPullAt: null, createdAt: NOW - 3 * 24 * H, ipAddress: '10.0.0.6' }, { autoCreated: true });
    expect(findings([parent, stale, neverPulled])).toEqual([]);
    expect(fleetInputs([parent, stale, neverPulled])).toHaveLength(1);
  });

  it('a parent whose only live entry is a child (the container moved) is alive, shown with the child address', () => {
    const parent = entry('traefik', { lastPullAt: NOW - 5 * 24 * H, ipAddress: '172.18.0.4' });
    const child = entry('traefik@172.18.0.7', { lastPullAt: NOW - 20_000, ipAddress: '172.18.0.7', version: 'v1.5.0' }, { autoCreated: true });
    const [merged] = fleetInputs([parent, child]);
    expect(merged).toMatchObject({ id: parent.input.id, name: 'traefik', lastPullAt: NOW - 20_000, ipAddress: '172.18.0.7', version: 'v1.5.0' });
    expect(findings([parent, child])).toEqual([]);
  });

  it('a whole family gone silent is one issue under the parent name, silent since its last member pulled', () => {
    const parent = entry('traefik', { lastPullAt: NOW - 30 * H });
    const child = entry('traefik@172.18.0.7', { lastPullAt: NOW - 26 * H, ipAddress: '172.18.0.7' }, { autoCreated: true });
    const list = findings([parent, child, entry('fw', { kind: 'firewall' })]);
    expect(list.map((f) => [f.kind, f.subject, f.since])).toEqual([['rc_integration_offline', 'bouncer:traefik', NOW - 26 * H]]);
  });

  it('an entry named like a child but not auto-created is a bouncer of its own', () => {
    const parent = entry('nginx');
    const manual = entry('nginx@10.0.0.5', { lastPullAt: NOW - 30 * H }, { autoCreated: false });
    expect(findings([parent, manual]).map((f) => f.subject)).toEqual(['bouncer:nginx@10.0.0.5']);
  });

  it('children attach to the nearest registered name, even one that itself ends in @ip', () => {
    const parent = entry('edge@192.0.2.1');
    const child = entry('edge@192.0.2.1@10.0.0.5', { lastPullAt: NOW - 30 * H }, { autoCreated: true });
    expect(fleetInputs([parent, child]).map((b) => b.name)).toEqual(['edge@192.0.2.1']);
  });

  it('TLS rows (CN@ip, no parent) of one certificate are one bouncer named by the oldest row', () => {
    const a = entry('fw-cert@10.0.0.1', { createdAt: NOW - 40 * 24 * H, lastPullAt: NOW - 9 * 24 * H, kind: 'firewall' }, { authType: 'tls' });
    const b = entry('fw-cert@10.0.0.2', { createdAt: NOW - 8 * 24 * H, lastPullAt: NOW - 10_000, kind: 'firewall' }, { authType: 'tls' });
    expect(fleetInputs([b, a]).map((x) => [x.name, x.lastPullAt])).toEqual([['fw-cert@10.0.0.1', NOW - 10_000]]);
    expect(findings([a, b])).toEqual([]);
  });
});

describe('source unavailable', () => {
  it('is one high finding on the source, with the error and a hint', () => {
    const f = sourceUnavailableFinding('sqlite:/var/lib/crowdsec/data/crowdsec.db', 'database is locked (SQLITE_BUSY after 2000 ms)', NOW - 90_000, 4, NOW);
    expect(f).toMatchObject({ kind: 'source_unavailable', criticality: 'high', subject: 'source', bouncerName: null, since: NOW - 90_000 });
    expect(f.summary).toContain('sqlite:/var/lib/crowdsec/data/crowdsec.db (4 failed attempts over 1m30s)');
    expect(f.notes).toContain('last error: database is locked (SQLITE_BUSY after 2000 ms)');
    expect(f.notes.join('\n')).toContain('use_wal: true');
  });
});
