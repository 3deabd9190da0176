// One read worker of the multi-process prototype measured by bench/multi-core.bench.ts (issue 28
// item 4). It is `vigil serve`'s bouncer hot path and nothing else: the same DecisionSync (the
// index follows the store revision the writer bumps), BouncerAuth, BouncerGate, ActivityRecorder
// and createDecisionRoutes (`?ip=` and `/v1/decisions/stream`) as serve.ts wires them, on a
// listener opened with SO_REUSEPORT so N of these share one port and the kernel spreads the
// connections. Not a product mode: no metrics, no Hono routes, no health engine, no TLS.
//
//   node bench/multi-core-worker.ts   (env: VIGIL_DB=sqlite:..., PORT=...)
//
// Prints `ready <rev>` on stdout once its index is loaded and it listens.
import http from 'node:http';
import { systemClock } from '../src/lib/clock.ts';
import { createLogger } from '../src/lib/logger.ts';
import { Store } from '../src/store/store.ts';
import { secret } from '../src/store/meta.ts';
import { DecisionSync } from '../src/decisions/decision-sync.ts';
import { ActivityRecorder } from '../src/server/activity.ts';
import { BouncerAuth } from '../src/server/auth.ts';
import { BouncerGate } from '../src/server/bouncer-gate.ts';
import { createDecisionRoutes } from '../src/server/decision-routes.ts';

const db = process.env.VIGIL_DB;
const port = Number(process.env.PORT);
if (!db || !port) throw new Error('multi-core-worker: set VIGIL_DB (the writer’s store) and PORT (shared with the other workers)');

const clock = systemClock;
const log = createLogger('warn');
// No role claim: the store belongs to the running `vigil serve` (the one writer); this process
// only reads decisions, and writes bouncer bookkeeping as any replica does.
const store = await Store.open(db, { timeoutMs: 5_000 });
const sync = new DecisionSync(store, clock);
await sync.start(250); // decisions_sync_every's default
const activity = new ActivityRecorder(store);
activity.onError = (e) => log.warn({ err: e }, 'activity flush failed');
activity.start(1_000); // activity_flush_every's default
const auth = new BouncerAuth(store, clock);
const gate = new BouncerGate({ clock, auth, activity, log, fingerprintSecret: await secret(store, 'fingerprint') });
const routes = createDecisionRoutes({ store, sync, activity, gate, log });

const server = http.createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  if (!routes(req, res)) {
    res.writeHead(404, { 'Content-Length': '0' });
    res.end();
  }
});
// reusePort: every worker binds the same port; Linux hashes each new connection to one of them.
server.listen({ host: '127.0.0.1', port, reusePort: true }, () => {
  process.stdout.write(`ready ${sync.rev}\n`);
});

process.once('SIGTERM', () => {
  sync.stop();
  gate.stop();
  server.close();
  server.closeAllConnections();
  void activity
    .stop()
    .catch(() => {})
    .finally(() => store.close().finally(() => process.exit(0)));
});
