import { describe, expect, it } from 'vitest';
import { bouncerStatus, DEFAULT_RULES, evaluate, evaluateInSlices } from './evaluate.ts';
import type { BouncerHealthInput, FleetSnapshot } from './types.ts';
import { bouncerBuilder, fleetSnapshot } from '../../../test/support/health-inputs.ts';
import { runCountingPauses } from '../../../test/support/turns.ts';
import { findingKinds, refusedRequests } from '../../../test/support/health-issues.ts';

const T0 = Date.UTC(2026, 10, 1, 0, 0, 0);
const H = 3600_000;

// The refused requests below come from its address with its User-Agent.
const bouncer = bouncerBuilder(
  { name: 'nginx', type: 'crowdsec-nginx-bouncer', version: 'v1.0.8', ipAddress: '10.0.0.5' },
  { createdAt: T0, lastPullAt: T0, lastRequestAt: T0 },
);
const fleet = (bouncers: BouncerHealthInput[], over: Partial<FleetSnapshot> = {}) => fleetSnapshot({ bouncers, ...over });
const refused = refusedRequests({
  at: T0 + H,
  peerIp: '10.0.0.5',
  userAgent: 'crowdsec-nginx-bouncer/v1.0.8',
  method: 'GET',
  path: '/v1/decisions',
  reason: 'unknown',
  keyFingerprint: 'aaaa',
  bouncerName: '',
});
const kinds = findingKinds;

describe('evaluate: offline boundaries', () => {
  it('raises RC Integration Offline only after exactly 24 h without a pull', () => {
    const s = fleet([bouncer(), bouncer({ id: 2, name: 'other', lastPullAt: T0 + 24 * H })]);
    expect(kinds(evaluate(s, T0 + 24 * H, DEFAULT_RULES))).toEqual([]);
    expect(kinds(evaluate(s, T0 + 24 * H + 1000, DEFAULT_RULES))).toEqual(['rc_integration_offline:bouncer:nginx']);
  });

  it('raises Firewall Integration Offline for firewall bouncers', () => {
    const s = fleet([bouncer({ kind: 'firewall', name: 'fw', type: 'crowdsec-firewall-bouncer' }), bouncer({ id: 2, name: 'web', lastPullAt: T0 + 20 * H })]);
    const f = evaluate(s, T0 + 24 * H + 1000, DEFAULT_RULES);
    expect(kinds(f)).toEqual(['fw_integration_offline:bouncer:fw']);
    expect(f[0]!.criticality).toBe('critical');
    expect(f[0]!.summary).toContain("firewall bouncer 'fw'");
  });

  it('counts a never-pulled bouncer from its registration', () => {
    const b = bouncer({ lastPullAt: null, lastRequestAt: null, createdAt: T0 + H });
    expect(evaluate(fleet([b]), T0 + 25 * H, DEFAULT_RULES).filter((x) => x.subject !== 'fleet')).toEqual([]);
    const f = evaluate(fleet([b]), T0 + 25 * H + 1000, DEFAULT_RULES);
    expect(kinds(f)).toEqual(['rc_integration_offline:bouncer:nginx', 'se_no_active_rc:fleet']);
    expect(f[0]!.causes[0]!.cause).toBe('never_pulled');
    expect(f[0]!.summary).toContain('never pulled');
    expect(bouncerStatus(b, T0 + 2 * H, DEFAULT_RULES)).toBe('never_pulled');
  });

  it('raises se_no_rc with no bouncer and se_no_active_rc when every bouncer is inactive', () => {
    expect(evaluate(fleet([]), T0, DEFAULT_RULES)).toMatchObject([{ kind: 'se_no_rc', criticality: 'recommended', subject: 'fleet' }]);
    const both = fleet([bouncer(), bouncer({ id: 2, name: 'b', lastPullAt: T0 + H })]);
    expect(kinds(evaluate(both, T0 + 25 * H, DEFAULT_RULES))).toEqual(['rc_integration_offline:bouncer:nginx']);
    expect(kinds(evaluate(both, T0 + 25 * H + 1000, DEFAULT_RULES))).toContain('se_no_active_rc:fleet');
  });

  it('does not raise for a revoked bouncer, and shows it as revoked', () => {
    const b = bouncer({ revoked: true });
    const f = evaluate(fleet([b, bouncer({ id: 2, name: 'ok', lastPullAt: T0 + 30 * H })]), T0 + 30 * H, DEFAULT_RULES);
    expect(kinds(f)).toEqual([]);
    expect(bouncerStatus(b, T0 + 30 * H, DEFAULT_RULES)).toBe('revoked');
  });

  it('takes a usage-metrics report as a sign of life', () => {
    const b = bouncer({ lastUsageMetricsAt: T0 + 20 * H });
    expect(kinds(evaluate(fleet([b]), T0 + 30 * H, DEFAULT_RULES))).toEqual([]);
  });

  it('follows tightened thresholds', () => {
    const rules = { ...DEFAULT_RULES, offlineAfterMs: 60_000 };
    expect(kinds(evaluate(fleet([bouncer()]), T0 + 60_000, rules))).toEqual([]);
    expect(kinds(evaluate(fleet([bouncer()]), T0 + 61_000, rules))).toContain('rc_integration_offline:bouncer:nginx');
  });
});

