import { describe, expect, it } from 'vitest';
import { DEFAULT_RULES, evaluate } from './evaluate.ts';
import { machineLateAfter, machineStatus, NO_ALERTS_AFTER_MS } from './evaluate-machines.ts';
import { causeText, CAUSE_KINDS } from './causes.ts';
import { MACHINE_CAUSES } from './machine-causes.ts';
import { machineRunbookFor } from './machine-runbooks.ts';
import { issueRunbook } from './issue-view.ts';
import type { FleetSnapshot, MachineHealthInput } from './types.ts';
import type { RefusedRequest } from '../model/records.ts';
import { bouncerBuilder, fleetSnapshot, machineBuilder } from '../../../test/support/health-inputs.ts';
import { agentRunbook, findingKinds, oneCause, openIssue, refusedRequests } from '../../../test/support/health-issues.ts';
import { allCommands } from '../../../test/support/runbook-context.ts';

const T0 = Date.UTC(2026, 10, 1, 0, 0, 0);
const H = 3600_000;
const MIN = 60_000;

const machine = machineBuilder(
  { machineId: 'agent1', ipAddress: '10.0.0.7', version: 'v1.7.8-debian' },
  { createdAt: T0 - 72 * H, lastLoginAt: T0 - 30 * MIN, lastHeartbeatAt: T0, lastPushAt: T0 },
);
// A healthy filler: its identity does not matter here.
const bouncer = bouncerBuilder({}, { createdAt: T0 - 72 * H, lastPullAt: T0 + 48 * H, lastRequestAt: T0 });
/** A healthy bouncer keeps the fleet findings (se_no_rc) out of the way. */
const fleet = (machines: MachineHealthInput[], over: Partial<FleetSnapshot> = {}) => fleetSnapshot({ bouncers: [bouncer()], machines, ...over });
const login = refusedRequests({
  at: T0 + H,
  peerIp: '10.0.0.7',
  userAgent: 'crowdsec/v1.7.8-debian',
  method: 'POST',
  path: '/v1/watchers/login',
  reason: 'login:bad-password',
  keyFingerprint: '',
  bouncerName: 'agent1',
});
const kinds = findingKinds;
const causes = (f: ReturnType<typeof evaluate>[number] | undefined) => f?.causes.map((c) => `${c.cause}/${c.confidence}`);

