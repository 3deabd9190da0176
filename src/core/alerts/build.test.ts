import { describe, expect, it } from 'vitest';
import { runToEnd } from '../../lib/turns.ts';
import { BUILD_SLICE, buildAlerts } from './build.ts';
import { ALERT_TEXT_LIMITS, parseAlertsPayload, type IncomingAlert } from './payload.ts';
import { DEFAULT_PROFILES } from './profiles.ts';
import { wireAlert, wireDecision } from '../../../test/support/alert-builders.ts';
import { runCountingPauses } from '../../../test/support/turns.ts';

const NOW = Date.UTC(2026, 10, 24, 5, 0, 0);
const STOP = Date.UTC(2026, 10, 24, 4, 18, 5);

const wire = (over: Record<string, unknown> = {}) =>
  wireAlert({ remediation: true, source: { scope: 'Ip', value: '192.0.2.1', ip: '192.0.2.1', range: '192.0.2.0/24', cn: 'FR' }, ...over });
const decision = wireDecision;

function incoming(...alerts: unknown[]): IncomingAlert[] {
  const r = parseAlertsPayload(alerts);
  if (!r.ok) throw new Error(r.message);
  return r.alerts;
}

/** Runs the builder to its end, counting its pauses. */
function build(alerts: IncomingAlert[]) {
  const { value: batch, pauses } = runCountingPauses(buildAlerts(alerts, DEFAULT_PROFILES, 'agent-1', NOW));
  return { batch, pauses };
}

describe('buildAlerts', () => {
  it("an agent's alert: the alert as stored and the default profile's ban, anchored at stop_at", () => {
    const { batch } = build(incoming(wire({ decisions: null })));
    expect(batch).toHaveLength(1);
    expect(batch[0]!.alert).toMatchObject({
      createdAt: NOW,
      machineId: 'agent-1',
      scenario: 'crowdsecurity/ssh-bf',
      sourceScope: 'Ip',
      sourceValue: '192.0.2.1',
      startAt: Date.UTC(2026, 10, 24, 4, 18, 3),
      stopAt: STOP,
      capacity: 5,
      scenarioHash: 'h',
      remediation: true,
    });
    expect(JSON.parse(batch[0]!.alert.extra!)).toMatchObject({ source: { cn: 'FR', range: '192.0.2.0/24' } });
    expect(batch[0]!.decisions).toEqual([
      {
        origin: 'crowdsec',
        type: 'ban',
        scope: 'Ip',
        value: '192.0.2.1',
        scenario: 'crowdsecurity/ssh-bf',
        createdAt: NOW,
        until: STOP + 4 * 3600_000,
        simulated: false,
      },
    ]);
  });

  it("an alert's own decisions, simulated when it or the alert is; a stop_at in the future anchors at now", () => {
    const later = '2026-11-24T06:00:00Z';
    const { batch } = build(
      incoming(
        wire({ decisions: [decision('192.0.2.7'), decision('192.0.2.8', { simulated: true })] }),
        wire({ simulated: true, stop_at: later, decisions: [decision('192.0.2.9')] }),
      ),
    );
    expect(batch.map((b) => b.decisions.map((d) => [d.value, d.simulated, d.until]))).toEqual([
      [
        ['192.0.2.7', false, STOP + 3600_000],
        ['192.0.2.8', true, STOP + 3600_000],
      ],
      [['192.0.2.9', true, NOW + 3600_000]],
    ]);
  });

  it('names the first bad decision by its place, and an empty origin', () => {
    const many = Array.from({ length: 7 }, (_, i) => decision(`10.0.0.${i}`));
    many[6] = decision('10.0.999.1');
    expect(() => build(incoming(wire(), wire({ decisions: many })))).toThrow(/^1\.decisions\.6: ip "10\.0\.999\.1"/);
    expect(() => build(incoming(wire({ decisions: [decision('192.0.2.1', { origin: '' })] })))).toThrow('0.decisions.0: origin is empty; use e.g. cscli');
  });

  it('pauses between slices of a large import, and builds every decision in order', () => {
    const n = 2 * BUILD_SLICE + 3;
    const rows = Array.from({ length: n }, (_, i) => decision(`10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`));
    const { batch, pauses } = build(incoming(wire({ decisions: rows })));
    expect(pauses).toBe(3);
    expect(batch[0]!.decisions).toHaveLength(n);
    expect(batch[0]!.decisions[n - 1]!.value).toBe(rows[n - 1]!.value);
    // Small alerts pause once enough decisions were built, not after each alert.
    const small = incoming(
      ...Array.from({ length: 1000 }, (_, i) => wire({ decisions: Array.from({ length: 6 }, (_, j) => decision(`10.${j}.${i >> 8}.${i & 255}`)) })),
    );
    // 1000 alerts of 6: a pause once BUILD_SLICE decisions were built (after every 334 alerts, 2004 decisions), so two.
    expect(build(small).pauses).toBe(Math.floor(6000 / (Math.ceil(BUILD_SLICE / 6) * 6)));
    expect(build(small).pauses).toBeLessThan(1000 / 100);
    expect(runToEnd(buildAlerts(small, DEFAULT_PROFILES, 'm', NOW)).flatMap((b) => b.decisions)).toHaveLength(6000);
  });
});

describe('parseAlertsPayload: text limits', () => {
  const over = (n: number) => 'x'.repeat(n + 1);
  it('refuses an over-long scenario, message or source with 400, naming the alert and the limit', () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ scenario: over(ALERT_TEXT_LIMITS.scenario) }, '1.scenario: 1025 characters; at most 1024'],
      [{ message: over(ALERT_TEXT_LIMITS.message) }, '1.message: 16385 characters; at most 16384'],
      [{ source: { scope: 'Ip', value: over(ALERT_TEXT_LIMITS.sourceValue) } }, '1.source: scope at most 64 and value at most 1024 characters'],
      [{ source: { scope: over(ALERT_TEXT_LIMITS.sourceScope), value: 'v' } }, '1.source: scope at most 64 and value at most 1024 characters'],
    ];
    for (const [field, message] of cases) expect(parseAlertsPayload([wire(), wire(field)])).toEqual({ ok: false, status: 400, message });
  });
  it('takes every field at its limit', () => {
    const max = ALERT_TEXT_LIMITS;
    const r = parseAlertsPayload([
      wire({
        scenario: 's'.repeat(max.scenario),
        message: 'm'.repeat(max.message),
        source: { scope: 'S'.repeat(max.sourceScope), value: 'v'.repeat(max.sourceValue) },
      }),
    ]);
    expect(r.ok).toBe(true);
  });
  it('a bad time in a later alert is reported before an over-long field in an earlier one (as before the move)', () => {
    const r = parseAlertsPayload([wire({ scenario: 'x'.repeat(2000) }), wire({ stop_at: 'yesterday' })]);
    expect(r).toMatchObject({ ok: false, status: 400, message: expect.stringMatching(/^1\.stop_at: "yesterday" is not an RFC 3339 time/) });
  });
});