describe('evaluate: integration_late', () => {
  // A stream bouncer pulling every 10 s (the bouncers' default update_frequency), last pull at T0.
  const steady = bouncer({ pullCadenceMs: 10_000 });
  const at = (ms: number) => ({ status: bouncerStatus(steady, T0 + ms, DEFAULT_RULES), findings: kinds(evaluate(fleet([steady]), T0 + ms, DEFAULT_RULES)) });

  it('a 10 s bouncer: late at 3 missed pulls (status), Integration Late past the 2 min floor (6 missed pulls is less), offline at 30 (10 min)', () => {
    expect(at(30_000)).toEqual({ status: 'healthy', findings: [] });
    expect(at(30_001)).toEqual({ status: 'late', findings: [] });
    expect(at(120_000)).toEqual({ status: 'late', findings: [] });
    expect(at(120_001)).toEqual({ status: 'late', findings: ['integration_late:bouncer:nginx'] });
    expect(at(10 * 60_000)).toEqual({ status: 'late', findings: ['integration_late:bouncer:nginx'] });
    expect(at(10 * 60_000 + 1)).toEqual({ status: 'offline', findings: ['rc_integration_offline:bouncer:nginx'] });
    // The fleet still counts it active for CrowdSec's se_no_active_rc (24 h).
    expect(at(25 * H)).toEqual({ status: 'offline', findings: ['rc_integration_offline:bouncer:nginx', 'se_no_active_rc:fleet'] });
  });

  it('a bouncer that closed its own connection after its last pull is late 75 s after the close, whatever its cadence', () => {
    // 10 s bouncer killed 4 s after its last pull: late from the 75 s floor (not 2 min).
    const fast = bouncer({ pullCadenceMs: 10_000, connectionClosedAt: T0 + 4_000 });
    expect(kinds(evaluate(fleet([fast]), T0 + 75_000, DEFAULT_RULES))).toEqual([]);
    expect(kinds(evaluate(fleet([fast]), T0 + 79_001, DEFAULT_RULES))).toEqual(['integration_late:bouncer:nginx']);
    // 60 s bouncer killed 50 s after its last pull: 75 s after the close, not 6 missed pulls (6 min).
    const slow = bouncer({ pullCadenceMs: 60_000, connectionClosedAt: T0 + 50_000 });
    expect(kinds(evaluate(fleet([slow]), T0 + 125_000, DEFAULT_RULES))).toEqual([]);
    expect(kinds(evaluate(fleet([slow]), T0 + 125_001, DEFAULT_RULES))).toEqual(['integration_late:bouncer:nginx']);
    expect(bouncerStatus(slow, T0 + 125_001, DEFAULT_RULES)).toBe('late');
    // Offline (Critical) keeps its cadence rule: 30 missed pulls.
    expect(kinds(evaluate(fleet([slow]), T0 + 29 * 60_000, DEFAULT_RULES))).toEqual(['integration_late:bouncer:nginx']);
    // A close before the last pull (a restart that reconnected and pulled) changes nothing.
    const back = bouncer({ pullCadenceMs: 60_000, connectionClosedAt: T0 - 5_000 });
    expect(kinds(evaluate(fleet([back]), T0 + 5 * 60_000, DEFAULT_RULES))).toEqual([]);
  });

  it('the late and offline findings of one silence have the same since, the last pull, and say the cadence', () => {
    const late = evaluate(fleet([steady]), T0 + 121_000, DEFAULT_RULES)[0]!;
    expect(late).toMatchObject({ criticality: 'warning', since: T0 });
    expect(late.summary).toBe("bouncer 'nginx' (crowdsec-nginx-bouncer) usually pulls every 10s but has been silent for 2m1s.");
    const off = evaluate(fleet([steady]), T0 + 11 * 60_000, DEFAULT_RULES)[0]!;
    expect(off).toMatchObject({ criticality: 'critical', since: T0 });
    expect(off.summary).toBe(
      "bouncer 'nginx' (crowdsec-nginx-bouncer) usually pulls every 10s but has not pulled decisions for 11m0s (last pull 2026-11-01T00:00:00Z): its remediation has stopped.",
    );
  });

  it('a 1 s cadence is not late before the 15 s floor; a slow cadence scales every threshold', () => {
    const fast = bouncer({ pullCadenceMs: 1_000 });
    expect(bouncerStatus(fast, T0 + 15_000, DEFAULT_RULES)).toBe('healthy');
    expect(bouncerStatus(fast, T0 + 15_001, DEFAULT_RULES)).toBe('late');
    // 6 × 1 s is under the 2 min floor: the issue waits for it.
    expect(kinds(evaluate(fleet([fast]), T0 + 120_000, DEFAULT_RULES))).toEqual([]);
    expect(kinds(evaluate(fleet([fast]), T0 + 120_001, DEFAULT_RULES))).toEqual(['integration_late:bouncer:nginx']);
    const slow = bouncer({ pullCadenceMs: 120_000 });
    expect(bouncerStatus(slow, T0 + 6 * 60_000, DEFAULT_RULES)).toBe('healthy');
    expect(bouncerStatus(slow, T0 + 6 * 60_000 + 1, DEFAULT_RULES)).toBe('late');
    expect(kinds(evaluate(fleet([slow]), T0 + 12 * 60_000, DEFAULT_RULES))).toEqual([]);
    expect(kinds(evaluate(fleet([slow]), T0 + 12 * 60_000 + 1, DEFAULT_RULES))).toEqual(['integration_late:bouncer:nginx']);
    expect(kinds(evaluate(fleet([slow]), T0 + 60 * 60_000, DEFAULT_RULES))).toEqual(['integration_late:bouncer:nginx']);
    expect(kinds(evaluate(fleet([slow]), T0 + 60 * 60_000 + 1, DEFAULT_RULES))).toEqual(['rc_integration_offline:bouncer:nginx']);
    // Cadence offline never comes later than offline_after.
    const hourly = bouncer({ pullCadenceMs: H });
    expect(kinds(evaluate(fleet([hourly]), T0 + 24 * H + 1, DEFAULT_RULES))).toEqual(['rc_integration_offline:bouncer:nginx', 'se_no_active_rc:fleet']);
  });

  it('live mode, HEAD-only key checks and usage reports count as life: no cadence, no false alarm', () => {
    const live = bouncer({ name: 'live', pullCadenceMs: null, lastPullAt: T0 });
    // An AppSec component checking its key with HEAD: never a pull, always a request.
    const appsec = bouncer({ id: 2, name: 'appsec', type: '', pullCadenceMs: null, lastPullAt: null, lastRequestAt: T0 + 30 * H });
    const reports = bouncer({ id: 3, name: 'reports', pullCadenceMs: null, lastPullAt: T0, lastUsageMetricsAt: T0 + 30 * H });
    const s = fleet([live, appsec, reports]);
    expect(kinds(evaluate(s, T0 + 23 * H, DEFAULT_RULES))).toEqual([]);
    expect(kinds(evaluate(s, T0 + 31 * H, DEFAULT_RULES))).toEqual(['rc_integration_offline:bouncer:live']);
    expect(bouncerStatus(appsec, T0 + 31 * H, DEFAULT_RULES)).toBe('healthy');
    expect(bouncerStatus(reports, T0 + 31 * H, DEFAULT_RULES)).toBe('healthy');
    expect(bouncerStatus(live, T0 + 23 * H, DEFAULT_RULES)).toBe('healthy');
  });

  it('a steady bouncer that stopped pulling but still reports is late, not offline', () => {
    const b = bouncer({ pullCadenceMs: 10_000, lastUsageMetricsAt: T0 + 20 * 60_000 });
    expect(kinds(evaluate(fleet([b]), T0 + 25 * 60_000, DEFAULT_RULES))).toEqual(['integration_late:bouncer:nginx']);
    expect(bouncerStatus(b, T0 + 25 * 60_000, DEFAULT_RULES)).toBe('late');
    // Silent in every way for 10 min more: offline.
    expect(kinds(evaluate(fleet([b]), T0 + 30 * 60_000 + 1, DEFAULT_RULES))).toEqual(['rc_integration_offline:bouncer:nginx']);
  });

  it("console mode: CrowdSec Console's 24 h alone, healthy until then", () => {
    const rules = { ...DEFAULT_RULES, mode: 'console' as const };
    expect(bouncerStatus(steady, T0 + 24 * H, rules)).toBe('healthy');
    expect(kinds(evaluate(fleet([steady]), T0 + 24 * H, rules))).toEqual([]);
    expect(kinds(evaluate(fleet([steady]), T0 + 24 * H + 1, rules))).toEqual(['rc_integration_offline:bouncer:nginx', 'se_no_active_rc:fleet']);
  });

  it('follows configured factors, and keeps status ≤ issue ≤ offline', () => {
    const rules = { ...DEFAULT_RULES, lateAfterFactor: 2, lateAfterMinMs: 0, offlineAfterFactor: 4, offlineAfterMinMs: 0 };
    // Issue at 2 × 10 s: the status is late no later than that.
    expect(bouncerStatus(steady, T0 + 20_000, rules)).toBe('healthy');
    expect(bouncerStatus(steady, T0 + 20_001, rules)).toBe('late');
    expect(kinds(evaluate(fleet([steady]), T0 + 20_001, rules))).toEqual(['integration_late:bouncer:nginx']);
    expect(kinds(evaluate(fleet([steady]), T0 + 40_001, rules))).toEqual(['rc_integration_offline:bouncer:nginx']);
  });
});

