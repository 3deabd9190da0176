import type { RemediationComponentReport } from './decode.ts';

/**
 * A bouncer's own counters from its latest usage-metrics report, as Prometheus series
 * (`vigil_bouncer_reported`): what CrowdSec users ask for (crowdsecurity/crowdsec#3742, #3571).
 * `dropped` and `processed` are counts over the report's windows (summed); `active_decisions` is a
 * level (the newest window's). Labels are the ones the bouncers send (origin, remediation, ip_type),
 * cut to LABEL_MAX characters, and at most SERIES_MAX series per bouncer: a report is the bouncer's
 * input, and a hostile one must not grow the scrape without bound. Pure.
 */
export interface ReportedSeries {
  name: string;
  unit: string;
  origin: string;
  remediation: string;
  ip_type: string;
  value: number;
}

export const SERIES_MAX = 64;
export const LABEL_MAX = 64;
/** Item names that are levels, not counts. */
const LEVELS = new Set(['active_decisions']);

const label = (v: unknown): string => (typeof v === 'string' ? v.slice(0, LABEL_MAX) : '');

export function reportedSeries(report: Pick<RemediationComponentReport, 'metrics'> | null | undefined): ReportedSeries[] {
  const windows = [...(report?.metrics ?? [])].sort((a, b) => (a.meta?.utc_now_timestamp ?? 0) - (b.meta?.utc_now_timestamp ?? 0));
  const out = new Map<string, ReportedSeries>();
  for (const w of windows) {
    // A level is the newest window's value: drop what older windows said.
    const levelsHere = new Set<string>();
    for (const item of w.items ?? []) {
      if (typeof item?.name !== 'string' || typeof item.value !== 'number' || !Number.isFinite(item.value)) continue;
      const l = item.labels ?? {};
      const s: ReportedSeries = {
        name: label(item.name),
        unit: label(item.unit),
        origin: label(l.origin),
        remediation: label(l.remediation),
        ip_type: label(l.ip_type),
        value: item.value,
      };
      const key = `${s.name}\u0000${s.unit}\u0000${s.origin}\u0000${s.remediation}\u0000${s.ip_type}`;
      const known = out.get(key);
      if (LEVELS.has(s.name)) {
        if (!levelsHere.has(key) && known) known.value = 0;
        levelsHere.add(key);
        if (known) known.value += s.value;
        else if (out.size < SERIES_MAX) out.set(key, s);
      } else if (known) known.value += s.value;
      else if (out.size < SERIES_MAX) out.set(key, s);
    }
  }
  return [...out.values()];
}
