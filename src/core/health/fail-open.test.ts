import { describe, expect, it } from 'vitest';
import { DEFAULT_RULES, evaluate } from './evaluate.ts';
import { DEFAULT_FAIL_OPEN_AFTER_MS } from './fail-open.ts';
import type { BouncerHealthInput, FleetSnapshot } from './types.ts';
import type { RefusedSummary } from '../model/records.ts';
import { bouncerBuilder, fleetSnapshot } from '../../../test/support/health-inputs.ts';

/** Fail-open (issue 25 item 2) through the real evaluator, across its exact boundaries. */
const T = Date.UTC(2026, 11, 7, 9, 0, 0);
const S = 1000;

const bouncer = bouncerBuilder(
  { name: 'shop', type: 'nodejs-cs-bouncer', version: 'v0.2.0', ipAddress: '10.0.0.5' },
  { createdAt: T - 30 * 24 * 3600_000, lastPullAt: T - 30 * S, lastRequestAt: T },
);
function refusal(over: Partial<RefusedSummary> = {}): RefusedSummary {
  return {
    peerIp: '10.0.0.5',
    userAgent: 'nodejs-cs-bouncer/v0.2.0',
    reason: 'unknown',
    keyFingerprint: 'f00dfeed',
    severalKeys: false,
    bouncerName: '',
    method: 'GET',
    path: '/v1/decisions',
    firstAt: T + S,
    lastAt: T + 60 * S,
    count: 240,
    ...over,
  };
}
const fleet = (bouncers: BouncerHealthInput[], refusedSummaries: RefusedSummary[], over: Partial<FleetSnapshot> = {}) =>
  fleetSnapshot({ bouncers, refusedSummaries, ...over });
const at = (f: ReturnType<typeof evaluate>) => f.map((x) => `${x.kind}/${x.criticality}/${x.causes[0]?.cause}`);