describe('evaluate: likely causes from evidence', () => {
  const now = T0 + 25 * H;

  it('raises fail-open when its IP and User-Agent were refused since its last success (fail-open.ts)', () => {
    const s = fleet([bouncer()], { refused: [refused({}), refused({ at: T0 + 2 * H }), refused({ at: T0 - H })] });
    const [f] = evaluate(s, now, DEFAULT_RULES);
    expect(f!.causes[0]).toMatchObject({ cause: 'fail_open', confidence: 'high' });
    expect(f!.causes[0]!.evidence[0]).toMatch(/^2 request\(s\) refused since 2026-11-01T01:00:00Z/);
    expect(f!.causes[0]!.evidence.join('\n')).toContain('every refused request carried the same key, fingerprint aaaa');
    // The authentication cause would say the same again: fail-open replaces it.
    expect(f!.causes.map((c) => c.cause)).not.toContain('authentication');
  });

  it('raises fail-open with certainty when its own key was refused', () => {
    const s = fleet([bouncer({ ipAddress: '', type: '' })], { refused: [refused({ reason: 'revoked', bouncerName: 'nginx', peerIp: '10.9.9.9' })] });
    const [f] = evaluate(s, now, DEFAULT_RULES);
    expect(f!.causes[0]).toMatchObject({ cause: 'fail_open', confidence: 'high' });
    expect(f!.causes[0]!.evidence.join('\n')).toContain('revoked');
  });

  it('blames the API URL when its requests hit wrong paths', () => {
    const s = fleet([bouncer()], { refused: [refused({ reason: 'wrong-path', path: '//v1/decisions/stream', keyFingerprint: '' })] });
    const [f] = evaluate(s, now, DEFAULT_RULES);
    expect(f!.causes[0]!.cause).toBe('configuration');
    expect(f!.causes[0]!.evidence.join('\n')).toContain('//v1/decisions/stream');
    expect(f!.causes[0]!.evidence.join('\n')).toContain('api_url');
  });

  it('attributes by User-Agent only when a single bouncer has it', () => {
    const a = bouncer({ id: 1, name: 'a', ipAddress: '10.0.0.1' });
    const b = bouncer({ id: 2, name: 'b', ipAddress: '10.0.0.2' });
    const fromElsewhere = refused({ peerIp: '10.0.0.77' });
    expect(
      evaluate(fleet([a, b], { refused: [fromElsewhere] }), now, DEFAULT_RULES)
        .filter((f) => f.bouncerName)
        .map((f) => f.causes[0]!.cause),
    ).toEqual(['stopped_or_network', 'stopped_or_network']);
    const [only] = evaluate(fleet([a], { refused: [fromElsewhere] }), now, DEFAULT_RULES);
    expect(only!.causes[0]).toMatchObject({ cause: 'authentication', confidence: 'medium' });
  });

  it('ignores refusals from other addresses and agents', () => {
    const s = fleet([bouncer()], { refused: [refused({ peerIp: '10.0.0.99', userAgent: 'curl/8' })] });
    const [f] = evaluate(s, now, DEFAULT_RULES);
    expect(f!.causes.map((c) => c.cause)).toEqual(['stopped_or_network']);
    expect(f!.causes[0]!.evidence[0]).toContain(
      'nothing with its key or its User-Agent crowdsec-nginx-bouncer/v1.0.8 has arrived since 2026-11-01T00:00:00Z, and nothing was refused from its address 10.0.0.5',
    );
  });

  it('on a shared host, speaks of its own traffic and says the others on its address kept pulling', () => {
    const dead = bouncer({ name: 'custom', type: 'crowdsec-custom-bouncer', version: '-', ipAddress: '127.0.0.1' });
    const fw = bouncer({
      id: 2,
      name: 'fw',
      type: 'crowdsec-firewall-bouncer',
      version: '-',
      ipAddress: '127.0.0.1',
      kind: 'firewall',
      lastPullAt: now - 5000,
    });
    const fa = bouncer({ id: 3, name: 'forward-auth', type: 'vigil-bouncer', version: '1', ipAddress: '127.0.0.1', lastPullAt: now - 3000 });
    const [f] = evaluate(fleet([dead, fw, fa]), now, DEFAULT_RULES);
    expect(f!.bouncerName).toBe('custom');
    const evidence = f!.causes[0]!.evidence;
    expect(evidence.join('\n')).not.toContain('nothing at all has arrived from 127.0.0.1');
    expect(evidence[0]).toContain('nothing with its key or its User-Agent crowdsec-custom-bouncer/- has arrived since');
    expect(evidence[1]).toBe(
      `other bouncers on 127.0.0.1 kept pulling (last: 'forward-auth' at ${new Date(now - 3000).toISOString().replace('.000', '')}, 'fw' at ${new Date(now - 5000).toISOString().replace('.000', '')}): the host and the network are up, so this bouncer's own process is the likely fault`,
    );
    // Alone on its address, nothing more is said.
    const [alone] = evaluate(fleet([dead]), now, DEFAULT_RULES);
    expect(alone!.causes[0]!.evidence.join('\n')).not.toContain('kept pulling');
  });

  it('blames a LAPI restart that came right after the last pull', () => {
    const s = fleet([bouncer({ pullCadenceMs: 10_000 })], { lapiStarts: [T0 + 30_000, T0 - 5 * H] });
    const [f] = evaluate(s, now, DEFAULT_RULES);
    expect(f!.causes[0]).toMatchObject({ cause: 'lapi_restart', confidence: 'high' });
    expect(f!.causes[1]!.cause).toBe('stopped_or_network');
    const late = fleet([bouncer()], { lapiStarts: [T0 + 3 * H] });
    expect(evaluate(late, now, DEFAULT_RULES)[0]!.causes.map((c) => c.cause)).toEqual(['stopped_or_network']);
  });

  it('notes an IP or version change just before the silence', () => {
    const s = fleet([bouncer()], { bouncerChanges: [{ bouncerId: 1, at: T0 - 10 * 60_000, field: 'ip', oldValue: '10.0.0.4', newValue: '10.0.0.5' }] });
    const [f] = evaluate(s, now, DEFAULT_RULES);
    // A live-mode bouncer with neither reports nor a learnt rhythm: a canary is suggested (live-rhythm.ts).
    expect(f!.notes).toEqual([expect.stringContaining("IP address changed from '10.0.0.4' to '10.0.0.5'"), expect.stringContaining('canary')]);
  });

  it('says when a steady bouncer still sends non-pull requests: late, never offline while it talks', () => {
    const b = bouncer({ pullCadenceMs: 10_000, lastRequestAt: T0 + 50 * 60_000 });
    const [f] = evaluate(fleet([b]), T0 + 55 * 60_000, DEFAULT_RULES);
    expect(f!.kind).toBe('integration_late');
    expect(f!.since).toBe(T0);
    expect(f!.causes[0]!.evidence[0]).toContain('still makes requests that are not pulls');
    expect(bouncerStatus(b, T0 + 55 * 60_000, DEFAULT_RULES)).toBe('late');
  });
});

