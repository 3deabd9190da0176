import { describe, expect, it } from 'vitest';
import type { HealthIssue } from '../model/health-issue.ts';
import { evaluateComponentOutdated } from './component-outdated.ts';
import { COMPONENT_VERSIONS, type ComponentVersion } from './component-versions.ts';
import { consoleRunbookFor } from './console-runbooks.ts';
import { driftObservation, driftFinding } from './enforcement.ts';
import { evaluate } from './evaluate.ts';
import { CANARY_RUN_MAX_MS, evaluateKnownSafeIp, type KnownSafeInput } from './known-safe-ip.ts';
import { evaluatePullingZeroIps } from './pulling-zero-ips.ts';
import { evaluateTooManyAlerts, TOO_MANY_ALERTS } from './too-many-alerts.ts';
import type { BouncerHealthInput, FleetSnapshot, HealthRules, MachineHealthInput } from './types.ts';

const NOW = Date.parse('2026-12-07T12:00:00Z');
const MIN = 60_000;
const RULES: HealthRules = { offlineAfterMs: 24 * 3600_000, lateAfterFactor: 6, lateAfterMinMs: 2 * MIN };

const bouncer = (name: string, type: string, version: string, over: Partial<BouncerHealthInput> = {}): BouncerHealthInput => ({
  id: name.length,
  name,
  type,
  version,
  ipAddress: '127.0.0.1',
  kind: 'firewall',
  revoked: false,
  createdAt: NOW - 3600_000,
  lastPullAt: NOW - 5_000,
  lastRequestAt: NOW - 5_000,
  pullCadenceMs: 10_000,
  lastUsageMetricsAt: null,
  ...over,
});
const agent = (machineId: string, version: string): MachineHealthInput =>
  ({
    id: 1,
    machineId,
    version,
    ipAddress: '127.0.0.1',
    isValidated: true,
    authType: 'password',
    createdAt: NOW - 3600_000,
    lastLoginAt: NOW,
    lastHeartbeatAt: NOW,
    lastPushAt: NOW,
    heartbeatCadenceMs: null,
  }) as MachineHealthInput;

describe('Component Outdated', () => {
  const table = (vulnerable: ComponentVersion['vulnerable'] = []): ComponentVersion[] => [
    { ...COMPONENT_VERSIONS.find((r) => r.component === 'crowdsec-firewall-bouncer')!, current: '0.0.32', vulnerable },
  ];

  it('names every bouncer behind the newest known version, one finding per component; current, newer, unknown and revoked ones are not', () => {
    const snapshot = {
      bouncers: [
        bouncer('fw-old', 'crowdsec-firewall-bouncer', 'v0.0.25'),
        bouncer('fw-debian', 'crowdsec-firewall-bouncer', 'v0.0.31-debian-pragmatic-amd64-abc'),
        bouncer('fw-current', 'crowdsec-firewall-bouncer', 'v0.0.32'),
        bouncer('fw-newer', 'crowdsec-firewall-bouncer', 'v0.1.0'),
        bouncer('fw-unknown', 'crowdsec-firewall-bouncer', '-'),
        bouncer('fw-revoked', 'crowdsec-firewall-bouncer', 'v0.0.1', { revoked: true }),
        bouncer('other', 'my-own-bouncer', 'v0.0.1'),
      ],
    };
    const f = evaluateComponentOutdated(snapshot, NOW, table());
    expect(f.map((x) => [x.kind, x.criticality, x.subject])).toEqual([['component_outdated', 'recommended', 'component:crowdsec-firewall-bouncer']]);
    expect(f[0]!.summary).toContain('2 CrowdSec firewall bouncers older than 0.0.32: bouncer fw-old runs v0.0.25, bouncer fw-debian runs v0.0.31-debian');
    expect(f[0]!.causes[0]!.cause).toBe('component_outdated');
  });

  it('agents from their login User-Agent version; a known advisory raises it High', () => {
    const f = evaluateComponentOutdated(
      { bouncers: [], machines: [agent('host-a', 'v1.4.6-6~deb12u1+b1-linux-debian'), agent('host-b', 'v1.7.8-linux')] },
      NOW,
    );
    expect(f.map((x) => [x.subject, x.criticality])).toEqual([['component:crowdsec', 'recommended']]);
    expect(f[0]!.summary).toContain('agent host-a runs v1.4.6');
    const vulnerable = evaluateComponentOutdated(
      { bouncers: [bouncer('fw', 'crowdsec-firewall-bouncer', 'v0.0.25')] },
      NOW,
      table([{ below: '0.0.28', advisory: 'EXAMPLE-1' }]),
    );
    expect([vulnerable[0]!.criticality, vulnerable[0]!.causes[0]!.cause]).toEqual(['high', 'component_vulnerable']);
    expect(vulnerable[0]!.causes[0]!.evidence).toContain('advisory: EXAMPLE-1');
  });

  it('is judged through evaluate only when the snapshot carries the table (the engine does)', () => {
    const base: FleetSnapshot = { bouncers: [bouncer('fw', 'crowdsec-firewall-bouncer', 'v0.0.25')], refused: [], lapiStarts: [], bouncerChanges: [] };
    expect(evaluate(base, NOW, RULES).map((f) => f.kind)).toEqual([]);
    expect(evaluate({ ...base, componentVersions: COMPONENT_VERSIONS }, NOW, RULES).map((f) => f.kind)).toEqual(['component_outdated']);
  });
});

