import { describe, expect, it } from 'vitest';
import { bouncerStatus, DEFAULT_RULES } from './evaluate.ts';
import { machineStatus } from './evaluate-machines.ts';
import type { BouncerHealthInput, HealthRules, MachineHealthInput } from './types.ts';

/**
 * `vigil watch` reads CrowdSec every poll_every; a status is read at any moment between two reads.
 * A healthy 10 s bouncer then looks silent for up to cadence + one poll: with the poll equal to the
 * `late` threshold it was shown late in 32 of 100 samples (field report switcher.md, problem 6).
 */
const T0 = Date.UTC(2026, 11, 7, 16, 0, 0);

/** Deterministic jitter (0–900 ms) so the pulls are not on exact 10 s marks. */
const jitter = (k: number) => ((k * 7919) % 10) * 90;

function sampleStatuses(pollEveryMs: number, rules: HealthRules, cadenceMs = 10_000, durationMs = 10 * 60_000) {
  const pulls = Array.from({ length: Math.ceil(durationMs / cadenceMs) + 2 }, (_, k) => T0 + k * cadenceMs + jitter(k));
  const lastPullBy = (t: number) => pulls.filter((p) => p <= t).at(-1) ?? null;
  const counts = { healthy: 0, late: 0, other: 0 };
  // The watch's reads start 3.3 s after the bouncer's first pull; a status is sampled every second.
  let lastRead = T0 + 3_300;
  for (let now = T0 + 5_000; now <= T0 + durationMs; now += 1000) {
    while (lastRead + pollEveryMs <= now) lastRead += pollEveryMs;
    const b: BouncerHealthInput = {
      id: 1,
      name: 'custom-bouncer',
      type: 'crowdsec-custom-bouncer',
      version: 'v0.0.15',
      ipAddress: '127.0.0.1',
      kind: 'remediation',
      revoked: false,
      createdAt: T0 - 3600_000,
      lastPullAt: lastPullBy(lastRead),
      lastRequestAt: null,
      pullCadenceMs: cadenceMs,
      lastUsageMetricsAt: null,
    };
    const s = bouncerStatus(b, now, rules);
    if (s === 'healthy' || s === 'late') counts[s]++;
    else counts.other++;
  }
  return counts;
}

describe("a healthy bouncer's status under watch, sampled every second for 10 minutes", () => {
  it('was shown late between reads when the poll interval was not allowed for (the fault)', () => {
    expect(sampleStatuses(30_000, DEFAULT_RULES).late).toBeGreaterThan(0);
  });
  for (const poll of [10_000, 30_000, 60_000]) {
    it(`is never late with poll_every ${poll / 1000}s allowed for`, () => {
      const c = sampleStatuses(poll, { ...DEFAULT_RULES, observedEveryMs: poll });
      expect(c).toEqual({ healthy: 596, late: 0, other: 0 });
    });
  }
  it('a bouncer that stopped is still shown late, one poll later at most', () => {
    const rules = { ...DEFAULT_RULES, observedEveryMs: 10_000 };
    const b = { lastPullAt: T0, pullCadenceMs: 10_000 } as BouncerHealthInput;
    const base: BouncerHealthInput = {
      ...b,
      id: 1,
      name: 'x',
      type: 't',
      version: '',
      ipAddress: '',
      kind: 'remediation',
      revoked: false,
      createdAt: T0 - 1000,
      lastRequestAt: null,
      lastUsageMetricsAt: null,
    };
    expect(bouncerStatus(base, T0 + 40_000, rules)).toBe('healthy');
    expect(bouncerStatus(base, T0 + 40_001, rules)).toBe('late');
  });
  it('a machine beating every 60 s read every 30 s: never late between reads', () => {
    const rules = { ...DEFAULT_RULES, observedEveryMs: 30_000 };
    const m: MachineHealthInput = {
      id: 1,
      machineId: 'myhost',
      ipAddress: '127.0.0.1',
      version: 'v1.4.6',
      isValidated: true,
      authType: 'password',
      createdAt: T0 - 3600_000,
      lastLoginAt: T0 - 3000_000,
      lastHeartbeatAt: T0,
      lastPushAt: null,
      heartbeatCadenceMs: 60_000,
    };
    // Late after 2.5 missed beats (150 s, MACHINE_LATE_AFTER_FACTOR) plus one poll: 180 s; a healthy agent
    // read every 30 s looks silent for at most 60 + 30 s.
    expect(machineStatus(m, T0 + 180_000, rules)).toBe('healthy');
    expect(machineStatus(m, T0 + 180_001, rules)).toBe('late');
  });
});