describe('fail-open: refused, nothing succeeding', () => {
  it('is Critical once refused since its last success with nothing succeeding for fail_open_after, not a millisecond before', () => {
    expect(DEFAULT_FAIL_OPEN_AFTER_MS).toBe(60_000);
    // Last success at T, refused from T+1s: Critical at T+60s.
    expect(evaluate(fleet([bouncer()], [refusal()]), T + 60 * S - 1, DEFAULT_RULES)).toEqual([]);
    const [f, ...rest] = evaluate(fleet([bouncer()], [refusal()]), T + 60 * S, DEFAULT_RULES);
    expect(rest).toEqual([]);
    expect(f).toMatchObject({ kind: 'rc_integration_offline', criticality: 'critical', subject: 'bouncer:shop', since: T });
    expect(f!.summary).toContain('failing open');
    expect(f!.causes[0]).toMatchObject({ cause: 'fail_open', confidence: 'high' });
    const evidence = f!.causes[0]!.evidence.join('\n');
    expect(evidence).toContain('240 request(s) refused since 2026-12-07T09:00:01Z');
    expect(evidence).toContain('fingerprint f00dfeed');
    expect(evidence).toContain('a key the Local API does not know');
  });

  it('resolves when one of its requests succeeds again', () => {
    const s = fleet([bouncer({ lastRequestAt: T + 61 * S })], [refusal()]);
    expect(evaluate(s, T + 62 * S, DEFAULT_RULES)).toEqual([]);
  });

  it('counts from the last success when the summary began before it (an old row from the same address and agent)', () => {
    const s = fleet([bouncer()], [refusal({ firstAt: T - 3 * 24 * 3600_000, lastAt: T + 90 * S, count: 9000 })]);
    const [f] = evaluate(s, T + 90 * S, DEFAULT_RULES);
    expect(f!.since).toBe(T);
    expect(f!.causes[0]!.evidence[0]).toContain('since at least 2026-12-07T09:00:00Z');
  });

  it('in stream mode opens Critical directly, before the late Warning would', () => {
    // A 10 s stream bouncer: last pull T, refused every 10 s from T+10s; Integration Late would be at T+60s.
    const b = bouncer({ type: 'crowdsec-firewall-bouncer', kind: 'firewall', pullCadenceMs: 10_000, lastPullAt: T, lastRequestAt: T });
    const r = refusal({ userAgent: 'crowdsec-firewall-bouncer/v0.0.25', path: '/v1/decisions/stream', firstAt: T + 10 * S, lastAt: T + 60 * S, count: 6 });
    expect(at(evaluate(fleet([b], [r]), T + 70 * S, DEFAULT_RULES))).toEqual(['fw_integration_offline/critical/fail_open']);
  });

  it('a bouncer that gave up after one refused pull (crowdsec-custom-bouncer 0.0.15 never retries) is Critical a minute after its last success', () => {
    const b = bouncer({ type: 'crowdsec-custom-bouncer', kind: 'remediation', pullCadenceMs: 10_000, lastPullAt: T, lastRequestAt: T });
    const r = refusal({ userAgent: 'crowdsec-custom-bouncer/v0.0.15', path: '/v1/decisions/stream', firstAt: T + 10 * S, lastAt: T + 10 * S, count: 1 });
    expect(evaluate(fleet([b], [r]), T + 60 * S - 1, DEFAULT_RULES)).toEqual([]);
    expect(at(evaluate(fleet([b], [r]), T + 60 * S, DEFAULT_RULES))).toEqual(['rc_integration_offline/critical/fail_open']);
  });

  it('never pages on low or medium confidence: a shared address and product, an address alone, a User-Agent from elsewhere', () => {
    const twin = bouncer({ id: 2, name: 'shop-2' });
    expect(evaluate(fleet([bouncer(), twin], [refusal({ lastAt: T + 300 * S })]), T + 300 * S, DEFAULT_RULES)).toEqual([]);
    // No User-Agent: the address alone.
    expect(evaluate(fleet([bouncer()], [refusal({ userAgent: '', lastAt: T + 300 * S })]), T + 300 * S, DEFAULT_RULES)).toEqual([]);
    // Its User-Agent from another address (a flood that copies it).
    expect(
      evaluate(fleet([bouncer()], [refusal({ peerIp: '203.0.113.9', lastAt: T + 300 * S, count: 100_000, severalKeys: true })]), T + 300 * S, DEFAULT_RULES),
    ).toEqual([]);
    // Another product from its address (curl on the same host).
    expect(evaluate(fleet([bouncer()], [refusal({ userAgent: 'curl/8.5.0', lastAt: T + 300 * S })]), T + 300 * S, DEFAULT_RULES)).toEqual([]);
  });

  it('a revoked bouncer is revoked, not failing open', () => {
    const s = fleet(
      [bouncer({ revoked: true }), bouncer({ id: 2, name: 'other', ipAddress: '10.0.0.6', lastRequestAt: T + 300 * S })],
      [refusal({ reason: 'revoked', bouncerName: 'shop', lastAt: T + 300 * S })],
    );
    expect(evaluate(s, T + 300 * S, DEFAULT_RULES)).toEqual([]);
  });

  it('names a refused client certificate, and keeps to the Console rules in console mode', () => {
    const s = fleet([bouncer()], [refusal({ reason: 'tls:unknown-ca', keyFingerprint: '', lastAt: T + 120 * S })]);
    const [f] = evaluate(s, T + 120 * S, DEFAULT_RULES);
    expect(f!.causes[0]!.evidence.join('\n')).toContain('a client certificate the Local API refused (unknown-ca)');
    expect(evaluate(s, T + 120 * S, { ...DEFAULT_RULES, mode: 'console' })).toEqual([]);
  });

  it('takes a shorter fail_open_after from the rules', () => {
    const s = fleet([bouncer()], [refusal({ lastAt: T + 5 * S })]);
    expect(evaluate(s, T + 6 * S, DEFAULT_RULES)).toEqual([]);
    expect(at(evaluate(s, T + 6 * S, { ...DEFAULT_RULES, failOpenAfterMs: 5000 }))).toEqual(['rc_integration_offline/critical/fail_open']);
  });
});