describe('Security Engine Too Many Alerts', () => {
  const volume = (count: number) => ({
    windowMs: TOO_MANY_ALERTS.windowMs,
    count,
    topScenarios: [{ scenario: 'my/custom-scan', count }],
    topMachines: [{ machineId: 'web-1', count }],
  });
  it('more than 250,000 alerts in 6 h, not 250,000', () => {
    expect(evaluateTooManyAlerts(volume(250_000), NOW)).toEqual([]);
    const f = evaluateTooManyAlerts(volume(250_001), NOW);
    expect(f.map((x) => [x.kind, x.criticality, x.subject])).toEqual([['se_too_many_alerts', 'high', 'fleet']]);
    expect(f[0]!.summary).toContain('more than 250,000 alerts in the last 6 h');
    expect(f[0]!.causes[0]!.evidence).toEqual(['scenario my/custom-scan: 250,001 of the latest alerts', 'agent web-1: 250,001 of the latest alerts']);
    expect(evaluateTooManyAlerts(undefined, NOW)).toEqual([]);
  });
});

describe('Integration Pulling Zero IPs', () => {
  const obs = (at: number, reported: number, expected: Record<string, number>, filtered: string[] = []) =>
    driftObservation(
      { id: 7, name: 'fw' },
      at,
      new Map(reported ? [['crowdsec', reported]] : []),
      new Map(Object.entries(expected)),
      filtered.length ? ['crowdsec'] : undefined,
    );

  it('two reports in a row of 0 while the Local API sends some; since the first of them; drift is not raised beside it', () => {
    const drift = [[obs(NOW, 0, { crowdsec: 40 }), obs(NOW - 30 * MIN, 0, { crowdsec: 40 }), obs(NOW - 60 * MIN, 40, { crowdsec: 40 })]];
    const f = evaluatePullingZeroIps(drift);
    expect(f.map((x) => [x.kind, x.criticality, x.subject, x.since])).toEqual([['integration_zero_ips', 'high', 'bouncer:fw', NOW - 30 * MIN]]);
    expect(driftFinding(drift[0]!)?.kind).toBe('remediation_drift');
    const all = evaluate({ bouncers: [], refused: [], lapiStarts: [], bouncerChanges: [], enforcement: { canaries: [], drift } }, NOW, RULES);
    expect(all.filter((x) => x.subject === 'bouncer:fw').map((x) => x.kind)).toEqual(['integration_zero_ips']);
  });

  it('not on one report, not when the Local API holds nothing for it, not for origins its own query leaves out', () => {
    expect(evaluatePullingZeroIps([[obs(NOW, 0, { crowdsec: 40 }), obs(NOW - 30 * MIN, 40, { crowdsec: 40 })]])).toEqual([]);
    expect(evaluatePullingZeroIps([[obs(NOW, 0, {}), obs(NOW - 30 * MIN, 0, {})]])).toEqual([]);
    expect(evaluatePullingZeroIps([[obs(NOW, 0, { CAPI: 40 }, ['CAPI']), obs(NOW - 30 * MIN, 0, { CAPI: 40 }, ['CAPI'])]])).toEqual([]);
  });
});

