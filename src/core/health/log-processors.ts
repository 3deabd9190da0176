import { formatGoDuration, formatRfc3339 } from '../../lib/duration.ts';
import type { SourceCounts } from '../usage/log-processor-counts.ts';
import { machineStatus } from './evaluate-machines.ts';
import { ISSUE_CATALOGUE, type Finding, type FleetSnapshot, type HealthRules, type IssueKind, type LikelyCause, type MachineHealthInput } from './types.ts';

/**
 * CrowdSec's LP No Logs Read (no log acquired for 24 h) and LP No Logs Parsed (logs read but none
 * parsed for 48 h), both Critical (docs/reference/crowdsec-docs-notes.md §1.3), from the agents' own
 * usage-metrics reports (every 30 min from CrowdSec 1.6.3; core/usage/log-processor-counts.ts).
 * Pure, like evaluate-machines.ts. A machine that never reported is not judged (CrowdSec 1.4/1.5
 * agents send no report: nothing is known of their logs).
 */
export const NO_LOGS_READ_AFTER_MS = 24 * 3600_000;
export const NO_LOGS_PARSED_AFTER_MS = 48 * 3600_000;
/**
 * A last report older than this says nothing about now (the agent stopped reporting: usage metrics
 * turned off, or a downgrade): neither issue is raised from it. The agent reports every 30 min.
 */
export const REPORTS_STALE_AFTER_MS = 6 * 3600_000;

/** One report's window: lines read, parsed and unparsed, in total and per source. */
export interface LogProcessorWindow {
  /** When Vigil received the report (its clock, not the agent's). */
  at: number;
  windowSeconds: number;
  read: number;
  parsed: number;
  unparsed: number;
  bySource: Record<string, SourceCounts>;
}

/** A machine's usage reports as the evaluator needs them (src/store/usage-log-processors.ts). */
export interface LogProcessorUsageInput {
  /** machines.id */
  machineId: number;
  firstReportAt: number;
  lastReportAt: number;
  /** The last report that read at least one line; null: none since the first report. */
  lastReadAt: number | null;
  lastParsedAt: number | null;
  /** Configured datasources per type, from the latest report (`{"file":2}`). */
  datasources: Record<string, number>;
  version: string;
  /** Windows received in the last 48 h or more, oldest first: the evidence. */
  windows: LogProcessorWindow[];
}

export function evaluateLogProcessors(snapshot: FleetSnapshot, now: number, rules: HealthRules): Finding[] {
  const usage = new Map((snapshot.logProcessorUsage ?? []).map((u) => [u.machineId, u]));
  if (usage.size === 0) return [];
  const readAfter = rules.noLogsReadAfterMs ?? NO_LOGS_READ_AFTER_MS;
  const parsedAfter = rules.noLogsParsedAfterMs ?? NO_LOGS_PARSED_AFTER_MS;
  const findings: Finding[] = [];
  for (const m of snapshot.machines ?? []) {
    const u = usage.get(m.id);
    if (!u) continue;
    // An offline or unvalidated machine has its own issue; its last report is not news.
    const status = machineStatus(m, now, rules);
    if (status === 'offline' || status === 'pending') continue;
    if (now - u.lastReportAt > REPORTS_STALE_AFTER_MS) continue;
    const readSince = u.lastReadAt ?? u.firstReportAt;
    if (now - readSince > readAfter) {
      findings.push(noLogsRead(m, u, readSince, now));
      // Nothing is read now: that is the one thing to fix first, so No Logs Parsed waits for it.
      continue;
    }
    const parsedSince = u.lastParsedAt ?? u.firstReportAt;
    if (u.lastReadAt !== null && now - u.lastReadAt <= parsedAfter && now - parsedSince > parsedAfter) {
      findings.push(noLogsParsed(m, u, parsedSince, now));
    }
  }
  return findings;
}

function noLogsRead(m: MachineHealthInput, u: LogProcessorUsageInput, since: number, now: number): Finding {
  const label = `machine '${m.machineId}'`;
  const configured = Object.entries(u.datasources).filter(([, n]) => n > 0);
  const evidence = [
    u.lastReadAt === null
      ? `its usage reports since the first one at ${formatRfc3339(u.firstReportAt)} count no line read`
      : `its last report with lines read was at ${formatRfc3339(u.lastReadAt)}, ${ago(now, u.lastReadAt)} ago`,
    `its last report came at ${formatRfc3339(u.lastReportAt)}: the agent runs and reports, it only reads nothing`,
  ];
  const causes: LikelyCause[] = [];
  if (configured.length === 0) {
    causes.push({
      cause: 'acquisition_missing',
      confidence: 'high',
      evidence: [...evidence, 'its report lists no datasource: acquis.yaml and acquis.d/ configure none, or none loaded'],
    });
  } else {
    const lastSources = [...u.windows].reverse().find((w) => w.read > 0)?.bySource;
    causes.push({
      cause: 'logs_not_read',
      confidence: 'medium',
      evidence: [
        ...evidence,
        `it has ${configured.map(([t, n]) => `${n} ${t} datasource(s)`).join(', ')} configured, and none of them read a line`,
        ...(lastSources ? [`it last read from ${Object.keys(lastSources).slice(0, 5).join(', ')}`] : []),
      ],
    });
  }
  return finding(
    'lp_no_logs_read',
    m,
    since,
    `${label} has acquired no log line for ${ago(now, since)} (since ${formatRfc3339(since)}): nothing reaches its parsers or scenarios.`,
    causes,
  );
}

function noLogsParsed(m: MachineHealthInput, u: LogProcessorUsageInput, since: number, now: number): Finding {
  const label = `machine '${m.machineId}'`;
  const recent = u.windows.filter((w) => w.at > since);
  const read = recent.reduce((s, w) => s + w.read, 0);
  const sources = new Map<string, SourceCounts>();
  for (const w of recent)
    for (const [name, c] of Object.entries(w.bySource)) {
      const s = sources.get(name) ?? { type: c.type, read: 0, parsed: 0, unparsed: 0 };
      s.read += c.read;
      s.unparsed += c.unparsed;
      sources.set(name, s);
    }
  const evidence = [
    u.lastParsedAt === null
      ? `its usage reports since the first one at ${formatRfc3339(u.firstReportAt)} count no line parsed`
      : `its last report with lines parsed was at ${formatRfc3339(u.lastParsedAt)}, ${ago(now, u.lastParsedAt)} ago`,
    `${read} line(s) read since then, the last at ${formatRfc3339(u.lastReadAt!)}: logs arrive, no parser accepts them`,
    ...[...sources]
      .sort((a, b) => b[1].read - a[1].read)
      .slice(0, 5)
      .map(([name, s]) => `${name}${s.type ? ` (${s.type})` : ''}: ${s.read} read, ${s.unparsed} unparsed`),
  ];
  return finding(
    'lp_no_logs_parsed',
    m,
    since,
    `${label} reads logs but has parsed none for ${ago(now, since)} (since ${formatRfc3339(since)}): no scenario can fire on them.`,
    [{ cause: 'logs_not_parsed', confidence: 'high', evidence }],
  );
}

function finding(kind: IssueKind, m: MachineHealthInput, since: number, summary: string, causes: LikelyCause[]): Finding {
  return { kind, criticality: ISSUE_CATALOGUE[kind].criticality, subject: `machine:${m.machineId}`, bouncerName: null, since, summary, causes, notes: [] };
}

function ago(now: number, t: number): string {
  return formatGoDuration(Math.round((now - t) / 1000) * 1000);
}
