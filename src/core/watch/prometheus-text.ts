/**
 * The few Prometheus samples `vigil watch` reads from CrowdSec's metrics endpoint, from the text
 * exposition format (version 0.0.4). Pure.
 *
 * A tiny parser of our own on purpose: the one Prometheus package installed (prom-client) is a
 * registry that writes this format and cannot read it, and the samples needed (counters with a few
 * quoted labels) take one regular expression; no well-kept reader of the format exists for Node
 * without pulling in a whole client.
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?$/;
const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?/y;

/** Every sample of the families whose names `wanted` accepts; unreadable lines are skipped. */
export function parsePrometheusText(text: string, wanted: (name: string) => boolean = () => true): Sample[] {
  const out: Sample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = SAMPLE.exec(line);
    if (!m || !wanted(m[1]!)) continue;
    const labels: Record<string, string> = {};
    const body = m[2] ?? '';
    LABEL.lastIndex = 0;
    let ok = true;
    while (LABEL.lastIndex < body.length) {
      const l = LABEL.exec(body);
      if (!l) {
        ok = body.slice(LABEL.lastIndex).trim() === '';
        break;
      }
      labels[l[1]!] = l[2]!.replace(/\\(["\\n])/g, (_a, c: string) => (c === 'n' ? '\n' : c));
    }
    const value = m[3] === '+Inf' ? Number.POSITIVE_INFINITY : m[3] === '-Inf' ? Number.NEGATIVE_INFINITY : Number(m[3]);
    if (ok && !Number.isNaN(value)) out.push({ name: m[1]!, labels, value });
  }
  return out;
}

/** CrowdSec's Local API counters (pkg/apiserver: `cs_lapi_bouncer_requests_total{bouncer,route,method}`, `cs_lapi_machine_requests_total{machine,route,method}`). */
export interface LapiCounters {
  /** Requests per bouncer name, per route (`GET /v1/decisions/stream` → count). */
  bouncers: Map<string, Map<string, number>>;
  machines: Map<string, Map<string, number>>;
  /** `process_start_time_seconds` × 1000, when exposed: when CrowdSec's process started. */
  processStartAt: number | null;
}

export function lapiCounters(text: string): LapiCounters {
  const out: LapiCounters = { bouncers: new Map(), machines: new Map(), processStartAt: null };
  const wanted = new Set(['cs_lapi_bouncer_requests_total', 'cs_lapi_machine_requests_total', 'process_start_time_seconds']);
  for (const s of parsePrometheusText(text, (n) => wanted.has(n))) {
    if (s.name === 'process_start_time_seconds') {
      out.processStartAt = Math.round(s.value * 1000);
      continue;
    }
    const who = s.name === 'cs_lapi_bouncer_requests_total' ? s.labels.bouncer : s.labels.machine;
    if (!who) continue;
    const map = s.name === 'cs_lapi_bouncer_requests_total' ? out.bouncers : out.machines;
    let routes = map.get(who);
    if (!routes) map.set(who, (routes = new Map()));
    const route = `${s.labels.method ?? ''} ${s.labels.route ?? ''}`;
    routes.set(route, (routes.get(route) ?? 0) + s.value);
  }
  return out;
}

export interface CounterChange {
  /** Bouncers whose pull counters rose, with by how much. */
  bouncerPulls: Map<string, number>;
  /** Bouncers with any request counted since the last scrape. */
  bouncersSeen: Set<string>;
  /** Machines with any request counted (heartbeat, alerts, …), and which routes. */
  machinesSeen: Map<string, Set<string>>;
  /** A counter went down, or the process start time moved: CrowdSec restarted. */
  restarted: boolean;
}

const PULL_ROUTES = new Set(['GET /v1/decisions/stream', 'GET /v1/decisions']);

/** What changed between two scrapes. After a restart, counts are taken from zero. */
export function counterChange(prev: LapiCounters, cur: LapiCounters): CounterChange {
  let restarted = prev.processStartAt !== null && cur.processStartAt !== null && cur.processStartAt !== prev.processStartAt;
  const each = (a: Map<string, Map<string, number>>, b: Map<string, Map<string, number>>, fn: (who: string, route: string, delta: number) => void) => {
    for (const [who, routes] of b)
      for (const [route, v] of routes) {
        const before = a.get(who)?.get(route) ?? 0;
        if (v < before) restarted = true;
        fn(who, route, v - before);
      }
  };
  // First pass: is it a restart (any counter down)?
  each(prev.bouncers, cur.bouncers, () => {});
  each(prev.machines, cur.machines, () => {});
  const base = restarted ? { bouncers: new Map(), machines: new Map(), processStartAt: null } : prev;
  const change: CounterChange = { bouncerPulls: new Map(), bouncersSeen: new Set(), machinesSeen: new Map(), restarted };
  each(base.bouncers, cur.bouncers, (who, route, d) => {
    if (d <= 0) return;
    change.bouncersSeen.add(who);
    if (PULL_ROUTES.has(route)) change.bouncerPulls.set(who, (change.bouncerPulls.get(who) ?? 0) + d);
  });
  each(base.machines, cur.machines, (who, route, d) => {
    if (d <= 0) return;
    let s = change.machinesSeen.get(who);
    if (!s) change.machinesSeen.set(who, (s = new Set()));
    s.add(route);
  });
  return change;
}