describe('evaluate: refused-request summaries', () => {
  const now = T0 + 25 * H;
  const summary = (over: Partial<import('../model/records.ts').RefusedSummary>) => ({
    peerIp: '10.0.0.5',
    userAgent: 'crowdsec-nginx-bouncer/v1.0.8',
    reason: 'unknown',
    keyFingerprint: 'aaaa',
    severalKeys: false,
    bouncerName: '',
    method: 'GET',
    path: '/v1/decisions',
    firstAt: T0 + H,
    lastAt: T0 + 20 * H,
    count: 8000,
    ...over,
  });

  it('reads summaries like requests: counted, with the same-key note only when one key came', () => {
    const [f] = evaluate(fleet([bouncer()], { refusedSummaries: [summary({})] }), now, DEFAULT_RULES);
    expect(f!.causes[0]).toMatchObject({ cause: 'fail_open', confidence: 'high' });
    expect(f!.causes[0]!.evidence[0]).toMatch(/^8000 request\(s\) refused/);
    expect(f!.causes[0]!.evidence.join('\n')).toContain('every refused request carried the same key');
    const [many] = evaluate(fleet([bouncer()], { refusedSummaries: [summary({ severalKeys: true })] }), now, DEFAULT_RULES);
    expect(many!.causes[0]!.evidence.join('\n')).not.toContain('same key');
    // Last seen before the silence began: not evidence of it.
    const [old] = evaluate(fleet([bouncer({ lastPullAt: T0 + 21 * H })], { refusedSummaries: [summary({})] }), T0 + 46 * H, DEFAULT_RULES);
    expect(old!.causes.map((c) => c.cause)).toEqual(['stopped_or_network']);
  });

  it('blames its configuration with certainty when its own key went to a wrong path, from anywhere', () => {
    const s = fleet([bouncer(), bouncer({ id: 2, name: 'other', ipAddress: '10.0.0.9', lastPullAt: T0 + 24 * H })], {
      refusedSummaries: [summary({ reason: 'wrong-path', path: '//v1/decisions', bouncerName: 'nginx', peerIp: '10.0.0.9', userAgent: 'curl/8.5.0' })],
    });
    const [f] = evaluate(s, now, DEFAULT_RULES);
    expect(f!.causes[0]).toMatchObject({ cause: 'configuration', confidence: 'high' });
    expect(f!.causes[0]!.evidence[0]).toBe('they carried its own key');
  });

  it("does not blame a bouncer for another bouncer's own key refused from its address", () => {
    const s = fleet([bouncer(), bouncer({ id: 2, name: 'fw', type: 'crowdsec-firewall-bouncer', lastPullAt: T0 + 24 * H })], {
      refusedSummaries: [summary({ reason: 'revoked', bouncerName: 'fw' })],
    });
    const [f] = evaluate(s, now, DEFAULT_RULES);
    expect(f!.causes.map((c) => c.cause)).toEqual(['stopped_or_network']);
  });
});

