/**
 * The Console's newest Stack Health issues, in one call for the evaluator (evaluate.ts): Component
 * Outdated, Security Engine Too Many Alerts, Integration Pulling Zero IPs and Blocking Known Safe
 * IP, each in its own module. Pure.
 */
import { evaluateComponentOutdated } from './component-outdated.ts';
import { evaluateKnownSafeIp } from './known-safe-ip.ts';
import { evaluatePullingZeroIps, withoutDuplicateDrift } from './pulling-zero-ips.ts';
import { evaluateTooManyAlerts } from './too-many-alerts.ts';
import type { Finding, FleetSnapshot } from './types.ts';

/** `findings` (the other evaluators') with the Console's newest issues added. */
export function withConsoleIssues(findings: Finding[], snapshot: FleetSnapshot, now: number): Finding[] {
  const zero = evaluatePullingZeroIps(snapshot.enforcement?.drift);
  return [
    ...withoutDuplicateDrift(findings, zero),
    ...zero,
    ...(snapshot.componentVersions ? evaluateComponentOutdated(snapshot, now, snapshot.componentVersions) : []),
    ...evaluateTooManyAlerts(snapshot.alertVolume, now),
    ...evaluateKnownSafeIp(snapshot.knownSafe, now),
  ];
}