describe('evaluate: LP Offline', () => {
  it('raises LP Offline only after exactly 24 h without a heartbeat, and resolves on the next one', () => {
    const s = fleet([machine(), machine({ id: 2, machineId: 'agent2', lastHeartbeatAt: T0 + 24 * H })]);
    expect(kinds(evaluate(s, T0 + 24 * H, DEFAULT_RULES))).toEqual([]);
    const f = evaluate(s, T0 + 24 * H + 1000, DEFAULT_RULES);
    expect(kinds(f)).toEqual(['lp_offline:machine:agent1']);
    expect(f[0]!.criticality).toBe('critical');
    expect(f[0]!.bouncerName).toBeNull();
    expect(f[0]!.since).toBe(T0);
    expect(f[0]!.summary).toBe(
      "machine 'agent1' has not checked in for 24h0m1s (last seen 2026-11-01T00:00:00Z): its log processing is not reaching the Local API.",
    );
    expect(causes(f[0])).toEqual(['agent_stopped_or_network/medium']);
    expect(f[0]!.causes[0]!.evidence[0]).toContain('nothing at all has arrived from 10.0.0.7 since 2026-11-01T00:00:00Z');
    const back = fleet([machine({ lastHeartbeatAt: T0 + 24 * H + 30_000 })]);
    expect(kinds(evaluate(back, T0 + 24 * H + 60_000, DEFAULT_RULES))).toEqual([]);
  });

  it('counts a login or an alert push as checking in', () => {
    const s = fleet([machine({ lastHeartbeatAt: T0 - 48 * H, lastLoginAt: T0 - 48 * H, lastPushAt: T0 })]);
    expect(kinds(evaluate(s, T0 + 23 * H, DEFAULT_RULES))).toEqual([]);
    const l = fleet([machine({ lastHeartbeatAt: null, lastLoginAt: T0, lastPushAt: null, createdAt: T0 - H })]);
    expect(kinds(evaluate(l, T0 + 23 * H, DEFAULT_RULES))).toEqual([]);
    expect(kinds(evaluate(l, T0 + 25 * H, DEFAULT_RULES))).toEqual(['lp_offline:machine:agent1']);
  });

  it('a machine added but never logged in is its own case, 24 h after it was added', () => {
    const m = machine({ createdAt: T0, lastLoginAt: null, lastHeartbeatAt: null, lastPushAt: null, ipAddress: '', version: '' });
    expect(kinds(evaluate(fleet([m]), T0 + 24 * H, DEFAULT_RULES))).toEqual([]);
    const f = evaluate(fleet([m]), T0 + 25 * H, DEFAULT_RULES);
    expect(kinds(f)).toEqual(['lp_offline:machine:agent1']);
    expect(f[0]!.summary).toBe("machine 'agent1' was added 25h0m0s ago and has never logged in: no alerts come from it.");
    expect(causes(f[0])).toEqual(['machine_never_logged_in/high']);
  });

  it('names a wrong password when its own logins are refused for it', () => {
    const s = fleet([machine()], { refused: [login({ at: T0 + H }), login({ at: T0 + 2 * H })] });
    const f = evaluate(s, T0 + 25 * H, DEFAULT_RULES);
    expect(causes(f[0])).toEqual(['machine_bad_password/high']);
    expect(f[0]!.causes[0]!.evidence).toContain(
      "1 request(s) refused (wrong password) POST /v1/watchers/login from 10.0.0.7 as 'agent1' with User-Agent crowdsec/v1.7.8-debian, at 2026-11-01T01:00:00Z",
    );
    expect(f[0]!.causes[0]!.evidence.at(-1)).toContain("local_api_credentials.yaml is not the one stored for 'agent1'");
  });

  it('refusals from before the silence are not blamed', () => {
    const s = fleet([machine()], { refused: [login({ at: T0 - MIN })] });
    expect(causes(evaluate(s, T0 + 25 * H, DEFAULT_RULES)[0])).toEqual(['agent_stopped_or_network/medium']);
  });

  it('names an unknown machine when its address logs in under a name nobody has, but not under another known machine', () => {
    const s = fleet([machine(), machine({ id: 2, machineId: 'agent2', ipAddress: '10.0.0.8' })], {
      refusedSummaries: [
        { ...summary(login({ reason: 'login:unknown-machine', bouncerName: 'old-name' })), count: 40, firstAt: T0 + H, lastAt: T0 + 20 * H },
        // agent2's own wrong password, sent from agent1's host: not agent1's problem.
        summary(login({ reason: 'login:bad-password', bouncerName: 'agent2' })),
      ],
    });
    const f = evaluate(s, T0 + 25 * H, DEFAULT_RULES);
    expect(kinds(f)).toEqual(['lp_offline:machine:agent1', 'lp_offline:machine:agent2']);
    expect(causes(f[0])).toEqual(['machine_unknown/medium']);
    expect(f[0]!.causes[0]!.evidence.join('\n')).toContain("logs in as 'old-name', which the Local API does not know");
    expect(causes(f[1])).toEqual(['machine_bad_password/high']);
  });

  it('lowers the confidence when several machines share the address', () => {
    const s = fleet([machine(), machine({ id: 2, machineId: 'agent2', lastHeartbeatAt: T0 + 24 * H })], {
      refused: [login({ reason: 'jwt:invalid', bouncerName: '', path: '/v1/heartbeat', method: 'GET' })],
    });
    const f = evaluate(s, T0 + 25 * H, DEFAULT_RULES);
    // Low-confidence evidence does not rule out a plain stop, which then leads.
    expect(causes(f[0])).toEqual(['agent_stopped_or_network/medium', 'jwt_rejected/low']);
    expect(f[0]!.causes.find((c) => c.cause === 'jwt_rejected')!.evidence.join('\n')).toContain('shared by 2 machines');
  });

  it('blames a Local API restart just after its last heartbeat', () => {
    const s = fleet([machine({ heartbeatCadenceMs: MIN })], { lapiStarts: [T0 + 30_000, T0 - 10 * H] });
    const f = evaluate(s, T0 + 25 * H, DEFAULT_RULES);
    expect(causes(f[0])).toEqual(['lapi_restart/high', 'agent_stopped_or_network/low']);
    expect(f[0]!.causes[0]!.evidence[0]).toContain('the Local API restarted at 2026-11-01T00:00:30Z, 30s after this machine was last seen');
  });

  it('notes an IP change just before the silence', () => {
    const s = fleet([machine()], { machineChanges: [{ machineId: 1, at: T0 - 10 * MIN, field: 'ip', oldValue: '10.0.0.6', newValue: '10.0.0.7' }] });
    expect(evaluate(s, T0 + 25 * H, DEFAULT_RULES)[0]!.notes).toEqual([
      "its IP address changed from '10.0.0.6' to '10.0.0.7' at 2026-10-31T23:50:00Z, just before it went silent",
    ]);
  });
});

