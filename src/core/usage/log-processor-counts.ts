import type { LogProcessorReport } from './decode.ts';

/**
 * What an agent's usage report says about its logs (cs `cmd/crowdsec/lpmetrics.go@v1.7.8`): per window,
 * `read` (lines acquired, labels datasource_type/source), `global_parsed` / `global_unparsed` (lines
 * that went through every parser stage, or not) and `parsed` / `unparsed` per parser node. The values
 * are deltas since the previous push, and zero values are left out, so a window without a `read`
 * item read nothing. Pure.
 */
export interface SourceCounts {
  /** The datasource type (`file`, `journalctl`, `docker`, …), when the agent says. */
  type: string;
  read: number;
  parsed: number;
  unparsed: number;
}

export interface LogProcessorCounts {
  read: number;
  parsed: number;
  unparsed: number;
  /** Per source (a file path, a journal filter, a container), as labelled by the agent. */
  bySource: Record<string, SourceCounts>;
}

const SOURCE_KEPT = 200;

export function logProcessorCounts(report: Pick<LogProcessorReport, 'metrics'>): LogProcessorCounts {
  const out: LogProcessorCounts = { read: 0, parsed: 0, unparsed: 0, bySource: {} };
  const items = (report.metrics ?? []).flatMap((m) => m.items);
  // Agents before the global parser counters have only per-node ones: the first parsing stage
  // stands for "parsed" then (a line goes through several nodes; summing all of them would overcount).
  const hasGlobal = items.some((i) => i.name === 'global_parsed' || i.name === 'global_unparsed');
  const firstStage = items.some((i) => i.labels?.parser_stage === 's01-parse');
  const counts = (name: string, stage: string | undefined): 'read' | 'parsed' | 'unparsed' | null => {
    if (name === 'read') return 'read';
    if (hasGlobal) return name === 'global_parsed' ? 'parsed' : name === 'global_unparsed' ? 'unparsed' : null;
    if (name !== 'parsed' && name !== 'unparsed') return null;
    return !firstStage || stage === 's01-parse' ? name : null;
  };
  for (const i of items) {
    const what = counts(i.name, i.labels?.parser_stage);
    if (what === null || !(i.value > 0)) continue;
    out[what] += i.value;
    const source = i.labels?.source || i.labels?.datasource_type || '(no source label)';
    let s = out.bySource[source];
    if (!s) {
      if (Object.keys(out.bySource).length >= SOURCE_KEPT) continue;
      s = out.bySource[source] = { type: i.labels?.datasource_type ?? '', read: 0, parsed: 0, unparsed: 0 };
    }
    s[what] += i.value;
  }
  return out;
}