describe('Blocking Known Safe IP', () => {
  const d = (id: number, value: string, over: Partial<KnownSafeInput['decisions'][number]> = {}) => ({
    id,
    scope: value.includes('/') ? 'Range' : 'Ip',
    value,
    type: 'ban',
    origin: 'crowdsec',
    scenario: 'crowdsecurity/http-probing',
    createdAt: NOW - 5 * MIN,
    ...over,
  });
  const kinds = (input: KnownSafeInput) => evaluateKnownSafeIp(input, NOW);

  it('private, documentation (RFC 5737, RFC 3849) and canary addresses; a range inside one; not a public address nor a range covering one', () => {
    const f = kinds({
      decisions: [
        d(1, '10.1.2.3'),
        d(2, '192.0.2.7'),
        d(3, '2001:db8::1'),
        d(4, '198.51.100.0/25'),
        d(5, 'fd00::5'),
        d(6, '1.2.3.4'),
        d(7, '0.0.0.0/0'),
        d(8, '172.32.0.1'),
        d(9, '8.8.8.8'),
      ],
      canaryAddresses: ['8.8.8.8'],
    });
    expect(f.map((x) => [x.kind, x.criticality, x.subject])).toEqual([['blocking_safe_ip', 'high', 'fleet']]);
    expect(f[0]!.summary).toContain('6 active decision(s) block known-safe addresses (2 private, 3 documentation, 1 canary)');
    expect(f[0]!.causes[0]!.cause).toBe('proxy_address_judged');
    expect(f[0]!.causes[0]!.evidence.join('\n')).not.toMatch(/1\.2\.3\.4|0\.0\.0\.0\/0|172\.32/);
  });

  it("a canary's own decision during its run is not raised, one left behind after it is", () => {
    const canary = (createdAt: number) => d(1, '203.0.113.9', { scenario: 'vigil-canary web', origin: 'vigil-canary', createdAt });
    expect(kinds({ decisions: [canary(NOW - MIN)] })).toEqual([]);
    const left = kinds({ decisions: [canary(NOW - CANARY_RUN_MAX_MS - 1)] });
    expect([left[0]!.causes[0]!.cause, left[0]!.causes[0]!.evidence[0]]).toEqual([
      'test_decision_left',
      'ban on 203.0.113.9 (decision 1, origin vigil-canary, scenario vigil-canary web): a canary test decision left behind after its run',
    ]);
  });

  it('an allowlisted address through the injected check (the seam to the allowlists store) comes first', () => {
    const f = kinds({ decisions: [d(1, '5.6.7.8'), d(2, '10.0.0.1')], allowlistOf: (v) => (v === '5.6.7.8' ? 'partners' : null) });
    expect(f[0]!.causes[0]!.cause).toBe('allowlist_not_applied');
    expect(f[0]!.causes[0]!.evidence[0]).toContain('5.6.7.8 (decision 1, origin crowdsec, scenario crowdsecurity/http-probing): in allowlist partners');
    expect(kinds({ decisions: [d(1, '5.6.7.8')] })).toEqual([]);
  });
});

describe('runbooks', () => {
  for (const kind of ['component_outdated', 'se_too_many_alerts', 'integration_zero_ips', 'blocking_safe_ip'] as const) {
    it(`${kind} has one, led by its cause`, () => {
      const cause = {
        component_outdated: 'component_outdated',
        se_too_many_alerts: 'alert_flood',
        integration_zero_ips: 'holds_no_decisions',
        blocking_safe_ip: 'test_decision_left',
      }[kind];
      const rb = consoleRunbookFor({
        kind,
        bouncerName: 'fw',
        evidence: { causes: [{ cause, confidence: 'high', evidence: [] }], notes: [] },
      } as unknown as HealthIssue)!;
      expect(rb.sections.map((s) => s.title)).toEqual(['Diagnose', 'Resolve', 'Verify']);
      expect(rb.summary.length).toBeGreaterThan(20);
    });
  }
});
