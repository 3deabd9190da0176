import { describe, expect, it } from 'vitest';
import type { Decision } from '../model/records.ts';
import {
  canaryFinding,
  canaryOutcome,
  driftFinding,
  driftObservation,
  expectedActiveDecisions,
  reportedActiveDecisions,
  type CanaryRun,
  type DriftObservation,
} from './enforcement.ts';
import { causeText } from './causes.ts';
import { passedCanaryRun } from '../../../test/support/health-issues.ts';

const T0 = Date.UTC(2026, 0, 1);

const run = (over: Partial<CanaryRun>): CanaryRun => passedCanaryRun(T0, over);

const served = (startedAt: number) =>
  run({
    startedAt,
    verdict: 'fail',
    failedStep: 'check',
    answerStatus: 200,
    summary: 'still serves',
    steps: [{ step: 'check', ok: false, ms: 2000, detail: 'GET http://127.0.0.1:8088/ as 192.0.2.44 → 200' }],
  });

describe('canary runs → remediation_not_enforced', () => {
  it('classifies runs: pass and a pass whose removal failed prove enforcement; wait/check disprove it; baseline/add/aborted prove nothing', () => {
    expect(canaryOutcome({ verdict: 'pass', failedStep: null })).toBe('enforced');
    expect(canaryOutcome({ verdict: 'fail', failedStep: 'remove' })).toBe('enforced');
    expect(canaryOutcome({ verdict: 'fail', failedStep: 'check' })).toBe('not_enforced');
    expect(canaryOutcome({ verdict: 'fail', failedStep: 'wait' })).toBe('not_enforced');
    expect(canaryOutcome({ verdict: 'fail', failedStep: 'baseline' })).toBe('inconclusive');
    expect(canaryOutcome({ verdict: 'fail', failedStep: 'add' })).toBe('inconclusive');
    expect(canaryOutcome({ verdict: 'aborted', failedStep: null })).toBe('inconclusive');
  });

  it('pulled but served: Critical, the check step named, integration first, since the first failed run after the last pass', () => {
    const f = canaryFinding({
      name: 'shop',
      bouncerName: 'nginx-fa',
      via: 'x-forwarded-for',
      runs: [served(T0 + 20_000), served(T0 + 10_000), run({ startedAt: T0 })],
    })!;
    expect(f).toMatchObject({ kind: 'remediation_not_enforced', criticality: 'critical', subject: 'canary:shop', bouncerName: 'nginx-fa', since: T0 + 10_000 });
    expect(f.summary).toContain('step check failed');
    expect(f.causes.map((c) => c.cause)).toEqual(['integration_not_loaded', 'client_address_not_passed']);
    expect(f.causes[0]!.evidence.join('\n')).toContain('pulled 400ms after the test decision');
    expect(f.notes[0]).toMatch(/^2 failed run\(s\) in a row/);
  });

  it('via source: no proxy header involved, so the integration is the likely cause with high confidence', () => {
    const f = canaryFinding({ name: 'shop', bouncerName: 'b', via: 'source', runs: [served(T0)] })!;
    expect(f.causes[0]).toMatchObject({ cause: 'integration_not_loaded', confidence: 'high' });
  });

  it('no pull since the decision: the bouncer is offline', () => {
    const f = canaryFinding({
      name: 'shop',
      bouncerName: 'b',
      via: 'x-forwarded-for',
      runs: [run({ verdict: 'fail', failedStep: 'wait', pulledAfterMs: null, answerStatus: 200 })],
    })!;
    expect(f.causes.map((c) => c.cause)).toEqual(['decision_not_pulled']);
    expect(causeText(f.causes[0]!.cause)).toContain('RC Integration Offline');
  });

  it('a pass resolves it; an inconclusive run after a failure keeps it open; nothing run, nothing raised', () => {
    expect(canaryFinding({ name: 's', bouncerName: 'b', via: 'x-forwarded-for', runs: [run({}), served(T0 - 1)] })).toBeNull();
    const baseline = run({ verdict: 'fail', failedStep: 'baseline', answerStatus: null });
    expect(canaryFinding({ name: 's', bouncerName: 'b', via: 'x-forwarded-for', runs: [baseline, served(T0 - 1)] })).not.toBeNull();
    expect(canaryFinding({ name: 's', bouncerName: 'b', via: 'x-forwarded-for', runs: [baseline] })).toBeNull();
    expect(canaryFinding({ name: 's', bouncerName: 'b', via: 'x-forwarded-for', runs: [] })).toBeNull();
  });
});

let nextId = 1;
const decision = (origin: string, value: string, over: Partial<Decision> = {}): Decision =>
  ({
    id: nextId++,
    alertId: null,
    origin,
    type: 'ban',
    scope: 'Ip',
    value,
    scenario: 'manual',
    createdAt: T0,
    until: T0 + 3600_000,
    deletedAt: null,
    simulated: false,
    ...over,
  }) as unknown as Decision;

