/**
 * The health engine's inputs for unit tests: one base each, with the times and the traits a test
 * file relies on given by that file (its builder's defaults), and each test's overrides on top.
 *
 *   const bouncer = bouncerBuilder({ name: 'nginx', ipAddress: '10.0.0.5' }, { createdAt: T0, lastPullAt: T0, lastRequestAt: T0 });
 *   evaluate(fleetSnapshot({ bouncers: [bouncer({ lastPullAt: null })] }), T0 + H, DEFAULT_RULES);
 */
import type { BouncerHealthInput, FleetSnapshot, MachineHealthInput } from '../../src/core/health/types.ts';

/** A steady nginx bouncer's identity; the times are the test file's to say. */
const BOUNCER_BASE = {
  id: 1,
  name: 'nginx',
  type: 'crowdsec-nginx-bouncer',
  version: 'v1.0.8',
  ipAddress: '10.0.0.5',
  kind: 'remediation',
  revoked: false,
  pullCadenceMs: null,
  lastUsageMetricsAt: null,
} as const satisfies Partial<BouncerHealthInput>;

type BouncerTimes = Pick<BouncerHealthInput, 'createdAt' | 'lastPullAt' | 'lastRequestAt'>;

/** A bouncer builder with this file's defaults: who it is, and its times (required: no test leans on a hidden one). */
export function bouncerBuilder(identity: Partial<BouncerHealthInput>, times: BouncerTimes & Partial<BouncerHealthInput>) {
  return (over: Partial<BouncerHealthInput> = {}): BouncerHealthInput => ({ ...BOUNCER_BASE, ...identity, ...times, ...over });
}

/** A validated agent logged in with a password; its times are the test file's to say. */
const MACHINE_BASE = {
  id: 1,
  machineId: 'agent1',
  ipAddress: '10.0.0.7',
  version: 'v1.7.8-debian',
  isValidated: true,
  authType: 'password',
  heartbeatCadenceMs: null,
} as const satisfies Partial<MachineHealthInput>;

type MachineTimes = Pick<MachineHealthInput, 'createdAt' | 'lastLoginAt' | 'lastHeartbeatAt' | 'lastPushAt'>;

/** A machine (agent) builder with this file's defaults: who it is, and its times. */
export function machineBuilder(identity: Partial<MachineHealthInput>, times: MachineTimes & Partial<MachineHealthInput>) {
  return (over: Partial<MachineHealthInput> = {}): MachineHealthInput => ({ ...MACHINE_BASE, ...identity, ...times, ...over });
}

/** A fleet snapshot: nothing refused, no restart, no change, unless given. */
export function fleetSnapshot(over: Partial<FleetSnapshot> = {}): FleetSnapshot {
  return { bouncers: [], refused: [], lapiStarts: [], bouncerChanges: [], ...over };
}