describe('evaluateInSlices', () => {
  it('finds what evaluate finds, pausing between slices of bouncers', () => {
    const many = Array.from({ length: 2345 }, (_, i) =>
      bouncer({ id: i + 1, name: `b${i}`, ipAddress: `10.1.${i >> 8}.${i & 255}`, lastPullAt: i % 7 === 0 ? T0 : T0 + 24 * H }),
    );
    const s = fleet(many, { refused: [refused({ peerIp: '10.1.0.7', at: T0 + 2 * H })] });
    const now = T0 + 24 * H + 1000;
    const { value: findings, pauses } = runCountingPauses(evaluateInSlices(s, now, DEFAULT_RULES, 500));
    // Two grouping passes, then one pause per 500 bouncers judged.
    expect(pauses).toBe(2 + Math.floor(2345 / 500));
    expect(findings).toEqual(evaluate(s, now, DEFAULT_RULES));
    expect(findings.filter((f) => f.kind === 'rc_integration_offline')).toHaveLength(Math.ceil(2345 / 7));
  });
});

describe('a probe of the key (issue 24): evidence, never life', () => {
  it('a dead steady bouncer probed by vigil doctor stays offline, and the top cause names the probe', () => {
    const probedAt = T0 + 20 * 60_000;
    const b = bouncer({
      pullCadenceMs: 10_000,
      lastProbe: { at: probedAt, userAgent: 'vigil-doctor/0.9.0', peerIp: '127.0.0.1', method: 'HEAD', path: '/v1/decisions' },
    });
    const [f] = evaluate(fleet([b]), probedAt + 10_000, DEFAULT_RULES);
    expect([f!.kind, f!.criticality]).toEqual(['rc_integration_offline', 'critical']);
    expect(f!.causes[0]!.evidence.at(-1)).toBe(
      'key accepted at 2026-11-01T00:20:00Z, from vigil doctor (HEAD /v1/decisions from 127.0.0.1): a check by a person or a tool, not a sign of life',
    );
    // A probe from before the silence says nothing about it.
    const old = bouncer({ ...b, lastProbe: { ...b.lastProbe!, at: T0 - 1000 } });
    expect(JSON.stringify(evaluate(fleet([old]), probedAt + 10_000, DEFAULT_RULES))).not.toContain('key accepted');
  });
});
