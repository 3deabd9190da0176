import type { StepId } from './runbooks/index.ts';

/**
 * The likely causes of the Console's newest issues (Component Outdated, Too Many Alerts, Pulling
 * Zero IPs, Blocking Known Safe IP), spread into the cause registry (causes.ts). No `first`:
 * these issues have their own runbooks (console-runbooks.ts).
 */
export const CONSOLE_CAUSES = {
  component_outdated: {
    text: 'older than the newest known release',
    summary: 'it runs a version older than the newest release Vigil knows of: upgrade for fixes and features the Console expects',
  },
  component_vulnerable: {
    text: 'a version with a known vulnerability',
    summary: 'it runs a version with a published vulnerability: upgrade it first',
  },
  alert_flood: {
    text: 'an over-sensitive scenario, a parser duplicating events, a scenario without blackhole, or a large attack',
    summary: 'far more alerts than usual: an over-sensitive or custom scenario (missing blackhole), a parser that duplicates events, or a real large attack',
  },
  holds_no_decisions: {
    text: 'pulls but holds nothing: its filters (scopes, origins, decision types) drop everything, or it fails to apply what it pulls',
    summary: 'it reports 0 active decisions while the Local API sends it some: its own filters drop them, or it cannot apply them (firewall sets, permissions)',
  },
  allowlist_not_applied: {
    text: 'a decision on an allowlisted address (made before the allowlist, or forced past it)',
    summary: 'an address on an allowlist is blocked: the decision predates the allowlist entry or was added past it',
  },
  proxy_address_judged: {
    text: "a private address blocked: an agent read a proxy's or load balancer's address instead of the client's",
    summary:
      "a private address is blocked: usually a reverse proxy's or load balancer's own address, because the logs the agent reads do not carry the client address",
  },
  test_decision_left: {
    text: 'a test or canary decision left behind (documentation or canary address)',
    summary: 'a documentation or canary address is blocked outside a canary run: a test decision was left behind',
  },
} as const satisfies Record<string, { text: string; summary: string; first?: { diagnose: StepId[]; resolve: StepId[] } }>;
