import { describe, expect, it } from 'vitest';
import { DEFAULT_RULES, evaluate } from './evaluate.ts';
import {
  evaluateLogProcessors,
  NO_LOGS_PARSED_AFTER_MS,
  NO_LOGS_READ_AFTER_MS,
  type LogProcessorUsageInput,
  type LogProcessorWindow,
} from './log-processors.ts';
import { causeText } from './causes.ts';
import { formatRunbookText } from '../../presentation/runbook-format.ts';
import { issueRunbook } from './issue-view.ts';
import type { FleetSnapshot, MachineHealthInput } from './types.ts';
import { bouncerBuilder, fleetSnapshot, machineBuilder } from '../../../test/support/health-inputs.ts';
import { agentRunbook, oneCause, openIssue } from '../../../test/support/health-issues.ts';

/** LP No Logs Read (24 h) and LP No Logs Parsed (48 h) from agents' usage reports, across the exact boundaries, time passed in. */
const T0 = Date.UTC(2026, 10, 1, 0, 0, 0);
const H = 3600_000;
const MIN = 60_000;

/** Online at `now`: it beat a minute ago. */
const machine = (now: number, over: Partial<MachineHealthInput> = {}) =>
  machineBuilder(
    { id: 7, machineId: 'agent1' },
    { createdAt: T0 - 72 * H, lastLoginAt: now - 30 * MIN, lastHeartbeatAt: now - MIN, lastPushAt: now - MIN },
  )(over);
function win(at: number, read: number, parsed: number): LogProcessorWindow {
  return {
    at,
    windowSeconds: 1800,
    read,
    parsed,
    unparsed: read - parsed,
    bySource: read ? { '/var/log/nginx/access.log': { type: 'file', read, parsed, unparsed: read - parsed } } : {},
  };
}
function usage(now: number, over: Partial<LogProcessorUsageInput> = {}): LogProcessorUsageInput {
  return {
    machineId: 7,
    firstReportAt: T0,
    lastReportAt: now - 10 * MIN,
    lastReadAt: null,
    lastParsedAt: null,
    datasources: { file: 2 },
    version: 'v1.7.8-debian',
    windows: [],
    ...over,
  };
}
const bouncer = bouncerBuilder({}, { createdAt: T0 - 72 * H, lastPullAt: T0 + 100 * H, lastRequestAt: T0 + 100 * H })();
function snap(now: number, u: Partial<LogProcessorUsageInput> | null, m: Partial<MachineHealthInput> = {}): FleetSnapshot {
  return fleetSnapshot({ bouncers: [bouncer], machines: [machine(now, m)], logProcessorUsage: u === null ? [] : [usage(now, u)] });
}
const kinds = (now: number, u: Partial<LogProcessorUsageInput> | null, m: Partial<MachineHealthInput> = {}, rules = DEFAULT_RULES) =>
  evaluateLogProcessors(snap(now, u, m), now, rules).map((f) => f.kind);

describe('LP No Logs Read', () => {
  it('opens one millisecond after 24 h of reports without a line read, counted from the first report', () => {
    expect(NO_LOGS_READ_AFTER_MS).toBe(24 * H);
    expect(kinds(T0 + 24 * H, {})).toEqual([]);
    const now = T0 + 24 * H + 1;
    const [f] = evaluateLogProcessors(snap(now, {}), now, DEFAULT_RULES);
    expect(f).toMatchObject({ kind: 'lp_no_logs_read', criticality: 'critical', subject: 'machine:agent1', since: T0 });
    expect(f!.summary).toBe("machine 'agent1' has acquired no log line for 24h0m0s (since 2026-11-01T00:00:00Z): nothing reaches its parsers or scenarios.");
    expect(f!.causes[0]).toMatchObject({ cause: 'logs_not_read', confidence: 'medium' });
    expect(f!.causes[0]!.evidence).toContain('it has 2 file datasource(s) configured, and none of them read a line');
  });

  it('counts from the last report that read lines', () => {
    const lastReadAt = T0 + 5 * H;
    const windows = [win(lastReadAt, 40, 40)];
    expect(kinds(lastReadAt + 24 * H, { lastReadAt, lastParsedAt: lastReadAt, windows })).toEqual([]);
    const now = lastReadAt + 24 * H + 1;
    const [f] = evaluateLogProcessors(snap(now, { lastReadAt, lastParsedAt: lastReadAt, windows }), now, DEFAULT_RULES);
    expect(f).toMatchObject({ kind: 'lp_no_logs_read', since: lastReadAt });
    expect(f!.causes[0]!.evidence).toContain('it last read from /var/log/nginx/access.log');
  });

  it('blames a missing acquisition when the report lists no datasource', () => {
    const now = T0 + 25 * H;
    const [f] = evaluateLogProcessors(snap(now, { datasources: {} }), now, DEFAULT_RULES);
    expect(f!.causes[0]).toMatchObject({ cause: 'acquisition_missing', confidence: 'high' });
    expect(causeText('acquisition_missing')).toMatch(/no log source configured/);
  });

  it('follows health.no_logs_read_after', () => {
    const rules = { ...DEFAULT_RULES, noLogsReadAfterMs: 10_000 };
    expect(kinds(T0 + 10_000, { lastReportAt: T0 + 10_000 }, {}, rules)).toEqual([]);
    expect(kinds(T0 + 10_001, { lastReportAt: T0 + 10_000 }, {}, rules)).toEqual(['lp_no_logs_read']);
  });
});