describe('evaluate: LP Late, LP Pending Validation', () => {
  it('a machine beating every 60 s: late (status) and LP Late at 2.5 missed beats, LP Offline at 30', () => {
    const m = machine({ heartbeatCadenceMs: MIN });
    const s = fleet([m]);
    expect(machineStatus(m, T0 + 150_000, DEFAULT_RULES)).toBe('healthy');
    expect(machineStatus(m, T0 + 150_001, DEFAULT_RULES)).toBe('late');
    expect(kinds(evaluate(s, T0 + 150_000, DEFAULT_RULES))).toEqual([]);
    const f = evaluate(s, T0 + 150_001, DEFAULT_RULES);
    expect(kinds(f)).toEqual(['lp_late:machine:agent1']);
    expect(f[0]!.criticality).toBe('warning');
    expect(f[0]!.summary).toBe("machine 'agent1' usually sends a heartbeat every 1m0s but has been silent for 2m30s.");
    // A smaller late_after_factor than the machines' own still applies to them.
    expect(machineLateAfter(m, { ...DEFAULT_RULES, lateAfterFactor: 2 })).toBe(2 * MIN);
    expect(kinds(evaluate(s, T0 + 30 * MIN, DEFAULT_RULES))).toEqual(['lp_late:machine:agent1']);
    expect(kinds(evaluate(s, T0 + 30 * MIN + 1, DEFAULT_RULES))).toEqual(['lp_offline:machine:agent1']);
    expect(machineStatus(m, T0 + 30 * MIN + 1, DEFAULT_RULES)).toBe('offline');
    // Console mode: CrowdSec's 24 h alone.
    const console = { ...DEFAULT_RULES, mode: 'console' as const };
    expect(kinds(evaluate(s, T0 + 24 * H, console))).toEqual([]);
    expect(machineStatus(m, T0 + 24 * H, console)).toBe('healthy');
    // Without a steady cadence, nothing until 24 h.
    expect(kinds(evaluate(fleet([machine()]), T0 + 10 * H, DEFAULT_RULES))).toEqual([]);
  });

  it('a registered machine waiting for validation is raised at once, never as offline', () => {
    const m = machine({ isValidated: false, createdAt: T0, lastLoginAt: null, lastHeartbeatAt: null, lastPushAt: null });
    const s = fleet([m], { refused: [login({ reason: 'login:not-validated', at: T0 + MIN })] });
    for (const now of [T0 + 2 * MIN, T0 + 100 * H]) {
      const f = evaluate(s, now, DEFAULT_RULES).filter((x) => x.subject.startsWith('machine:'));
      expect(kinds(f)).toEqual(['lp_pending:machine:agent1']);
      expect(causes(f[0])).toEqual(['machine_not_validated/high']);
    }
    const f = evaluate(s, T0 + 2 * MIN, DEFAULT_RULES);
    expect(f[0]!.summary).toBe("machine 'agent1' registered 2m0s ago and waits for validation: until then it cannot log in or push alerts.");
    expect(f[0]!.causes[0]!.evidence[1]).toContain('refused (not validated) POST /v1/watchers/login');
  });
});

