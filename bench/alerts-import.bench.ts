// A 100k `cscli decisions import` while bouncers pull: `vigil serve` on SQLite with 2,000 live
// bouncers (each pulled once first, so their addresses are claimed), 200 live pulls/s rotating over
// them (every key misses the 1 s key cache, so every pull reads the store), and one POST /v1/alerts
// carrying one alert of N decisions, as cscli sends an import. Reports the import's time and the
// pulls' latency while it runs (the import must not freeze them), any non-200 pull, and that a
// fresh startup holds all N decisions.
//
//   npx node bench/alerts-import.bench.ts     (env: N=100000; STREAM=1 adds a stream bouncer in 40
//                                             pulls, each getting the whole import as a delta)
import crypto from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashApiKey } from '../src/core/bouncers/api-key.ts';
import { hashMachinePassword } from '../src/lib/password.ts';
import { createMachine } from '../src/store/machines.ts';
import { Store } from '../src/store/store.ts';
import { freePort, sleep, spawnVigilServe, vigilEnv, waitFor } from './support.ts';
import { createBouncer } from '../src/store/bouncers.ts';
const ROOT = join(import.meta.dirname, '..');
const tmp = mkdtempSync(join(tmpdir(), 'imp-'));
const dbUrl = `sqlite:${join(tmp, 'vigil.db')}`;
const store = await Store.open(dbUrl);
const password = 'pw-' + crypto.randomBytes(8).toString('hex');
await createMachine(store, { machineId: 'cscli', passwordHash: await hashMachinePassword(password), now: Date.now(), isValidated: true });
const keys: string[] = [];
for (let i = 0; i < 2000; i++) {
  const k = crypto.randomBytes(16).toString('hex');
  keys.push(k);
  await createBouncer(store, { name: `b${i}`, apiKeyHash: hashApiKey(k), now: Date.now() });
}
await store.close();
const port = await freePort();
const server = spawnVigilServe(ROOT, vigilEnv(dbUrl, port), join(tmp, 'log'));
const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
const req = (method: string, path: string, headers: Record<string, string>, body?: string) =>
  new Promise<{ ms: number; status: number; body: string }>((resolve) => {
    const t = performance.now();
    const r = http.request(`http://127.0.0.1:${port}${path}`, { method, headers, agent }, (res) => {
      const c: Buffer[] = [];
      res.on('data', (d) => c.push(d));
      res.on('end', () => resolve({ ms: performance.now() - t, status: res.statusCode!, body: Buffer.concat(c).toString() }));
    });
    r.on('error', () => resolve({ ms: performance.now() - t, status: 0, body: '' }));
    r.end(body);
  });
await waitFor('vigil serve /health', async () => (await req('GET', '/health', {})).status === 200, 20_000);
const login = await req(
  'POST',
  '/v1/watchers/login',
  { 'Content-Type': 'application/json', 'User-Agent': 'cscli/v1.4.6' },
  JSON.stringify({ machine_id: 'cscli', password, scenarios: [] }),
);
const token = JSON.parse(login.body).token;
const now = new Date().toISOString();
const N = Number(process.env.N ?? 100000);
const decisions = Array.from({ length: N }, (_, i) => ({
  duration: '4h',
  origin: 'cscli',
  scenario: 'import',
  scope: 'Ip',
  type: 'ban',
  value: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
}));
const body = JSON.stringify([
  {
    capacity: 0,
    created_at: now,
    decisions,
    events: [],
    events_count: 1,
    labels: null,
    leakspeed: '0',
    message: `import ${N}`,
    scenario: 'import',
    scenario_hash: '',
    scenario_version: '',
    simulated: false,
    source: { scope: 'cscli/manual import', value: 'import' },
    start_at: now,
    stop_at: now,
  },
]);
console.log(`body ${(body.length / 1e6).toFixed(1)} MB`);
for (let i = 0; i < 2000; i += 100)
  await Promise.all(keys.slice(i, i + 100).map((key) => req('GET', '/v1/decisions?ip=10.9.9.9', { 'X-Api-Key': key, 'User-Agent': 'b/v1' })));
await sleep(1500);
// pulls: 200/s live, rotating over 2000 keys (each key every 10 s: never cached), plus 5 stream bouncers
let stop = false;
let bad = 0;
let badText = '';
const lat: Array<[number, number]> = [];
const t0 = performance.now();
const loop = (async () => {
  let k = 0;
  while (!stop) {
    const key = keys[k % 2000]!;
    const path = process.env.STREAM === '1' && k % 40 === 0 ? '/v1/decisions/stream' : `/v1/decisions?ip=10.1.2.${k & 255}`;
    const sent = performance.now();
    void req('GET', path, { 'X-Api-Key': key, 'User-Agent': 'b/v1' }).then((r) => {
      lat.push([sent - t0, r.ms]);
      if (r.status !== 200) {
        bad++;
        badText ||= `${r.status} ${r.body.slice(0, 200)}`;
      }
    });
    k++;
    await sleep(5);
  }
})();
await sleep(2000);
const ti = performance.now();
const post = await req('POST', '/v1/alerts', { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', 'User-Agent': 'cscli/v1.4.6' }, body);
const importMs = performance.now() - ti;
await sleep(2000);
stop = true;
await loop;
await sleep(500);
const during = lat
  .filter(([at]) => at >= ti - t0 - 1 && at <= ti - t0 + importMs)
  .map(([, ms]) => ms)
  .sort((a, b) => a - b);
const all = lat.map(([, ms]) => ms).sort((a, b) => a - b);
const startup = await req('GET', '/v1/decisions/stream?startup=true', { 'X-Api-Key': keys[1999]!, 'User-Agent': 'check/v1' });
console.log(
  `import: status ${post.status} in ${importMs.toFixed(0)} ms; pulls during it: ${during.length}, p50 ${during[Math.floor(during.length / 2)]?.toFixed(1)} max ${during.at(-1)?.toFixed(1)} ms; all pulls max ${all.at(-1)?.toFixed(1)} ms; startup has ${(JSON.parse(startup.body).new ?? []).length} decisions`,
);
console.log(`pulls not 200: ${bad}${badText ? ` (first: ${badText})` : ''}`);
server.kill('SIGTERM');
await new Promise((r) => server.once('exit', r));
rmSync(tmp, { recursive: true, force: true });
process.exit(0);
