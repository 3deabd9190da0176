import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Store } from '../store/store.ts';
import type { Clock } from '../lib/clock.ts';
import type { ListenAddress } from '../lib/listen-address.ts';
import { formatListen } from '../lib/listen-address.ts';
import { listenOn } from './listen.ts';
import type { DecisionSync } from '../decisions/decision-sync.ts';
import type { StoreHealth } from './store-health.ts';
import { listBouncers } from '../store/bouncers.ts';
import { openHealthIssues } from '../store/health-issues.ts';
import type { HealthRules } from '../core/health/types.ts';
import { registerFleetGauges } from './metrics-fleet.ts';
import { SlicedRegistry } from './sliced-registry.ts';

/**
 * Prometheus metrics, on their own listener (default 127.0.0.1:6071; CrowdSec keeps its own on 6060). Per-bouncer and
 * per-issue gauges are read from the store at scrape time, so every replica reports the same truth.
 */
export class LapiMetrics {
  readonly registry = new SlicedRegistry();
  readonly requests: Counter<'route' | 'method' | 'status'>;
  readonly refused: Counter<'reason'>;
  readonly connectionsRefused: Counter<'reason'>;
  readonly connectionsShed: Counter<'reason'>;
  readonly bodiesRefused: Counter<'reason'>;
  /** When the health engine last finished an evaluation (`evaluatedAt`); absent until the first. */
  #lastEvaluationAt: number | undefined;

  /**
   * `sync` null when there is no decision index to report (`vigil watch`: CrowdSec serves the decisions).
   * `rules`: the health rules in force, for the per-bouncer and per-machine status series (metrics-fleet.ts).
   */
  constructor(store: Store, clock: Clock, sync: DecisionSync | null, storeHealth?: StoreHealth, rules?: () => HealthRules) {
    // Scrape-time store reads are bounded too: while the store is down /metrics still answers, at once.
    const read = <T>(fn: () => Promise<T>, fallback: T): Promise<T> => (storeHealth ? storeHealth.call(fn).catch(() => fallback) : fn());
    this.requests = new Counter({
      name: 'vigil_lapi_requests_total',
      help: 'Local API requests by route, method and status.',
      labelNames: ['route', 'method', 'status'],
      registers: [this.registry],
    });
    // Refusals and sheds, each counted by its reason.
    const reasonCounter = (name: string, help: string) => new Counter({ name, help, labelNames: ['reason'], registers: [this.registry] });
    this.refused = reasonCounter('vigil_lapi_refused_requests_total', 'Bouncer requests refused (missing, unknown or revoked key) or sent to a wrong path.');
    this.connectionsRefused = reasonCounter(
      'vigil_lapi_connections_refused_total',
      'Connections closed on arrival: peer_cap (limits.max_connections_per_peer), fair_share (listener 3/4 full), listener_full.',
    );
    this.connectionsShed = reasonCounter(
      'vigil_lapi_connections_shed_total',
      'Idle connections closed to make room for a new one at a full cap: no_request (never sent one), unauthenticated (none of its requests authenticated).',
    );
    this.bodiesRefused = reasonCounter(
      'vigil_lapi_bodies_refused_total',
      'Requests refused before their body was read: too_large (over the route cap), unauthenticated (refused key).',
    );
    registerPullAndIssueGauges(this.registry, store, read);
    const metrics = this;
    new Gauge({
      name: 'vigil_health_last_evaluation_timestamp_seconds',
      help: 'Unix time the health engine last finished an evaluation (absent until the first): alert when it stops moving.',
      registers: [this.registry],
      collect() {
        if (metrics.#lastEvaluationAt !== undefined) this.set(metrics.#lastEvaluationAt / 1000);
      },
    });
    if (rules) registerFleetGauges(this.registry, { store, clock, rules, read });
    if (storeHealth) registerStoreMetrics(this.registry, storeHealth);
    if (sync) {
      new Gauge({
        name: 'vigil_decisions_active',
        help: "Active decisions in this server's index.",
        registers: [this.registry],
        collect() {
          this.set(sync.index.activeCount(clock.now()));
        },
      });
    }
  }

  /** The health engine finished an evaluation at `at` (subscribed to its `evaluated` topic). */
  evaluatedAt(at: number): void {
    this.#lastEvaluationAt = at;
  }

  /** Serves /metrics; resolves with the bound URL. */
  async listen(address: ListenAddress): Promise<{ url: string; close(): Promise<void> }> {
    const server = http.createServer(async (req, res) => {
      if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
        res.writeHead(404).end();
        return;
      }
      try {
        const body = await this.registry.metrics();
        res.writeHead(200, { 'Content-Type': this.registry.contentType }).end(body);
      } catch (e) {
        res.writeHead(500, { 'Content-Type': 'text/plain' }).end(`metrics failed: ${(e as Error).message}\n`);
      }
    });
    await listenOn(server, address, 'metrics_listen', 'pick another or set metrics_listen: off');
    const a = server.address() as AddressInfo;
    return {
      url: `http://${formatListen({ host: a.address, port: a.port })}/metrics`,
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
  }
}

type BoundedRead = <T>(fn: () => Promise<T>, fallback: T) => Promise<T>;

/** Per-bouncer last pulls and open issues, read from the store at scrape time. */
function registerPullAndIssueGauges(registry: Registry, store: Store, read: BoundedRead): void {
  new Gauge({
    name: 'vigil_bouncer_last_pull_timestamp_seconds',
    help: "Unix time of each bouncer's last decisions pull (absent until its first pull).",
    labelNames: ['bouncer', 'type'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const b of await read(() => listBouncers(store), [])) {
        if (b.lastPullAt !== null) this.set({ bouncer: b.name, type: b.type }, b.lastPullAt / 1000);
      }
    },
  });
  new Gauge({
    name: 'vigil_health_open_issues',
    help: 'Open health issues by kind and criticality.',
    labelNames: ['kind', 'criticality'],
    registers: [registry],
    async collect() {
      this.reset();
      const counts = new Map<string, { kind: string; criticality: string; n: number }>();
      for (const i of await read(() => openHealthIssues(store), [])) {
        const key = `${i.kind}|${i.criticality}`;
        const c = counts.get(key) ?? { kind: i.kind, criticality: i.criticality, n: 0 };
        c.n++;
        counts.set(key, c);
      }
      for (const c of counts.values()) this.set({ kind: c.kind, criticality: c.criticality }, c.n);
    },
  });
}

/** Whether the store answers, what is wrong with it, and how many calls failed. */
function registerStoreMetrics(registry: Registry, storeHealth: StoreHealth): void {
  new Gauge({
    name: 'vigil_store_up',
    help: '1 when the store answers, 0 while it is down, slow, full or lost (vigil_store_problem says which).',
    registers: [registry],
    collect() {
      this.set(storeHealth.state().store === 'up' ? 1 : 0);
    },
  });
  new Gauge({
    name: 'vigil_store_problem',
    help: '1 for what is wrong with the store: unreachable (bouncers answered from memory), disk_full (writes refused, 507), lost (the store file was deleted or replaced: writes refused, restore it and restart).',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      const s = storeHealth.state();
      const now = s.store === 'up' ? '' : s.store === 'lost' ? 'lost' : s.reason === 'disk full' ? 'disk_full' : 'unreachable';
      for (const reason of ['unreachable', 'disk_full', 'lost']) this.set({ reason }, reason === now ? 1 : 0);
    },
  });
  new Counter({
    name: 'vigil_store_errors_total',
    help: 'Store calls that failed or ran past their deadline.',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(storeHealth.errors);
    },
  });
}