describe('LP No Logs Parsed', () => {
  it('opens one millisecond after 48 h of lines read and none parsed', () => {
    expect(NO_LOGS_PARSED_AFTER_MS).toBe(48 * H);
    const at = (now: number) => ({ lastReadAt: now - 20 * MIN, windows: [win(now - 50 * MIN, 300, 0), win(now - 20 * MIN, 200, 0)] });
    expect(kinds(T0 + 48 * H, at(T0 + 48 * H))).toEqual([]);
    const now = T0 + 48 * H + 1;
    const [f] = evaluateLogProcessors(snap(now, at(now)), now, DEFAULT_RULES);
    expect(f).toMatchObject({ kind: 'lp_no_logs_parsed', criticality: 'critical', since: T0 });
    expect(f!.summary).toMatch(/reads logs but has parsed none for 48h0m0s/);
    expect(f!.causes[0]).toMatchObject({ cause: 'logs_not_parsed', confidence: 'high' });
    expect(f!.causes[0]!.evidence).toContain('/var/log/nginx/access.log (file): 500 read, 500 unparsed');
  });

  it('counts from the last report that parsed lines', () => {
    const lastParsedAt = T0 + 10 * H;
    const now = lastParsedAt + 48 * H;
    expect(kinds(now, { lastParsedAt, lastReadAt: now - MIN })).toEqual([]);
    expect(kinds(now + 1, { lastParsedAt, lastReadAt: now - MIN })).toEqual(['lp_no_logs_parsed']);
  });

  it('needs lines read within the 48 h; nothing read at all is No Logs Read alone', () => {
    const now = T0 + 60 * H;
    // Read 30 h ago, never parsed: the one thing to fix first is that nothing is read now.
    expect(kinds(now, { lastReadAt: now - 30 * H })).toEqual(['lp_no_logs_read']);
    // Read 49 h ago but parsed 50 h ago: nothing was read within the 48 h, so "read but not parsed" does not hold.
    expect(kinds(now, { lastReadAt: now - 49 * H, lastParsedAt: now - 50 * H })).toEqual(['lp_no_logs_read']);
    // Read and parsed recently: healthy.
    expect(kinds(now, { lastReadAt: now - MIN, lastParsedAt: now - MIN })).toEqual([]);
  });
});

describe('what the evaluator leaves alone', () => {
  const now = T0 + 72 * H;
  it('a machine that never reported (CrowdSec before 1.6.3 sends no usage metrics)', () => {
    expect(kinds(now, null)).toEqual([]);
  });
  it('an offline or unvalidated machine: LP Offline or LP Pending says more', () => {
    expect(kinds(now, {}, { lastHeartbeatAt: now - 25 * H, lastLoginAt: now - 25 * H, lastPushAt: now - 25 * H })).toEqual([]);
    expect(kinds(now, {}, { isValidated: false })).toEqual([]);
  });
  it('reports that stopped more than 6 h ago (usage metrics turned off): nothing is known of now', () => {
    expect(kinds(now, { lastReportAt: now - 6 * H })).toEqual(['lp_no_logs_read']);
    expect(kinds(now, { lastReportAt: now - 6 * H - 1 })).toEqual([]);
  });
});

describe('through the whole evaluator and the runbooks', () => {
  it('evaluate() raises it beside the other machine issues', () => {
    const now = T0 + 25 * H;
    expect(evaluate(snap(now, {}), now, DEFAULT_RULES).map((f) => f.kind)).toEqual(['lp_no_logs_read']);
  });

  it('has a runbook for each issue, led by the acquisition or the parsers', () => {
    const read = agentRunbook('lp_no_logs_read', 'logs_not_read', 'host');
    expect(read.title).toBe('LP No Logs Read: `agent1` (CrowdSec agent)');
    const readText = formatRunbookText(read);
    expect(readText).toContain('sudo cat /etc/crowdsec/acquis.yaml');
    expect(readText).toContain('sudo cscli metrics show acquisition parsers');
    const parsed = agentRunbook('lp_no_logs_parsed', 'logs_not_parsed', 'docker');
    const text = formatRunbookText(parsed);
    expect(parsed.title).toBe('LP No Logs Parsed: `agent1` (CrowdSec agent)');
    expect(text).toContain("docker exec crowdsec cscli explain --log '<one line of the log>' --type nginx");
    expect(text).toContain('docker exec crowdsec cscli collections install crowdsecurity/nginx');
  });

  it('issues show finds the runbook of a stored issue of either kind', () => {
    for (const [kind, cause] of [
      ['lp_no_logs_read', 'acquisition_missing'],
      ['lp_no_logs_parsed', 'logs_not_parsed'],
    ] as const) {
      const issue = openIssue(T0, { kind, subject: 'machine:agent1', evidence: oneCause(cause) });
      const r = issueRunbook(issue, undefined, 'http://127.0.0.1:8080/', 'host');
      expect(r?.title, kind).toMatch(/^LP No Logs (Read|Parsed): `agent1`/);
    }
  });
});
