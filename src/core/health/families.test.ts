import { describe, expect, it } from 'vitest';
import { DEFAULT_RULES, evaluate } from './evaluate.ts';
import type { BouncerHealthInput, FleetSnapshot } from './types.ts';

/** Shared keys (NAME@IP rows, docs/reference/crowdsec-1.6-1.7.md §1) in the pure evaluator. */
const T0 = Date.UTC(2026, 10, 1, 0, 0, 0);
const H = 3600_000;

function row(id: number, name: string, over: Partial<BouncerHealthInput> = {}): BouncerHealthInput {
  return {
    id,
    name,
    type: 'crowdsec-firewall-bouncer',
    version: 'v0.0.34',
    ipAddress: '',
    kind: 'firewall',
    revoked: false,
    createdAt: T0,
    lastPullAt: null,
    lastRequestAt: null,
    pullCadenceMs: 10_000,
    lastUsageMetricsAt: null,
    autoCreated: name.includes('@'),
    ...over,
  };
}
const fleet = (bouncers: BouncerHealthInput[]): FleetSnapshot => ({ bouncers, refused: [], lapiStarts: [], bouncerChanges: [] });

describe('families of a shared key', () => {
  const now = T0 + 2 * H;
  it('one instance stops while its siblings pull: the issue is that instance’s, and the cause says so', () => {
    const f = evaluate(
      fleet([
        row(1, 'fw', { ipAddress: '10.0.0.1', lastPullAt: T0 + H, lastRequestAt: T0 + H }),
        row(2, 'fw@10.0.0.2', { ipAddress: '10.0.0.2', lastPullAt: now - 5000, lastRequestAt: now - 5000 }),
      ]),
      now,
      DEFAULT_RULES,
    );
    // Silent for an hour at a 10 s cadence: offline (Critical) by its cadence, long before 24 h.
    expect(f.map((x) => [x.kind, x.subject])).toEqual([['fw_integration_offline', 'bouncer:fw']]);
    expect(f[0]!.causes[0]).toMatchObject({ cause: 'instance_stopped', confidence: 'high' });
    expect(f[0]!.causes[0]!.evidence[0]).toBe(
      'the key still pulls from 10.0.0.2 as fw@10.0.0.2 (last pull 2026-11-01T01:59:55Z): this instance, last seen from 10.0.0.1, stopped — a pod replaced or its address changed',
    );
    expect(f[0]!.causes[0]!.evidence[1]).toContain('vigil bouncers prune');
  });

  it('a child that stopped, while the parent pulls, is raised alone (offline after 24 h)', () => {
    const later = T0 + 30 * H;
    const f = evaluate(
      fleet([
        row(1, 'fw', { ipAddress: '10.0.0.1', lastPullAt: later - 1000 }),
        row(2, 'fw@10.0.0.2', { ipAddress: '10.0.0.2', lastPullAt: T0 + H }),
        row(3, 'fw@10.0.0.3', { ipAddress: '10.0.0.3', lastPullAt: later - 2000 }),
      ]),
      later,
      DEFAULT_RULES,
    );
    expect(f.map((x) => [x.kind, x.subject])).toEqual([['fw_integration_offline', 'bouncer:fw@10.0.0.2']]);
    expect(f[0]!.causes[0]!.evidence[0]).toMatch(/^the key still pulls from 10\.0\.0\.1 as fw, 10\.0\.0\.3 as fw@10\.0\.0\.3/);
  });

  it('no "never pulled" for a parent whose key is pulled only by its children', () => {
    const later = T0 + 30 * H;
    const f = evaluate(fleet([row(1, 'fw'), row(2, 'fw@10.0.0.2', { ipAddress: '10.0.0.2', lastPullAt: later - 1000 })]), later, DEFAULT_RULES);
    expect(f).toEqual([]);
    // Without a child that pulls, it is what it was: registered and never pulled.
    const alone = evaluate(fleet([row(1, 'fw')]), later, DEFAULT_RULES);
    expect(alone.filter((x) => x.subject === 'bouncer:fw').map((x) => x.causes[0]!.cause)).toEqual(['never_pulled']);
  });

  it('every instance silent: each is raised with the usual causes, no family cause', () => {
    const later = T0 + 30 * H;
    const f = evaluate(
      fleet([row(1, 'fw', { ipAddress: '10.0.0.1', lastPullAt: T0 + H }), row(2, 'fw@10.0.0.2', { ipAddress: '10.0.0.2', lastPullAt: T0 + H })]),
      later,
      DEFAULT_RULES,
    );
    expect(f.filter((x) => x.subject.startsWith('bouncer:')).map((x) => x.subject)).toEqual(['bouncer:fw', 'bouncer:fw@10.0.0.2']);
    for (const x of f) for (const c of x.causes) expect(c.cause).not.toBe('instance_stopped');
  });

  it('an operator-made name with @ is not a family member', () => {
    const f = evaluate(
      fleet([
        row(1, 'web', { ipAddress: '10.0.0.1', lastPullAt: T0 + H, autoCreated: false }),
        row(2, 'web@dc2', { ipAddress: '10.0.0.2', lastPullAt: T0 + 2 * H - 1000, autoCreated: false }),
      ]),
      T0 + 2 * H,
      DEFAULT_RULES,
    );
    expect(f[0]!.causes.map((c) => c.cause)).not.toContain('instance_stopped');
  });

  it('issue 27: instances of a leaked key that pulled for minutes and stopped raise nothing while the key still pulls', () => {
    const later = T0 + 2 * H;
    const rows = [row(1, 'fw', { ipAddress: '10.0.0.1', lastPullAt: later - 1000 })];
    // 100 addresses that pulled for 2 minutes an hour ago, then stopped.
    for (let i = 0; i < 100; i++)
      rows.push(row(2 + i, `fw@10.1.0.${i}`, { ipAddress: `10.1.0.${i}`, createdAt: T0 + H, lastPullAt: T0 + H + 120_000, lastRequestAt: T0 + H + 120_000 }));
    expect(evaluate(fleet(rows), later, DEFAULT_RULES).filter((x) => x.subject.startsWith('bouncer:'))).toEqual([]);
    // The whole key silent, all 101 rows within the same minutes: one Fleet Silent issue holds them
    // (fleet-silence.ts), never 101 pages.
    const silent = rows.map((r) => (r.id === 1 ? { ...r, lastPullAt: T0 + H } : r));
    const f = evaluate(fleet(silent), later, DEFAULT_RULES);
    expect(f.filter((x) => x.subject.startsWith('bouncer:'))).toEqual([]);
    expect(f.map((x) => x.kind)).toEqual(['fleet_silent']);
  });

  it('a DaemonSet of 10,000 pods on one key: one stopped pod is raised, naming three of the 9,999 that pull and the count of the rest', () => {
    const rows = [row(1, 'ds', { ipAddress: '10.9.0.1', lastPullAt: T0 + 2 * H })];
    for (let i = 2; i <= 10_000; i++) {
      const ip = `10.9.${i >> 8}.${i & 255}`;
      rows.push(row(i, `ds@${ip}`, { ipAddress: ip, lastPullAt: i === 5000 ? T0 + H : T0 + 2 * H - 1000 - (i % 9000), lastRequestAt: null }));
    }
    const f = evaluate(fleet(rows), T0 + 2 * H, DEFAULT_RULES).filter((x) => x.subject.startsWith('bouncer:'));
    expect(f.map((x) => x.subject)).toEqual(['bouncer:ds@10.9.19.136']);
    expect(f[0]!.causes[0]!.evidence[0]).toMatch(/^the key still pulls from 10\.9\.0\.1 as ds, .* and 9996 more \(last pull 2026-11-01T02:00:00Z\)/);
  });
});