describe('evaluate: LP No Alerts', () => {
  it('raises LP No Alerts for an online machine after exactly 48 h without a push', () => {
    const m = machine({ lastPushAt: T0, heartbeatCadenceMs: MIN });
    const at = (t: number) => fleet([{ ...m, lastHeartbeatAt: t - 30_000 }]);
    expect(kinds(evaluate(at(T0 + NO_ALERTS_AFTER_MS), T0 + NO_ALERTS_AFTER_MS, DEFAULT_RULES))).toEqual([]);
    const f = evaluate(at(T0 + NO_ALERTS_AFTER_MS + 1000), T0 + NO_ALERTS_AFTER_MS + 1000, DEFAULT_RULES);
    expect(kinds(f)).toEqual(['lp_no_alerts:machine:agent1']);
    expect(f[0]!.criticality).toBe('high');
    expect(f[0]!.summary).toBe("machine 'agent1' is online but has pushed no alert for 48h0m1s: its scenarios are not firing.");
    expect(causes(f[0])).toEqual(['no_alerts/medium']);
  });

  it('counts from its registration when it never pushed, and not while it is offline', () => {
    const never = machine({ createdAt: T0, lastPushAt: null, lastHeartbeatAt: T0 + 49 * H, lastLoginAt: T0 + 48 * H });
    const f = evaluate(fleet([never]), T0 + 49 * H, DEFAULT_RULES);
    expect(kinds(f)).toEqual(['lp_no_alerts:machine:agent1']);
    expect(f[0]!.causes[0]!.evidence[0]).toBe('it has never pushed an alert since it was added at 2026-11-01T00:00:00Z');
    const offline = machine({ lastPushAt: T0 - 100 * H, lastHeartbeatAt: T0 - 30 * H, lastLoginAt: T0 - 30 * H });
    expect(kinds(evaluate(fleet([offline]), T0, DEFAULT_RULES))).toEqual(['lp_offline:machine:agent1']);
  });
});

describe('evaluate: bouncers and machines apart', () => {
  it('bouncer rules ignore refused logins and tokens from the bouncer’s address', () => {
    const s = fleet([], {
      bouncers: [bouncer({ lastPullAt: T0 })],
      refused: [login({ peerIp: '10.0.0.5', reason: 'login:bad-password' }), login({ peerIp: '10.0.0.5', reason: 'jwt:expired', bouncerName: '' })],
    });
    const f = evaluate(s, T0 + 25 * H, DEFAULT_RULES);
    expect(kinds(f)).toContain('rc_integration_offline:bouncer:nginx');
    expect(causes(f.find((x) => x.kind === 'rc_integration_offline'))).toEqual(['stopped_or_network/medium']);
  });

  it('a snapshot without machines raises no machine issue', () => {
    const s: FleetSnapshot = { bouncers: [bouncer()], refused: [login({})], lapiStarts: [], bouncerChanges: [] };
    expect(kinds(evaluate(s, T0 + 100 * H, DEFAULT_RULES)).filter((k) => k.startsWith('lp_'))).toEqual([]);
  });
});

