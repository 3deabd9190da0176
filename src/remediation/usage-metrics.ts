/**
 * Usage metrics in CrowdSec's format (`POST /v1/usage-metrics`, docs/reference/crowdsec-docs-notes.md §2.5, the remediation
 * component metrics spec): counters since the last successful push, then one
 * `remediation_components` item with `processed` (every request looked at, bypass included),
 * `dropped` (requests remediated, per origin and remediation) and `active_decisions` (per origin and
 * IP family, unit `ip`). Counting is plain integer work on the request path; the payload is built
 * only at push time. Pure apart from the `now` the caller passes.
 */
import os from 'node:os';
import type { Decision } from '../core/model/records.ts';
import type { IpFamily } from '../lib/ip.ts';
import type { Remediation } from './decision-cache.ts';
import { BOUNCER_TYPE, BOUNCER_VERSION } from './version.ts';

export interface MetricItem {
  name: 'processed' | 'dropped' | 'active_decisions';
  value: number;
  unit: 'request' | 'ip';
  labels: Record<string, string>;
}

export interface UsageMetricsPayload {
  remediation_components: [
    {
      type: string;
      name: string;
      version: string;
      os: { name: string; version: string };
      feature_flags: string[];
      utc_startup_timestamp: number;
      last_pull?: number;
      metrics: [{ meta: { window_size_seconds: number; utc_now_timestamp: number }; items: MetricItem[] }];
    },
  ];
}

const ipType = (family: IpFamily): string => (family === 4 ? 'ipv4' : 'ipv6');

/** The origin label: CrowdSec wants `lists:<list>` for blocklist decisions (the list is the scenario). */
export function originLabel(d: Pick<Decision, 'origin' | 'scenario'>): string {
  return d.origin === 'lists' && d.scenario !== '' ? `lists:${d.scenario}` : d.origin;
}

export class UsageCounters {
  processedV4 = 0;
  processedV6 = 0;
  /** `origin\u0000remediation\u0000ip_type` → count. */
  readonly dropped = new Map<string, number>();
  /** Start of the window the counters cover. */
  windowStart: number;

  constructor(now: number) {
    this.windowStart = now;
  }

  processed(family: IpFamily): void {
    if (family === 4) this.processedV4++;
    else this.processedV6++;
  }

  drop(origin: string, remediation: Exclude<Remediation, 'bypass'>, family: IpFamily): void {
    const key = `${origin}\u0000${remediation}\u0000${ipType(family)}`;
    this.dropped.set(key, (this.dropped.get(key) ?? 0) + 1);
  }

  /** The counters as metric items, with `active_decisions` from the cache's current set. */
  items(active: readonly Decision[]): MetricItem[] {
    const items: MetricItem[] = [];
    if (this.processedV4 > 0) items.push({ name: 'processed', value: this.processedV4, unit: 'request', labels: { ip_type: 'ipv4' } });
    if (this.processedV6 > 0) items.push({ name: 'processed', value: this.processedV6, unit: 'request', labels: { ip_type: 'ipv6' } });
    for (const [key, value] of this.dropped) {
      const [origin, remediation, ip_type] = key.split('\u0000');
      items.push({ name: 'dropped', value, unit: 'request', labels: { origin: origin!, remediation: remediation!, ip_type: ip_type! } });
    }
    const byOrigin = new Map<string, number>();
    for (const d of active) {
      const key = `${originLabel(d)}\u0000${d.value.includes(':') ? 'ipv6' : 'ipv4'}`;
      byOrigin.set(key, (byOrigin.get(key) ?? 0) + 1);
    }
    for (const [key, value] of byOrigin) {
      const [origin, ip_type] = key.split('\u0000');
      items.push({ name: 'active_decisions', value, unit: 'ip', labels: { origin: origin!, ip_type: ip_type! } });
    }
    return items;
  }

  /** After a successful push: the next window starts now, from zero. */
  reset(now: number): void {
    this.processedV4 = 0;
    this.processedV6 = 0;
    this.dropped.clear();
    this.windowStart = now;
  }
}

export interface PayloadInput {
  counters: UsageCounters;
  active: readonly Decision[];
  now: number;
  startedAt: number;
  lastPullAt: number | null;
  name?: string;
}

export function usageMetricsPayload(input: PayloadInput): UsageMetricsPayload {
  const s = (ms: number) => Math.floor(ms / 1000);
  return {
    remediation_components: [
      {
        type: BOUNCER_TYPE,
        name: input.name ?? BOUNCER_TYPE,
        version: BOUNCER_VERSION,
        os: { name: os.type().toLowerCase(), version: os.release() },
        feature_flags: [], // "expected to be empty for remediation components" (docs/reference/crowdsec-docs-notes.md §2.5)
        utc_startup_timestamp: s(input.startedAt),
        ...(input.lastPullAt !== null ? { last_pull: s(input.lastPullAt) } : {}),
        metrics: [
          {
            meta: { window_size_seconds: Math.max(0, s(input.now - input.counters.windowStart)), utc_now_timestamp: s(input.now) },
            items: input.counters.items(input.active),
          },
        ],
      },
    ],
  };
}