describe('drift', () => {
  const active = [
    decision('crowdsec', '198.51.100.1'),
    decision('crowdsec', '198.51.100.2'),
    decision('cscli', '198.51.100.3'),
    decision('cscli', '198.51.100.4'),
    decision('cscli', '198.51.100.5'),
    decision('lists', '198.51.100.6', { scenario: 'firehol' }),
    decision('cscli', 'FR', { scope: 'Country' }),
    decision('cscli', '198.51.100.7', { simulated: true }),
    // A shorter duplicate of the same (value, type, scope): dedup sends only the longest.
    decision('cscli', '198.51.100.1', { until: T0 + 60_000 }),
  ];

  it("what the Local API sends follows the bouncer's filters: scopes, origins, dedup, no simulated, blocklists as lists:<name>", () => {
    expect(Object.fromEntries(expectedActiveDecisions(active, { scopes: ['ip', 'range'], dedup: true }))).toEqual({
      crowdsec: 2,
      cscli: 3,
      'lists:firehol': 1,
    });
    expect(Object.fromEntries(expectedActiveDecisions(active, { scopes: ['ip', 'range'], dedup: false }))).toEqual({
      crowdsec: 2,
      cscli: 4,
      'lists:firehol': 1,
    });
    expect(Object.fromEntries(expectedActiveDecisions(active, { scopes: ['ip', 'range'], origins: ['crowdsec'], dedup: true }))).toEqual({ crowdsec: 2 });
  });

  it("a usage report's active_decisions, summed over ip_type per origin, from its latest window", () => {
    const report = {
      metrics: [
        { items: [{ name: 'active_decisions', value: 9, unit: 'ip', labels: { origin: 'crowdsec', ip_type: 'ipv4' } }] },
        {
          items: [
            { name: 'processed', value: 100, unit: 'request', labels: { ip_type: 'ipv4' } },
            { name: 'active_decisions', value: 2, unit: 'ip', labels: { origin: 'crowdsec', ip_type: 'ipv4' } },
            { name: 'active_decisions', value: 1, unit: 'ip', labels: { origin: 'crowdsec', ip_type: 'ipv6' } },
          ],
        },
      ],
    };
    expect(Object.fromEntries(reportedActiveDecisions(report)!)).toEqual({ crowdsec: 3 });
    expect(reportedActiveDecisions({ metrics: [{ items: [{ name: 'processed', value: 1 }] }] })).toBeNull();
    expect(reportedActiveDecisions({})).toBeNull();
  });

  const obs = (reportAt: number, reported: Record<string, number>, expected: Record<string, number>, askedOrigins?: string[]): DriftObservation =>
    driftObservation({ id: 1, name: 'fw' }, reportAt, new Map(Object.entries(reported)), new Map(Object.entries(expected)), askedOrigins);

  it('two reports in a row that disagree raise it (High) with the numbers and the origin it holds none of; one alone does not', () => {
    const bad = (t: number) => obs(t, { crowdsec: 40 }, { crowdsec: 40, cscli: 25 });
    expect(driftFinding([bad(T0)])).toBeNull();
    const f = driftFinding([bad(T0 + 60_000), bad(T0)])!;
    expect(f).toMatchObject({ kind: 'remediation_drift', criticality: 'high', subject: 'bouncer:fw', since: T0 });
    expect(f.summary).toBe("bouncer 'fw' reports 40 active decisions, the Local API holds 65 for its scopes (none of origin cscli)");
    expect(f.causes[0]!.cause).toBe('origins_dropped');
    expect(f.causes[0]!.evidence).toContain('cscli: reports 0, sent 25');
  });

  it("an origin the bouncer's own filter leaves out is drift too, blamed on the filter; blocklists count as lists", () => {
    const filtered = (t: number) => obs(t, { crowdsec: 40 }, { crowdsec: 40, cscli: 25, 'lists:firehol': 3 }, ['crowdsec', 'lists']);
    expect(filtered(T0).byOrigin).toEqual({
      crowdsec: { reported: 40, expected: 40 },
      cscli: { reported: 0, expected: 25, filtered: true },
      'lists:firehol': { reported: 0, expected: 3 },
    });
    const f = driftFinding([filtered(T0 + 60_000), filtered(T0)])!;
    // lists:firehol is asked for and missing: that loss comes first; the filter is the cause once nothing else is lost.
    expect(f.causes[0]!.cause).toBe('origins_dropped');
    const onlyFiltered = (t: number) => obs(t, { crowdsec: 40 }, { crowdsec: 40, cscli: 25 }, ['crowdsec']);
    const g = driftFinding([onlyFiltered(T0 + 60_000), onlyFiltered(T0)])!;
    expect(g.summary).toBe("bouncer 'fw' reports 40 active decisions, the Local API holds 65 for its scopes (its origins filter leaves out cscli (25))");
    expect(g.causes[0]).toMatchObject({ cause: 'origins_filtered', confidence: 'high' });
  });

  it('agreement resolves it; a gap within the tolerance (decisions that came or went between report and check) is not drift', () => {
    const bad = (t: number) => obs(t, { crowdsec: 10 }, { crowdsec: 30 });
    expect(driftFinding([obs(T0 + 2, { crowdsec: 30 }, { crowdsec: 30 }), bad(T0 + 1), bad(T0)])).toBeNull();
    expect(driftFinding([obs(T0 + 1, { crowdsec: 1000 }, { crowdsec: 1002 }), obs(T0, { crowdsec: 1000 }, { crowdsec: 1002 })])).toBeNull();
    const fewer = driftFinding([bad(T0 + 1), bad(T0)])!;
    expect(fewer.causes[0]!.cause).toBe('decisions_missing');
  });
});