describe('machine causes and runbooks', () => {
  it('every machine cause is in the registry with its own words', () => {
    for (const cause of Object.keys(MACHINE_CAUSES)) {
      expect(CAUSE_KINDS).toContain(cause);
      expect(causeText(cause)).not.toBe(cause);
    }
  });

  it('a wrong password leads with rewriting the credentials file', () => {
    const r = agentRunbook('lp_offline', 'machine_bad_password', 'host');
    expect(r.title).toBe('LP Offline: `agent1` (CrowdSec agent)');
    const resolve = r.sections.find((s) => s.title === 'Resolve')!;
    expect(resolve.steps[0]!.commands).toEqual([
      'sudo vigil machines add agent1 --auto --force -f /etc/crowdsec/local_api_credentials.yaml',
      'sudo systemctl restart crowdsec',
    ]);
    expect(r.sections[0]!.steps[0]!.commands[0]).toBe("sudo grep -nE '^(url|login):' /etc/crowdsec/local_api_credentials.yaml");
  });

  it('not validated leads with machines validate; unknown machine with adding it again', () => {
    const pending = agentRunbook('lp_pending', 'machine_not_validated', 'host');
    expect(pending.sections[1]!.steps[0]!.commands[0]).toBe('sudo vigil machines validate agent1');
    const unknown = agentRunbook('lp_offline', 'machine_unknown', 'docker');
    expect(unknown.sections[1]!.steps[0]!.text).toContain('logs in under a name the Local API does not know');
    expect(unknown.sections[1]!.steps[0]!.commands).toEqual([
      'docker exec crowdsec vigil machines add agent1 --auto --force -f /etc/crowdsec/local_api_credentials.yaml',
      'docker restart crowdsec',
    ]);
  });

  it('no alerts points at acquisition and scenarios', () => {
    const r = agentRunbook('lp_no_alerts', 'no_alerts', 'host');
    const commands = allCommands(r);
    expect(commands).toContain('sudo cscli metrics show acquisition parsers');
    expect(commands).toContain('sudo cscli simulation status');
  });

  it('quotes names that a shell would read otherwise', () => {
    const r = machineRunbookFor({
      machineId: "-x'; rm -rf /",
      issue: 'lp_pending',
      lapiUrl: 'http://127.0.0.1:8080/',
      deployment: 'host',
      cause: 'machine_not_validated',
    });
    expect(r.sections[1]!.steps[0]!.commands[0]).toBe("sudo vigil machines validate -- '-x'\\''; rm -rf /'");
  });

  it('issueRunbook gives a machine issue the machine runbook', () => {
    const issue = openIssue(T0, { kind: 'lp_offline', subject: 'machine:agent1', evidence: oneCause('machine_bad_password') });
    const r = issueRunbook(issue, undefined, 'http://127.0.0.1:8080/', 'host');
    expect(r?.serviceName).toBe('crowdsec');
    expect(r?.summary).toContain('no longer matches');
  });
});

function summary(r: RefusedRequest) {
  return { ...r, severalKeys: false, firstAt: r.at, lastAt: r.at, count: 1 };
}

describe('a login is not a sign of life (issue 24: cscli logs in with the agent credentials)', () => {
  it('a stopped agent stays offline after a login, which shows as evidence; a never-beating machine still counts its login', () => {
    const stopped = machine({ heartbeatCadenceMs: 60_000, lastHeartbeatAt: T0, lastPushAt: T0 - H, lastLoginAt: T0 + 40 * MIN });
    const now = T0 + 41 * MIN;
    const [f] = evaluate({ bouncers: [], refused: [], lapiStarts: [], bouncerChanges: [], machines: [stopped] }, now, DEFAULT_RULES).filter((x) =>
      x.subject.startsWith('machine:'),
    );
    expect([f!.kind, f!.since]).toEqual(['lp_offline', T0]);
    expect(f!.causes[0]!.evidence.join('\n')).toContain('a login with its credentials at 2026-11-01T00:40:00Z was not followed by a heartbeat');
    expect(machineStatus(stopped, now, DEFAULT_RULES)).toBe('offline');
    const fresh = machine({ createdAt: T0, lastHeartbeatAt: null, lastPushAt: null, lastLoginAt: T0 + 30_000 });
    expect(machineStatus(fresh, T0 + 60_000, DEFAULT_RULES)).toBe('healthy');
  });
});

describe('evaluate: a registration flood (issue 27)', () => {
  it('308 pending machines from 24 addresses are one LP Pending Validation, not 308', () => {
    const pending = Array.from({ length: 308 }, (_, i) =>
      machine({
        machineId: `flood${i}`,
        ipAddress: `127.0.0.${2 + (i % 24)}`,
        isValidated: false,
        createdAt: T0 + i * 70,
        lastLoginAt: null,
        lastHeartbeatAt: null,
        lastPushAt: null,
      }),
    );
    const f = evaluate(fleet([machine(), ...pending]), T0 + 30_000, DEFAULT_RULES).filter((x) => x.kind === 'lp_pending');
    expect(kinds(f)).toEqual(['lp_pending:machines:pending']);
    expect(f[0]!.since).toBe(T0);
    expect(f[0]!.summary).toBe(
      '308 unvalidated registrations from 24 address(es) wait for validation: none of them can log in or push alerts until an operator validates it.',
    );
    expect(f[0]!.causes[0]!.evidence[0]).toMatch(/^registered from 127\.0\.0\.2 \(13\), /);
  });
});
